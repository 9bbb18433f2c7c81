"""Tables of the purchasing screens: the contract list (with spend against the cap) and its export."""

from decimal import Decimal

import django_tables2 as tables

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.formatting import money
from services.purchasing.models import PurchaseContract
from services.purchasing.rules import BUDGET_WARNING_RATIO


def _percent(record) -> int:
    if not record.budget:
        return 0
    return int(min(Decimal(record.spent) / record.budget, Decimal(1)) * 100)


class ContractTable(tables.Table):
    organisation = tables.Column(
        verbose_name=_("Provider"),
        accessor="organisation__name",
        linkify=lambda record: reverse("services:contract-detail", args=[record.pk]),
    )
    number = tables.Column(verbose_name=_("Contract number"), empty_values=())
    region = tables.Column(verbose_name=_("Buyer"), accessor="region__name", order_by=("region_id",))
    start = tables.DateColumn(verbose_name=_("From"), format="DATE_FORMAT")
    end = tables.DateColumn(verbose_name=_("Until"), format="DATE_FORMAT")
    budget = tables.Column(verbose_name=_("Budget cap (yuan)"), attrs={"td": {"class": "num"}})
    spent = tables.Column(verbose_name=_("Spent (yuan)"), order_by=("spent",), attrs={"td": {"class": "num"}})
    waiting = tables.Column(verbose_name=_("Waiting for approval"), order_by=("waiting",))

    class Meta:
        model = PurchaseContract
        fields = ("organisation", "number", "region", "start", "end", "budget", "spent", "waiting")
        attrs = {"class": "table contract-table"}
        per_page = 25
        order_by = ("-start",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.columns:
            bound.column.attrs = {
                **bound.column.attrs,
                "td": {**bound.column.attrs.get("td", {}), "data-label": str(bound.verbose_name)},
            }

    def render_number(self, value):
        return value or "—"

    def render_spent(self, record, value):
        percent = _percent(record)
        warn = record.budget and Decimal(value) / record.budget >= BUDGET_WARNING_RATIO
        return format_html(
            '<span>{} <span class="spend-pct{}">{}%</span></span>',
            money(value),
            " warn" if warn else "",
            percent,
        )

    def render_budget(self, value):
        return money(value)

    def render_waiting(self, value):
        if not value:
            return "—"
        return format_html('<span class="badge warn">{}</span>', value)


class ContractExportTable(tables.Table):
    """Plain values for finance: amounts as numbers, dates ISO."""

    number = tables.Column(verbose_name=_("Contract number"))
    organisation = tables.Column(verbose_name=_("Provider"), accessor="organisation__name")
    region_code = tables.Column(verbose_name=_("Buyer code"), accessor="region_id")
    region = tables.Column(verbose_name=_("Buyer"), accessor="region__name")
    start = tables.Column(verbose_name=_("From"))
    end = tables.Column(verbose_name=_("Until"))
    budget = tables.Column(verbose_name=_("Budget cap (yuan)"))
    spent = tables.Column(verbose_name=_("Spent (yuan)"))
    waiting = tables.Column(verbose_name=_("Waiting for approval"))

    class Meta:
        model = PurchaseContract
        fields = ("number", "organisation", "region_code", "region", "start", "end", "budget", "spent", "waiting")

    def value_start(self, value):
        return value.isoformat()

    def value_end(self, value):
        return value.isoformat()

    def value_budget(self, value):
        return f"{value:.2f}"

    def value_spent(self, value):
        return f"{Decimal(value):.2f}"
