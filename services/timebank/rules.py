"""The time bank's messages and the settings its checks read (one place, reused by the tests)."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _

ELDER_ASSOCIATION_SLUG = "laonian-xiehui"  # 老年协会: the bank of its village

INSUFFICIENT = _("Your time balance (%(balance)s hours) is not enough for %(hours)s hours.")
REVERSAL_SPENT = _(
    "%(name)s has already used or transferred the time this record deposited (balance %(balance)s hours); "
    "the record cannot be reversed until the time is back."
)
HOURS_INVALID = _("Enter a number of hours between 0.5 and %(max)s, in steps of half an hour.")
KIN_NOT_FOUND = _("No one is registered with the mobile number %(phone)s. Ask your relative to register first.")
KIN_SELF = _("You cannot transfer time to yourself.")
RELATION_REQUIRED = _("Say how the person is related to you (e.g. father, mother).")
YEARLY_CAP = _(
    "Transfers are limited to %(cap)s hours a year; you have transferred %(used)s hours in %(year)s already."
)
NOT_AN_ASSOCIATION = _("Choose an approved elder association.")
REQUEST_NOT_OPEN = _("This request is no longer waiting; it cannot be changed.")
NOT_YOUR_REQUEST = _("Only the person who asked, or an admin of the association, may do this.")
ACTIVITY_NOT_OURS = _("Choose one of the association's own activities.")
DESCRIPTION_REQUIRED = _("Say what is needed.")


def category_weights() -> dict[str, Decimal]:
    """TIMEBANK_CATEGORY_WEIGHTS: {category slug: weight}; an hour of a category not named counts 1 unit."""
    raw = getattr(settings, "TIMEBANK_CATEGORY_WEIGHTS", {}) or {}
    return {slug: Decimal(str(weight)) for slug, weight in raw.items()}


def weighted_minutes(minutes: int, category_slug: str | None) -> int:
    weight = category_weights().get(category_slug or "", Decimal(1))
    return int((Decimal(minutes) * weight).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def transfer_yearly_cap_minutes() -> int:
    """TIMEBANK_TRANSFER_YEARLY_CAP_HOURS (default 100): what one person may give to kin in a calendar year."""
    return int(Decimal(str(getattr(settings, "TIMEBANK_TRANSFER_YEARLY_CAP_HOURS", 100))) * 60)


MAX_HOURS_AT_ONCE = 200


def minutes_from_hours(value) -> int:
    """'1.5' → 90; refuses anything that is not a positive multiple of half an hour up to MAX_HOURS_AT_ONCE."""
    from django.core.exceptions import ValidationError

    try:
        hours = Decimal(str(value).strip())
    except Exception:
        hours = Decimal(-1)
    if not hours.is_finite() or hours <= 0 or hours > MAX_HOURS_AT_ONCE or (hours * 2) % 1:
        raise ValidationError(HOURS_INVALID, code="hours_invalid", params={"max": MAX_HOURS_AT_ONCE})
    return int(hours * 60)
