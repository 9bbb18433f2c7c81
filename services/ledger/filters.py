"""Ledger list filters: region in scope, priority, ability, economic status, last contact, status, flags."""

import datetime

import django_filters

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.filters import region_choices
from portal.identity import ID_RE, keyed_hash, normalise_resident_id
from portal.scoping import prefix_range
from services.ledger.models import (
    LEDGER_FLAG_CONDITIONS,
    LEDGER_FLAG_LABELS,
    AbilityLevel,
    EconomicStatus,
    ElderStatus,
    LivingArrangement,
    PriorityLevel,
)

LAST_VISIT_CHOICES = [
    ("7", _("No contact for 7+ days")),
    ("30", _("No contact for 30+ days")),
    ("90", _("No contact for 90+ days")),
    ("never", _("Never contacted")),
]
STATUS_CHOICES = [("all", _("All, including those who left the ledger")), *ElderStatus.choices]


class ElderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or full ID number"), method="search")
    region = django_filters.ChoiceFilter(label=_("Township or village"), method="in_region", empty_label=_("All"))
    priority = django_filters.ChoiceFilter(
        label=_("Priority"), choices=PriorityLevel.choices, field_name="priority_level", empty_label=_("All")
    )
    ability_level = django_filters.ChoiceFilter(label=_("Ability"), choices=AbilityLevel.choices, empty_label=_("All"))
    economic_status = django_filters.ChoiceFilter(
        label=_("Economic status"), choices=EconomicStatus.choices, empty_label=_("All")
    )
    living_arrangement = django_filters.ChoiceFilter(
        label=_("Living arrangement"), choices=LivingArrangement.choices, empty_label=_("All")
    )
    last_visit = django_filters.ChoiceFilter(
        label=_("Last contact"), choices=LAST_VISIT_CHOICES, method="by_last_visit", empty_label=_("Any")
    )
    flag = django_filters.ChoiceFilter(
        label=_("Ledger gap"), choices=list(LEDGER_FLAG_LABELS.items()), method="by_flag", empty_label=_("Any")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=STATUS_CHOICES, method="by_status", empty_label=_("On the ledger")
    )

    def __init__(self, data=None, *args, request=None, **kwargs):
        # always bound, so the default (active elders only) applies to the first page too
        super().__init__(data if data is not None else {}, *args, request=request, **kwargs)
        self._scope_regions = None

    @property
    def form(self):
        form = super().form
        if not getattr(self, "_choices_set", False):
            user = self.request.user if self.request else None
            # the filter's own empty choice ("All") is added when the choices are listed: not a second one
            form.fields["region"].choices = region_choices(user)
            form.fields["q"].widget = forms.TextInput(attrs={"type": "search", "autocomplete": "off"})
            self._choices_set = True
        return form

    def search(self, queryset, name, value):
        value = value.strip()
        number = normalise_resident_id(value)
        if ID_RE.match(number):
            return queryset.filter(id_hash=keyed_hash(number))  # exact lookup through the keyed hash
        return queryset.filter(Q(name__contains=value) | Q(address__contains=value))

    def in_region(self, queryset, name, value):
        """A township's villages or one village: the code range of its prefix (a foreign key takes no
        `startswith`; the range is answered from the village column's index, without a join)."""
        prefix = value[:9] if value[9:] == "000" else value
        return queryset.filter(village__code__range=prefix_range(prefix))

    def by_last_visit(self, queryset, name, value):
        if value == "never":
            return queryset.filter(last_visit_at__isnull=True)
        since = timezone.now() - datetime.timedelta(days=int(value))
        return queryset.filter(Q(last_visit_at__lt=since) | Q(last_visit_at__isnull=True))

    def by_flag(self, queryset, name, value):
        return queryset.filter(LEDGER_FLAG_CONDITIONS[value]())

    def by_status(self, queryset, name, value):
        if value == "all":
            return queryset
        return queryset.filter(status=value)

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status=ElderStatus.ACTIVE)
        return queryset
