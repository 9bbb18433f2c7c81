"""Filters of the public lists: county → township → kind.

Division names are static reference data, so the county and township choices come from the cache:
a public list page then costs its count, its rows and the (small, editable) kind list.
"""

import django_filters

from django import forms
from django.core.cache import cache
from django.db.models import Q
from django.forms.utils import flatatt
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from portal.filters import region_choices
from portal.models import Region, RegionLevel
from volunteers.models import (
    Activity,
    ActivityKind,
    GiverKind,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    VolunteerProfile,
    skill_categories,
)
from volunteers.profiles import organisations_for_staff

CHOICES_TTL = 3600


class PlainSelect(forms.Select):
    """A <select> written out in Python.

    Django renders every <option> through a template of its own; for the few hundred villages of a county
    that cost more than all the page's queries. Same markup, same selected value, no option template.
    """

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = set(self.format_value(value))
        options = "".join(
            f'<option value="{escape(option)}"{" selected" if str(option) in selected else ""}>{escape(label)}</option>'
            for option, label in self.choices
        )
        return mark_safe(f"<select{flatatt(final_attrs)}>{options}</select>")  # every part escaped above


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
        label=_("County / district"), method="in_region", empty_label=_("All counties"), widget=PlainSelect
    )
    township = django_filters.ChoiceFilter(
        label=_("Township / town"), method="in_region", empty_label=_("All townships"), widget=PlainSelect
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
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=ActivityKind.choices, empty_label=_("All kinds"), widget=PlainSelect
    )

    class Meta:
        model = Activity
        fields = ["county", "township", "kind"]


class OrganisationFilter(_PlaceFilter):
    region_path = "region"
    kind = django_filters.ModelChoiceFilter(
        label=_("Kind"), queryset=OrganisationKind.objects.all(), empty_label=_("All kinds"), widget=PlainSelect
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


SPARE_CHOICES = [("yes", _("Can pair with more elders")), ("no", _("No spare capacity"))]


def _skill_choices(request):
    return skill_categories()


class VolunteerStaffFilter(django_filters.FilterSet):
    """The staff's list of givers: who, where, which skills and organisation, spare capacity, hours."""

    q = django_filters.CharFilter(label=_("Name or mobile number"), method="search")
    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=GiverKind.choices, empty_label=_("All kinds"), widget=PlainSelect
    )
    skill = django_filters.ModelChoiceFilter(
        label=_("Skill"), field_name="skills", queryset=_skill_choices, empty_label=_("Any skill"), widget=PlainSelect
    )
    region = django_filters.ChoiceFilter(
        label=_("Township or village"), method="in_region", empty_label=_("All"), widget=PlainSelect
    )
    # plain (pk, name) choices: the organisations of a county are a hundred or more, no model objects needed
    organisation = django_filters.ChoiceFilter(
        label=_("Organisation"), method="in_organisation", empty_label=_("Any"), widget=PlainSelect
    )
    spare = django_filters.ChoiceFilter(
        label=_("Pairing capacity"), choices=SPARE_CHOICES, method="by_spare", empty_label=_("Any"), widget=PlainSelect
    )
    hours_min = django_filters.NumberFilter(label=_("At least (hours)"), method="by_hours", min_value=0)
    hours_max = django_filters.NumberFilter(label=_("At most (hours)"), method="by_hours", min_value=0)

    class Meta:
        model = VolunteerProfile
        fields = ["q", "kind", "skill", "region", "organisation", "spare", "hours_min", "hours_max"]

    @property
    def form(self):
        form = super().form
        if not getattr(self, "_choices_set", False):
            # each filter adds its own empty choice ("All", "Any") when listed: not a second one
            form.fields["region"].choices = region_choices(self.request.user)
            organisations = organisations_for_staff(self.request.user).values_list("pk", "name")
            form.fields["organisation"].choices = [(str(pk), name) for pk, name in organisations]
            form.fields["q"].widget = forms.TextInput(attrs={"type": "search", "autocomplete": "off"})
            for name in ("hours_min", "hours_max"):
                form.fields[name].widget.attrs.update({"inputmode": "decimal", "step": "any"})
            self._choices_set = True
        return form

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(user__real_name__contains=value) | Q(user__phone__contains=value))

    def in_region(self, queryset, name, value):
        """A township (its code ends in 000) covers its villages: a range on the fixed-width code."""
        prefix = value[:9] if value[9:] == "000" else value
        return queryset.filter(village__code__range=(prefix.ljust(12, "0"), prefix.ljust(12, "9")))

    def in_organisation(self, queryset, name, value):
        return queryset.filter(
            user__memberships__organisation_id=int(value), user__memberships__status=MembershipStatus.ACTIVE
        )

    def by_spare(self, queryset, name, value):
        return queryset.filter(spare__gt=0) if value == "yes" else queryset.filter(spare=0)

    def by_hours(self, queryset, name, value):
        minutes = round(float(value) * 60)
        return queryset.filter(
            **{"volunteer_minutes__gte" if name == "hours_min" else "volunteer_minutes__lte": minutes}
        )
