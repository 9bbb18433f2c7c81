"""Reads of the time bank: whose accounts a user may see, a statement for a year, the association's list.

The elder association is the bank of its village: an active admin of an elder association sees the accounts
of its active members; everyone else sees only their own. (Staff roles give no access: a balance is a
person's own affair, not part of the elder ledger.)"""

import datetime

from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from services.timebank.models import AccountKind, TimeAccount, TimeEntry, TimeRequest, TransactionKind
from services.timebank.rules import ELDER_ASSOCIATION_SLUG
from volunteers.models import Membership, MembershipStatus, Organisation, OrganisationStatus


def admin_associations(user) -> QuerySet[Organisation]:
    """The approved elder associations `user` administers."""
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    return Organisation.objects.filter(
        kind__slug=ELDER_ASSOCIATION_SLUG,
        status=OrganisationStatus.APPROVED,
        memberships__user=user,
        memberships__is_admin=True,
        memberships__status=MembershipStatus.ACTIVE,
    )


def accounts_for(user) -> QuerySet[TimeAccount]:
    """Personal accounts `user` may see: their own, and their members' if they run an elder association."""
    if not getattr(user, "is_authenticated", False):
        return TimeAccount.objects.none()
    base = TimeAccount.objects.filter(kind=AccountKind.PERSON)
    if user.is_superuser:
        return base
    members = Membership.objects.filter(
        user_id=OuterRef("user_id"),
        status=MembershipStatus.ACTIVE,
        organisation__in=admin_associations(user).values("pk"),
    )
    return base.filter(Q(user=user) | Exists(members))


def member_accounts(user, organisation=None) -> QuerySet[TimeAccount]:
    """The association's list: its active members' accounts with what they deposited (net of reversals)."""
    organisations = admin_associations(user)
    if organisation is not None:
        organisations = organisations.filter(pk=organisation.pk)
    members = Membership.objects.filter(
        user_id=OuterRef("user_id"), status=MembershipStatus.ACTIVE, organisation__in=organisations.values("pk")
    )
    return (
        accounts_for(user)
        .filter(Exists(members))
        .select_related("user")
        .annotate(
            deposited=Sum(
                "entries__minutes",
                filter=Q(entries__transaction__kind__in=[TransactionKind.DEPOSIT, TransactionKind.REVERSAL]),
            ),
        )
    )


def year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    return datetime.datetime(year, 1, 1, tzinfo=tz), datetime.datetime(year + 1, 1, 1, tzinfo=tz)


def statement(account: TimeAccount, year: int) -> dict:
    """Opening balance, the year's entries (oldest first, each with the balance after it), totals by kind."""
    start, end = year_bounds(year)
    opening = (
        TimeEntry.objects.filter(account=account, transaction__created_at__lt=start).aggregate(t=Sum("minutes"))["t"]
        or 0
    )
    entries = list(
        TimeEntry.objects.filter(account=account, transaction__created_at__gte=start, transaction__created_at__lt=end)
        .select_related(
            "transaction__record__service_item",
            "transaction__record__elder",
            "transaction__record__activity",
            "transaction__request",
        )
        .order_by("transaction__created_at", "pk")
    )
    balance = opening
    totals: dict[str, int] = {}
    counterparts = _counterparts([e.transaction_id for e in entries if e.transaction.kind == TransactionKind.TRANSFER])
    for entry in entries:
        balance += entry.minutes
        entry.balance_after = balance
        entry.counterpart = counterparts.get((entry.transaction_id, entry.account_id))
        totals[entry.transaction.kind] = totals.get(entry.transaction.kind, 0) + entry.minutes
    return {"year": year, "opening": opening, "closing": balance, "entries": entries, "totals": totals}


def _counterparts(tx_ids: list[int]) -> dict:
    """For a transfer's legs: the person on the other side (one query for the page)."""
    if not tx_ids:
        return {}
    legs = list(TimeEntry.objects.filter(transaction_id__in=tx_ids).select_related("account__user"))
    result = {}
    for leg in legs:
        for other in legs:
            if other.transaction_id == leg.transaction_id and other.pk != leg.pk:
                result[(leg.transaction_id, leg.account_id)] = other.account.user
    return result


def requests_for(user) -> QuerySet[TimeRequest]:
    """Requests the user made, and those sent to the associations they run."""
    if not getattr(user, "is_authenticated", False):
        return TimeRequest.objects.none()
    return TimeRequest.objects.filter(
        Q(requester=user) | Q(organisation__in=admin_associations(user).values("pk"))
    ).select_related("requester", "organisation", "service_item", "activity")


def ledger_totals() -> dict:
    """Σ deposits, Σ withdrawals (net of reversals and refunds), Σ personal balances: the invariant's three."""

    def net(*kinds):
        return (
            TimeEntry.objects.filter(account__kind=AccountKind.PERSON, transaction__kind__in=kinds).aggregate(
                t=Sum("minutes")
            )["t"]
            or 0
        )

    return {
        "deposits": net(TransactionKind.DEPOSIT, TransactionKind.REVERSAL),
        "withdrawals": -net(TransactionKind.WITHDRAWAL, TransactionKind.REFUND),
        "balances": TimeAccount.objects.filter(kind=AccountKind.PERSON).aggregate(t=Sum("balance"))["t"] or 0,
    }
