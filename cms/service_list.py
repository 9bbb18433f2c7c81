"""Reads of the public care-service list page: the county/township filter and items grouped by category.

Every read is a fixed number of queries (counties, townships of the chosen county, items, their
regions), whatever the number of items. Unknown filter values never fail: the list falls back to the
widest valid filter and says so.
"""

from itertools import groupby

from django.utils.translation import gettext_lazy as _

from portal.models import Region, RegionLevel
from services.catalogue.models import ServiceItem
from services.catalogue.selectors import items_covering, items_published

UNKNOWN_COUNTY = _("We do not know that county; the whole list is shown.")
UNKNOWN_TOWNSHIP = _("That township is not in the chosen county; the whole county is shown.")

NINGXIA_PREFIX = "64"


def service_list_context(params) -> dict:
    """Context for the list: counties and townships to choose from, the valid filter, notices, groups."""
    county_code = (params.get("county") or "").strip()[:12]
    township_code = (params.get("township") or "").strip()[:12]
    if township_code and not county_code and township_code.isdigit() and len(township_code) == 12:
        county_code = township_code[:6] + "000000"
    notices = []

    counties = list(
        Region.objects.filter(level=RegionLevel.COUNTY, code__startswith=NINGXIA_PREFIX).only("code", "name", "level")
    )
    county = next((c for c in counties if c.code == county_code), None)
    if county_code and county is None:
        notices.append(UNKNOWN_COUNTY)

    townships, township = [], None
    if county is not None:
        townships = list(Region.objects.filter(parent=county, level=RegionLevel.TOWNSHIP).only("code", "name", "level"))
        if township_code:
            township = next((t for t in townships if t.code == township_code), None)
            if township is None:
                notices.append(UNKNOWN_TOWNSHIP)

    if township_code and township is None and UNKNOWN_TOWNSHIP not in notices and not notices:
        notices.append(UNKNOWN_TOWNSHIP)

    region = township or county
    items = items_covering(region) if region is not None else items_published()
    items = list(items.order_by("category__sort_order", "category__name", "sort_order", "name"))
    attach_region_names(items)
    groups = [(category, list(rows)) for category, rows in groupby(items, key=lambda i: i.category)]
    return {
        "counties": counties,
        "townships": townships,
        "county": county,
        "township": township,
        "region": region,
        "notices": notices,
        "groups": groups,
        "item_count": len(items),
    }


def attach_region_names(items: list) -> None:
    """Set `item.region_names` (empty: all of Ningxia) for every item, in one query over the link table."""
    names: dict[int, list[str]] = {item.pk: [] for item in items}
    links = (
        ServiceItem.regions.through.objects.filter(serviceitem_id__in=names)
        .order_by("region_id")
        .values_list("serviceitem_id", "region__name")
    )
    for item_id, name in links:
        names[item_id].append(name)
    for item in items:
        item.region_names = names[item.pk]
