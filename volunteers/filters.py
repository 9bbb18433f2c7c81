"""Filters of the public lists: county → township → kind.

Division names are static reference data, so the county and township choices come from the cache:
a public list page then costs its count, its rows and the (small, editable) kind list.
"""

import django_filters

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from portal.models import Region, RegionLevel

from .models import (
    Activity,
    ActivityKind,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)

CHOICES_TTL = 3600


def county_choices() -> list[tuple[str, str]]:
    def load():
        counties = Region.objects.filter(level=RegionLevel.COUNTY, code__startswith="64").select_related("parent")
        return [(r.code, f"{r.parent.name} · {r.name}") for r in counties]

    return cache.get_or_set("volunteers:county-choices", load, CHOICES_TTL)


def township_choices(county: str) -> list[tuple[str, str]]:
    if not (len(county) == 12 and county.isdigit() and county.endswith("000000")):
        return []
    return cache.get_or_set(
        f"volunteers:township-choices:{county}",
        lambda: list(Region.objects.filter(parent_id=county).values_list("code", "name")),
        CHOICES_TTL,
    )


class _PlaceFilter(django_filters.FilterSet):
    region_path = "village"
    county = django_filters.ChoiceFilter(
        label=_("County / district"), method="in_region", empty_label=_("All counties")
    )
    township = django_filters.ChoiceFilter(
        label=_("Township / town"), method="in_region", empty_label=_("All townships")
    )

    def __init__(self, data=None, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["county"].extra["choices"] = county_choices()
        self.filters["township"].extra["choices"] = township_choices((data or {}).get("county", ""))

    def in_region(self, queryset, name, value):
        if not value:
            return queryset
        prefix = value[:6] if name == "county" else value[:9]
        return queryset.filter(**{f"{self.region_path}__code__startswith": prefix})


class ActivityFilter(_PlaceFilter):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=ActivityKind.choices, empty_label=_("All kinds"))

    class Meta:
        model = Activity
        fields = ["county", "township", "kind"]


class OrganisationFilter(_PlaceFilter):
    region_path = "region"
    kind = django_filters.ModelChoiceFilter(
        label=_("Kind"), queryset=OrganisationKind.objects.all(), empty_label=_("All kinds")
    )
    q = django_filters.CharFilter(label=_("Name"), field_name="name", lookup_expr="contains")

    class Meta:
        model = Organisation
        fields = ["county", "township", "kind", "q"]


class MemberFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=MembershipStatus.choices, empty_label=_("All"))

    class Meta:
        model = Membership
        fields = ["status"]


class ReviewFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=OrganisationStatus.choices, empty_label=_("All"))

    class Meta:
        model = Organisation
        fields = ["status"]
