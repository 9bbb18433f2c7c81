"""Purchasing's messages and rules: money (the one rounding place), months, and who may do what.

Who does what:
- a county officer (RoleKind.COUNTY_OFFICER, a writing role) whose scope covers the buyer region creates and
  edits contracts, approves or returns settlements, and marks them paid — never for an organisation they
  are an admin of (one person is not both provider and reviewer);
- the provider organisation's admin builds the settlement of a month and submits it (an officer may build a
  draft too, to look at it);
- everyone else with the contract in scope (township officers, supervisors) only reads.

Money is Decimal, yuan to the fen; SQL sums are only ever taken over integer minutes and units."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db.models import (
    DecimalField,
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Region, RegionLevel, RoleKind
from portal.scoping import can_write, in_scope, scope_regions
from services.purchasing.models import (
    PurchaseContract,
    Unit,
)
from volunteers.models import Membership, MembershipStatus
from volunteers.organisations import is_org_admin

# --- messages --------------------------------------------------------------------------------------

NOT_OFFICER = _("Only a county civil-affairs officer whose area covers the buyer may do this.")
NOT_PROVIDER = _("Only an admin of the providing organisation may do this.")
NOT_PARTY = _("Only the provider's admins and the buyer's county officers may build a settlement.")
OWN_ORGANISATION = _("You are an admin of the providing organisation; another officer must review this settlement.")
OWN_CONTRACT = _("You are an admin of the providing organisation; another officer must make or change this contract.")
PARTIES_FIXED = _(
    "The contract already has settlements: its organisation and buyer cannot change. End it and make a new one."
)
ORG_NOT_APPROVED = _("Services can only be bought from an approved organisation.")
BUYER_LEVEL = _("The buyer is a county or a township.")
PERIOD_ORDER = _("The contract must end on or after the day it starts.")
BUDGET_POSITIVE = _("The budget cap must be more than zero.")
BUDGET_BELOW_SPENT = _("The budget cap cannot be lower than what is already spent (%(spent)s yuan).")
PRICE_POSITIVE = _("A unit price must be more than zero.")
CAP_POSITIVE = _("A cap must be more than zero (leave it empty for no cap).")
NO_LINES = _("Add at least one priced service item.")
DUPLICATE_ITEM = _("“%(item)s” is priced twice; give each item one line.")
OVERLAP = _(
    "%(organisation)s already has contract %(contract)s for “%(item)s” from %(start)s to %(end)s, "
    "which overlaps this period."
)
BAD_MONTH = _("Give the month as YYYY-MM, e.g. 2026-10.")
MONTH_OUTSIDE = _("%(month)s lies outside the contract period (%(start)s to %(end)s).")
NOT_DRAFT = _("This settlement is “%(status)s”; only a draft can be built again or submitted.")
NOT_BUILT = _("Build the settlement before submitting it.")
NOT_SUBMITTED = _("This settlement is “%(status)s”; only a submitted settlement can be approved or returned.")
NOT_APPROVED = _("This settlement is “%(status)s”; only an approved settlement can be marked paid.")
OVER_BUDGET = _(
    "Approving %(total)s yuan would bring the contract's spend to %(after)s yuan, over its budget cap of "
    "%(budget)s yuan. Return the settlement or raise the budget first."
)
RECORDS_CHANGED = _(
    "Some records of this settlement were changed or settled elsewhere since it was built; return it so the "
    "provider builds it again."
)
REASON_REQUIRED = _("Give the reason, so the provider knows what to change.")
VOUCHER_REQUIRED = _("Give the payment date and the voucher number.")
PAID_IN_FUTURE = _("The payment date cannot be in the future.")

BUDGET_WARNING_RATIO = Decimal("0.9")  # the contract page warns from 90 % of the budget cap
FEN = Decimal("0.01")
MONEY = DecimalField(max_digits=14, decimal_places=2)


# --- money: the one rounding place ---------------------------------------------------------------


def line_amount(unit: str, unit_price: Decimal, minutes: int, units: int) -> Decimal:
    """Amount of one settlement line, rounded ONCE to the fen (ROUND_HALF_UP, away from zero for negatives).

    Hourly lines pay minutes × price / 60 on the line's total minutes; other units pay count × price.
    Price × minutes is exact (integers and fen); the division by 60 leaves a fraction of k/60 fen, and a
    tie (k = 30) is exact in Decimal, so rounding the quotient is exact. Nothing else in the app rounds money:
    the settlement total is the sum of its line amounts.
    """
    price = Decimal(unit_price)
    raw = price * minutes / Decimal(60) if unit == Unit.HOUR else price * units
    return raw.quantize(FEN, rounding=ROUND_HALF_UP)


# --- months ----------------------------------------------------------------------------------------


def parse_month(text: str) -> datetime.date:
    """'2026-10' → date(2026, 10, 1); anything else is refused with BAD_MONTH."""
    text = (text or "").strip()
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) not in (1, 2):
            raise ValueError
        return datetime.date(int(year), int(month), 1)
    except (ValueError, TypeError):
        raise ValidationError(BAD_MONTH, code="bad_month") from None


def month_last_day(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def month_bounds(month: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The month as aware datetimes [first day 00:00, next month's first day 00:00), local time."""
    start = timezone.make_aware(datetime.datetime.combine(month, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(month_last_day(month) + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


def contract_months(contract: PurchaseContract) -> list[datetime.date]:
    months, cursor = [], contract.start.replace(day=1)
    while cursor <= contract.end:
        months.append(cursor)
        cursor = month_last_day(cursor) + datetime.timedelta(days=1)
    return months


def default_month(contract: PurchaseContract) -> datetime.date:
    """The month a settlement is usually built for: last month, kept within the contract period."""
    last_month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    return min(max(last_month, contract.start.replace(day=1)), contract.end.replace(day=1))


# --- who may do what -------------------------------------------------------------------------------


def _admin_org_ids(user):
    return Membership.objects.filter(user=user, is_admin=True, status=MembershipStatus.ACTIVE).values("organisation_id")


def is_provider_admin(user, contract: PurchaseContract) -> bool:
    return is_org_admin(user=user, organisation=contract.organisation)


def is_buyer_officer(user, region) -> bool:
    """A county officer (writing role) whose scope covers the buyer region, or a superuser."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return in_scope(user, region, roles=[RoleKind.COUNTY_OFFICER]) and can_write(user)


def may_manage_contracts(user) -> bool:
    return buyer_regions(user).exists()


def buyer_regions(user) -> QuerySet:
    """Counties and townships a county officer may buy for."""
    if not getattr(user, "is_authenticated", False):
        return Region.objects.none()
    return (
        scope_regions(user, roles=[RoleKind.COUNTY_OFFICER])
        .filter(level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP])
        .order_by("code")
    )
