"""Tables and the filter of the spot-check list (screen and export)."""

import django_filters
import django_tables2 as tables

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.care.tables import AreaChoiceFilter
from services.spotchecks.models import SpotCheck, SpotCheckKind, SpotCheckOutcome


class SpotCheckFilter(django_filters.FilterSet):
    outcome = django_filters.ChoiceFilter(
        label=_("Call-back result"), choices=SpotCheckOutcome.choices, empty_label=_("All")
    )
    kind = django_filters.ChoiceFilter(label=_("What was drawn"), choices=SpotCheckKind.choices, empty_label=_("All"))
    area = AreaChoiceFilter()

    class Meta:
        model = SpotCheck
        fields = ["outcome", "kind", "area"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["area"].label_from_instance = self.filters["area"].label_from_instance


def _labelled(table) -> None:
    for bound in table.columns:
        bound.column.attrs = {
            **bound.column.attrs,
            "td": {**bound.column.attrs.get("td", {}), "data-label": str(bound.verbose_name)},
        }


class SpotCheckTable(tables.Table):
    elder = tables.Column(
        accessor="elder__name",
        verbose_name=_("Elder"),
        order_by=("elder__name", "pk"),
        linkify=lambda record: reverse("services:spotcheck-detail", args=[record.pk]),
        attrs={"td": {"class": "card-title"}},
    )
    village = tables.Column(accessor="village__name", verbose_name=_("Village"), order_by=("village_id", "pk"))
    kind = tables.Column(verbose_name=_("What was drawn"))
    provider = tables.Column(accessor="organisation__name", verbose_name=_("Provider"), default="—")
    month = tables.Column(accessor="draw__month", verbose_name=_("Month"), order_by=("draw__month", "pk"))
    outcome = tables.Column(verbose_name=_("Call-back result"))

    class Meta:
        model = SpotCheck
        fields = ("elder", "village", "kind", "provider", "month", "outcome")
        attrs = {"class": "table spotcheck-table"}
        per_page = 50
        order_by = ("village",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _labelled(self)

    def render_month(self, value):
        return f"{value:%Y}年{value.month}月"

    def render_outcome(self, record, value):
        if record.outcome == SpotCheckOutcome.PENDING and record.tries:
            return f"{value}（{record.tries}/3）"
        return value


class SpotCheckExportTable(tables.Table):
    month = tables.Column(accessor="draw__month", verbose_name=_("Month"))
    village_code = tables.Column(accessor="village_id", verbose_name=_("Village code"))
    village = tables.Column(accessor="village__name", verbose_name=_("Village"))
    elder = tables.Column(accessor="elder__name", verbose_name=_("Elder"))
    kind = tables.Column(verbose_name=_("What was drawn"))
    subject = tables.Column(empty_values=(), verbose_name=_("Number"))
    provider = tables.Column(accessor="organisation__name", verbose_name=_("Provider"), default="")
    outcome = tables.Column(verbose_name=_("Call-back result"))
    tries = tables.Column(verbose_name=_("Unanswered calls"))
    called_at = tables.Column(verbose_name=_("Called at"), default="")
    note = tables.Column(verbose_name=_("Call-back note"))

    class Meta:
        order_by = ("village_code",)

    def value_month(self, value):
        return f"{value:%Y-%m}"

    def value_kind(self, record):
        return str(record.get_kind_display())

    def value_subject(self, record):
        return record.visit_id or record.record_id

    def value_outcome(self, record):
        return str(record.get_outcome_display())

    def value_called_at(self, value):
        return timezone.localtime(value).isoformat(timespec="minutes") if value else ""
