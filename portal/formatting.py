"""One way to show money and dates on screen, for templates (portal_format filters) and Python (tables).

Money: 3,680.00 (grouped, two decimals, half up); with the unit, 3,680.00 元. Dates: 2026年11月29日, the
DATE_FORMAT of portal/formats/zh_Hans. Exports keep plain values (ISO dates, 3680.00) for spreadsheets.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils import formats, timezone
from django.utils.translation import gettext as _


def money(value) -> str:
    """3,680.00 — or "—" when there is no amount."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return str(value)
    return f"{amount:,.2f}"


def yuan(value) -> str:
    """3,680.00 元"""
    text = money(value)
    return text if text == "—" else _("%(amount)s yuan") % {"amount": text}


def cn_date(value) -> str:
    """2026年11月29日 (a datetime is shown on its local day)."""
    if not value:
        return "—"
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return formats.date_format(value, "DATE_FORMAT")


def cn_datetime(value) -> str:
    """2026年11月29日 14:05"""
    if not value:
        return "—"
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return formats.date_format(value, "DATETIME_FORMAT")
