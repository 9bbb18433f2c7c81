"""Ledger tables: one for the screen (links, badges) and one for export (plain values, masked)."""

import django_tables2 as tables

from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal.phone import mask_phone
from services.ledger.models import Elder, PriorityLevel


def _days_since(value) -> int | None:
    if value is None:
        return None
    return (timezone.localdate() - timezone.localtime(value).date()).days


class ElderTable(tables.Table):
    name = tables.Column(
        verbose_name=_("Full name"), linkify=lambda record: reverse("services:elder-detail", args=[record.pk])
    )
    age = tables.Column(verbose_name=_("Age"), accessor="birth_date", order_by=("-birth_date",))
    village = tables.Column(verbose_name=_("Village"), accessor="village__name", order_by=("village_id", "name"))
    priority = tables.Column(verbose_name=_("Priority"), accessor="priority_rank", order_by=("priority_rank", "name"))
    ability_level = tables.Column(verbose_name=_("Ability"))
    economic_status = tables.Column(verbose_name=_("Economic status"))
    last_visit_at = tables.Column(verbose_name=_("Last contact"), order_by=("last_visit_at",))
    phone = tables.Column(verbose_name=_("Phone"), orderable=False)

    class Meta:
        model = Elder
        fields = ("name", "age", "village", "priority", "ability_level", "economic_status", "last_visit_at", "phone")
        attrs = {"class": "table ledger-table"}
        template_name = "django_tables2/table.html"
        per_page = 25
        order_by = ("priority", "name")
        row_attrs = {"class": lambda record: f"priority-{record.priority}"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.columns:  # labels for the card layout on phones
            bound.column.attrs = {**bound.column.attrs, "td": {"data-label": str(bound.verbose_name)}}

    def render_name(self, record, value):
        flag = " ⚠" if record.ledger_flags else ""
        return format_html("{}{}", value, flag)

    def render_age(self, record):
        age = record.age
        if age >= 80:
            return format_html('<span>{} <span class="badge warn">{}</span></span>', age, _("80+"))
        return age

    def render_priority(self, record):
        level = record.priority
        return format_html('<span class="badge priority-{}">{}</span>', level, PriorityLevel(level).label)

    def render_last_visit_at(self, value):
        days = _days_since(value)
        if days is None:
            return format_html('<span class="badge warn">{}</span>', _("Never"))
        if not days:
            return _("Today")
        return ngettext("%(days)s day ago", "%(days)s days ago", days) % {"days": days}

    def render_phone(self, value):
        return mask_phone(value)


class ElderExportTable(tables.Table):
    """Plain values for xlsx/csv: ISO dates, ID numbers and phones masked, labels not codes."""

    name = tables.Column(verbose_name=_("Full name"))
    gender = tables.Column(verbose_name=_("Sex"))
    masked_id = tables.Column(verbose_name=_("Resident ID number"), accessor="pk")
    age = tables.Column(verbose_name=_("Age"), accessor="pk")
    village_code = tables.Column(verbose_name=_("Division code"), accessor="village_id")
    village = tables.Column(verbose_name=_("Village"), accessor="village__name")
    address = tables.Column(verbose_name=_("Address"))
    phone = tables.Column(verbose_name=_("Phone"))
    living_arrangement = tables.Column(verbose_name=_("Living arrangement"))
    ability_level = tables.Column(verbose_name=_("Ability"))
    economic_status = tables.Column(verbose_name=_("Economic status"))
    priority = tables.Column(verbose_name=_("Priority"), accessor="priority_level")
    family_doctor_signed = tables.BooleanColumn(verbose_name=_("Family doctor contract"))
    last_visit = tables.Column(verbose_name=_("Last contact"), accessor="last_visit_at")
    status = tables.Column(verbose_name=_("Status"))

    class Meta:
        model = Elder
        fields = ()
        order_by = ("village_code", "name")

    def value_masked_id(self, record):
        return record.masked_id

    def value_age(self, record):
        return record.age

    def value_phone(self, value):
        return mask_phone(value)

    def value_priority(self, record):
        return str(PriorityLevel(record.priority).label)

    def value_last_visit(self, value):
        return timezone.localtime(value).date().isoformat() if value else ""

    def value_family_doctor_signed(self, value):
        return "是" if value else "否"
