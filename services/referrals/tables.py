"""Tables and the filter of the referral list (screen and export)."""

import django_filters
import django_tables2 as tables

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.formatting import cn_datetime
from services.referrals.models import Referral, ReferralKind, ReferralStatus


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=ReferralStatus.choices, empty_label=_("All"))
    kind = django_filters.ChoiceFilter(label=_("Referred to"), choices=ReferralKind.choices, empty_label=_("All"))

    class Meta:
        model = Referral
        fields = ["status", "kind"]


class ReferralTable(tables.Table):
    elder = tables.Column(
        accessor="elder__name",
        verbose_name=_("Elder"),
        linkify=lambda record: reverse("services:referral-detail", args=[record.pk]),
        attrs={"td": {"class": "card-title"}},
    )
    village = tables.Column(accessor="village__name", verbose_name=_("Village"), order_by=("village_id", "pk"))
    kind = tables.Column(verbose_name=_("Referred to"))
    status = tables.Column(verbose_name=_("Status"))
    deadline = tables.Column(verbose_name=_("Answer by"))

    class Meta:
        model = Referral
        fields = ("elder", "village", "kind", "status", "deadline")
        attrs = {"class": "table referral-table"}
        per_page = 50
        order_by = ("-deadline",)
        row_attrs = {
            "class": lambda record: (
                "is-overdue" if record.status != ReferralStatus.DONE and record.deadline < timezone.now() else ""
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.columns:
            bound.column.attrs = {
                **bound.column.attrs,
                "td": {**bound.column.attrs.get("td", {}), "data-label": str(bound.verbose_name)},
            }

    def render_deadline(self, value):
        return cn_datetime(value)


class ReferralExportTable(tables.Table):
    created_at = tables.Column(verbose_name=_("Referred at"))
    village_code = tables.Column(accessor="village_id", verbose_name=_("Village code"))
    village = tables.Column(accessor="village__name", verbose_name=_("Village"))
    elder = tables.Column(accessor="elder__name", verbose_name=_("Elder"))
    kind = tables.Column(verbose_name=_("Referred to"))
    department_region = tables.Column(accessor="department_region__name", verbose_name=_("Receiving region"))
    status = tables.Column(verbose_name=_("Status"))
    deadline = tables.Column(verbose_name=_("Answer by"))
    outcome = tables.Column(verbose_name=_("Outcome"))

    class Meta:
        order_by = ("-created_at",)

    def value_created_at(self, value):
        return timezone.localtime(value).isoformat(timespec="minutes")

    def value_deadline(self, value):
        return timezone.localtime(value).isoformat(timespec="minutes")

    def value_kind(self, record):
        return str(record.get_kind_display())

    def value_status(self, record):
        return str(record.get_status_display())
