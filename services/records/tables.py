"""Tables of service records: the confirmer's list (with bulk-confirm boxes) and its plain-value export twin."""

import django_tables2 as tables

from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from services.records.models import ServiceRecord, hours_display

LIST_RELATED = ("giver", "elder", "activity", "organisation", "service_item", "region")


class RecordTable(tables.Table):
    select = tables.TemplateColumn(template_name="services/records/_select_cell.html", verbose_name="", orderable=False)
    start = tables.Column(verbose_name=_("Date"))
    giver = tables.Column(accessor="giver__real_name", verbose_name=_("Giver"), order_by=("giver__real_name",))
    target = tables.Column(accessor="pk", verbose_name=_("Elder or activity"), orderable=False)
    service_item = tables.Column(accessor="service_item__name", verbose_name=_("Service item"))
    minutes = tables.Column(verbose_name=_("Hours"))
    kind = tables.Column(verbose_name=_("Ledger"))
    status = tables.Column(verbose_name=_("Status"))

    class Meta:
        model = ServiceRecord
        fields = ("select", "start", "giver", "target", "service_item", "minutes", "kind", "status")
        attrs = {"class": "table records-table"}
        template_name = "django_tables2/table.html"
        per_page = 50
        order_by = ("-start",)

    def __init__(self, *args, confirmable=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.confirmable = confirmable

    def render_start(self, record):
        local = timezone.localtime(record.start)
        url = record_url(record)
        return format_html('<a href="{}">{}</a>', url, f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}")

    def render_giver(self, record):
        return str(record.giver)

    def render_target(self, record):
        return record.elder.name if record.elder_id else record.activity.title

    def render_minutes(self, record):
        return hours_display(record.sign * record.minutes)

    def render_status(self, record):
        label = record.get_status_display()
        if record.is_reversal:
            return format_html('<span class="badge warn">{}</span>', _("Reversal"))
        return format_html('<span class="badge status-{}">{}</span>', record.status, label)


def record_url(record) -> str:
    from django.urls import reverse

    return reverse("volunteers:record-detail", args=[record.pk])


class MyRecordTable(RecordTable):
    class Meta(RecordTable.Meta):
        fields = ("start", "target", "service_item", "minutes", "kind", "status")
        exclude = ("select", "giver")
        per_page = 20


class RecordExportTable(tables.Table):
    """Plain values: ISO times, integer minutes and decimal hours, codes beside names."""

    id = tables.Column(accessor="pk", verbose_name=_("Record number"))
    ledger = tables.Column(accessor="kind", verbose_name=_("Ledger"))
    giver = tables.Column(accessor="giver__real_name", verbose_name=_("Giver"))
    organisation = tables.Column(accessor="organisation__name", verbose_name=_("Organisation"), default="")
    elder = tables.Column(accessor="elder__name", verbose_name=_("Elder"), default="")
    activity = tables.Column(accessor="activity__title", verbose_name=_("Activity"), default="")
    village_code = tables.Column(accessor="region_id", verbose_name=_("Division code"))
    village = tables.Column(accessor="region__name", verbose_name=_("Village"))
    item = tables.Column(accessor="service_item__name", verbose_name=_("Service item"))
    start = tables.Column(verbose_name=_("Started"))
    end = tables.Column(verbose_name=_("Ended"))
    signed_minutes = tables.Column(accessor="minutes", verbose_name=_("Minutes"))
    hours = tables.Column(accessor="minutes", verbose_name=_("Hours"))
    status = tables.Column(verbose_name=_("Status"))
    reverses = tables.Column(accessor="reverses_id", verbose_name=_("Reverses record"), default="")
    place = tables.Column(verbose_name=_("Place"))
    content = tables.Column(verbose_name=_("What was done"))

    class Meta:
        model = ServiceRecord
        fields = ()

    def value_ledger(self, record):
        return record.kind

    def value_start(self, record):
        return timezone.localtime(record.start).isoformat(timespec="minutes")

    def value_end(self, record):
        return timezone.localtime(record.end).isoformat(timespec="minutes")

    def value_signed_minutes(self, record):
        return record.sign * record.minutes

    def value_hours(self, record):
        return hours_display(record.sign * record.minutes)

    def value_status(self, record):
        return record.status
