"""The association's list of its members' time-bank accounts, and its plain-value export twin."""

import django_tables2 as tables

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.phone import mask_phone
from services.records.models import hours_display
from services.timebank.models import TimeAccount


class MemberAccountTable(tables.Table):
    name = tables.Column(accessor="user__real_name", verbose_name=_("Name"), order_by=("user__real_name", "pk"))
    phone = tables.Column(accessor="user__phone", verbose_name=_("Mobile"), orderable=False)
    deposited = tables.Column(verbose_name=_("Deposited (hours)"), order_by=("deposited", "pk"), empty_values=())
    balance = tables.Column(verbose_name=_("Balance (hours)"), order_by=("balance", "pk"))

    class Meta:
        model = TimeAccount
        fields = ("name", "phone", "deposited", "balance")
        attrs = {"class": "table phone-cards"}
        per_page = 25
        order_by = ("name",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.columns:  # labels for the card layout on phones
            bound.column.attrs = {**bound.column.attrs, "td": {"data-label": str(bound.verbose_name)}}

    def render_name(self, record):
        url = reverse("volunteers:timebank-account", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, record.user.real_name or record.user.phone)

    def render_phone(self, record):
        return mask_phone(record.user.phone)

    def render_deposited(self, record):
        return hours_display(record.deposited or 0)

    def render_balance(self, record):
        return hours_display(record.balance)


class MemberAccountExportTable(tables.Table):
    """Plain values: integer minutes beside decimal hours."""

    account = tables.Column(accessor="pk", verbose_name=_("Account number"))
    name = tables.Column(accessor="user__real_name", verbose_name=_("Name"))
    phone = tables.Column(accessor="user__phone", verbose_name=_("Mobile"))
    deposited_minutes = tables.Column(accessor="deposited", verbose_name=_("Deposited (minutes)"), default=0)
    balance_minutes = tables.Column(accessor="balance", verbose_name=_("Balance (minutes)"))
    balance_hours = tables.Column(accessor="balance", verbose_name=_("Balance (hours)"))

    class Meta:
        model = TimeAccount
        fields = ()

    def value_phone(self, record):
        return mask_phone(record.user.phone)

    def value_deposited_minutes(self, record):
        return record.deposited or 0

    def value_balance_hours(self, record):
        return hours_display(record.balance)
