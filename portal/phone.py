"""Mainland China mobile numbers: one normal form (11 digits, e.g. 13812345678) everywhere.

People type numbers as "138 1234 5678", "+86 138-1234-5678" or "008613812345678"; all of them are
the same account, so every entry point normalises before it validates or looks up.
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
INVALID_PHONE = _("Enter a valid mainland China mobile number, 11 digits starting with 1 (e.g. 13812345678).")


def normalise_phone(raw: str | None) -> str:
    """Strip separators and the +86/0086 country prefix; return the 11-digit form (may still be invalid)."""
    if raw is None:
        return ""
    digits = re.sub(r"[\s\-().]", "", str(raw))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def validate_phone(value: str) -> None:
    if not MOBILE_RE.match(value or ""):
        raise ValidationError(INVALID_PHONE, code="invalid_phone")


def clean_phone(raw: str | None) -> str:
    """Normalise and validate; raise ValidationError with a translated message if it is not a mobile."""
    value = normalise_phone(raw)
    validate_phone(value)
    return value


def mask_phone(value: str | None) -> str:
    """138****5678: enough to recognise one's own number, not enough to call it."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}****{value[-4:]}"
