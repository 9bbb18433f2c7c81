"""Reads and writes of the care-service list shared by the CMS, pairing and purchasing."""

from django.db import transaction
from django.db.models import Q, QuerySet

from portal.models import Region
from services.catalogue.models import DEFAULT_CATEGORIES, ServiceCategory, ServiceItem


@transaction.atomic
def categories_ensure() -> list[ServiceCategory]:
    """Create the policy's default categories if missing (idempotent; never renames edited ones)."""
    result = []
    for order, (slug, name) in enumerate(DEFAULT_CATEGORIES, start=1):
        category, _ = ServiceCategory.objects.get_or_create(slug=slug, defaults={"name": name, "sort_order": order})
        result.append(category)
    return result


def items_published() -> QuerySet[ServiceItem]:
    return ServiceItem.objects.published()


def items_covering(region: Region) -> QuerySet[ServiceItem]:
    """Published items offered in `region`: covering it, an ancestor or a part of it, or covering everywhere.

    A region's ancestors are its code's prefixes padded with zeros, so the test is a handful of equalities
    plus one prefix match for the parts below it.
    """
    ancestors = {region.code[:n].ljust(12, "0") for n in (2, 4, 6, 9, 12)}
    return (
        items_published()
        .filter(Q(regions__isnull=True) | Q(regions__code__in=ancestors) | Q(regions__code__startswith=region.prefix))
        .distinct()
    )
