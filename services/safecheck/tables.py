"""Tables of the 平安铃 list (screen and export)."""

import django_tables2 as tables

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.formatting import cn_datetime
from services.safecheck.models import CheckinEnrolment


class CheckinTable(tables.Table):
    elder = tables.Column(accessor="elder__name", verbose_name=_("Elder"), attrs={"td": {"class": "card-title"}})
    village = tables.Column(accessor="village__name", verbose_name=_("Village"), order_by=("village_id", "pk"))
    phone_masked = tables.Column(verbose_name=_("Number"))
    send_at = tables.Column(verbose_name=_("Daily message at"))
    last_answer = tables.Column(verbose_name=_("Last answered"), empty_values=(), order_by=("last_answer",))
    missed_week = tables.Column(verbose_name=_("Missed in 7 days"))
    active = tables.BooleanColumn(verbose_name=_("Check-in on"))

    class Meta:
        model = CheckinEnrolment
        fields = ("elder", "village", "phone_masked", "send_at", "last_answer", "missed_week", "active")
        attrs = {"class": "table checkin-table"}
        per_page = 50
        order_by = ("village",)
        row_attrs = {"class": lambda record: "is-overdue" if record.missed_week else ""}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.columns:
            bound.column.attrs = {
                **bound.column.attrs,
                "td": {**bound.column.attrs.get("td", {}), "data-label": str(bound.verbose_name)},
            }

    def render_send_at(self, value):
        return value.strftime("%H:%M")

    def render_last_answer(self, value):
        return cn_datetime(value) if value else "—"


class CheckinExportTable(tables.Table):
    village_code = tables.Column(accessor="village_id", verbose_name=_("Village code"))
    village = tables.Column(accessor="village__name", verbose_name=_("Village"))
    elder = tables.Column(accessor="elder__name", verbose_name=_("Elder"))
    phone_masked = tables.Column(verbose_name=_("Number"))
    send_at = tables.Column(verbose_name=_("Daily message at"))
    last_answer = tables.Column(verbose_name=_("Last answered"), default="")
    missed_week = tables.Column(verbose_name=_("Missed in 7 days"))
    active = tables.Column(verbose_name=_("Check-in on"))

    class Meta:
        order_by = ("village_code",)

    def value_send_at(self, value):
        return value.strftime("%H:%M")

    def value_last_answer(self, value):
        return timezone.localtime(value).isoformat(timespec="minutes") if value else ""
