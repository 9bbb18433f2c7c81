"""Writes of the time bank: deposits and their reversal (called from services.records.actions inside the
transaction that confirms or reverses a record), transfers to kin, service paid in time and its refund."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from portal import audit
from portal.models import AuditAction, User
from portal.phone import clean_phone
from services.records.models import RecordKind, ServiceRecord, hours_display
from services.timebank import rules
from services.timebank.models import (
    AccountKind,
    TimeAccount,
    TimeEntry,
    TimeRequest,
    TimeRequestStatus,
    TimeTransaction,
    TransactionKind,
)
from volunteers.models import ActivityKind, MembershipStatus, Organisation, OrganisationStatus

# --- accounts ---------------------------------------------------------------------------------------


def account_for(user) -> TimeAccount:
    account = TimeAccount.objects.filter(user=user).first()
    if account is None:
        try:
            with transaction.atomic():
                account = TimeAccount.objects.create(user=user, kind=AccountKind.PERSON)
        except IntegrityError:
            account = TimeAccount.objects.get(user=user)
    return account


def _system(kind: str) -> TimeAccount:
    account = TimeAccount.objects.filter(user__isnull=True, kind=kind).first()
    if account is None:
        try:
            with transaction.atomic():
                account = TimeAccount.objects.create(kind=kind)
        except IntegrityError:
            account = TimeAccount.objects.get(user__isnull=True, kind=kind)
    return account


def _post(tx: TimeTransaction, legs: list[tuple[TimeAccount, int]]) -> None:
    """Write the legs (they must sum to zero) and move the balances. A personal balance is taken down by one
    conditional UPDATE (`balance >= minutes`), so two withdrawals at once can never make it negative."""
    assert sum(m for _, m in legs) == 0, legs
    for account, minutes in legs:
        moved = TimeAccount.objects.filter(pk=account.pk)
        if minutes < 0 and account.kind == AccountKind.PERSON:
            moved = moved.filter(balance__gte=-minutes)
        if not moved.update(balance=F("balance") + minutes):
            balance = TimeAccount.objects.get(pk=account.pk).balance
            raise ValidationError(
                rules.INSUFFICIENT,
                code="insufficient",
                params={"balance": hours_display(balance), "hours": hours_display(-minutes)},
            )
        account.balance += minutes
    TimeEntry.objects.bulk_create([TimeEntry(transaction=tx, account=a, minutes=m) for a, m in legs])


# --- deposits (from service records) ------------------------------------------------------------------


def is_mutual_aid(record: ServiceRecord) -> bool:
    """Volunteer service to an elder, or at a mutual-aid activity. Purchased service never deposits."""
    if record.kind != RecordKind.VOLUNTEER:
        return False
    if record.elder_id:
        return True
    return record.activity_id is not None and record.activity.kind == ActivityKind.MUTUAL_AID


def deposit_minutes(record: ServiceRecord) -> int:
    return rules.weighted_minutes(record.minutes, record.service_item.category.slug)


def deposit_for_record(*, record: ServiceRecord, actor=None) -> TimeTransaction | None:
    """The deposit of a confirmed record (idempotent: a record deposits once, whoever confirms it twice).

    Runs inside the confirming transaction; the one-to-one link on the record is the database's guard."""
    if record.sign != 1 or not is_mutual_aid(record):
        return None
    existing = TimeTransaction.objects.filter(record=record).first()
    if existing is not None:
        return existing
    minutes = deposit_minutes(record)
    if minutes <= 0:
        return None
    try:
        with transaction.atomic():
            tx = TimeTransaction.objects.create(
                kind=TransactionKind.DEPOSIT, minutes=minutes, record=record, created_by=actor
            )
            _post(tx, [(account_for(record.giver), minutes), (_system(AccountKind.ISSUED), -minutes)])
    except IntegrityError:
        return TimeTransaction.objects.get(record=record)
    return tx


def reverse_for_record(*, reversal: ServiceRecord, actor=None) -> TimeTransaction | None:
    """A record's reversal takes its deposit back (named by the reversing record). Refused, undoing the reversal,
    when the giver has already used the time: a balance is never negative."""
    deposit = TimeTransaction.objects.filter(record_id=reversal.reverses_id, kind=TransactionKind.DEPOSIT).first()
    if deposit is None:
        return None
    account = account_for(reversal.giver)
    try:
        with transaction.atomic():
            tx = TimeTransaction.objects.create(
                kind=TransactionKind.REVERSAL, minutes=deposit.minutes, record=reversal, created_by=actor
            )
            _post(tx, [(account, -deposit.minutes), (_system(AccountKind.ISSUED), deposit.minutes)])
    except ValidationError:
        account.refresh_from_db()
        raise ValidationError(
            rules.REVERSAL_SPENT,
            code="reversal_spent",
            params={"name": str(reversal.giver), "balance": hours_display(account.balance)},
        ) from None
    return tx


# --- transfers to kin ----------------------------------------------------------------------------------


def _year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime(year, 1, 1, tzinfo=tz),
        datetime.datetime(year + 1, 1, 1, tzinfo=tz),
    )


def transferred_in_year(account: TimeAccount, year: int) -> int:
    start, end = _year_bounds(year)
    total = TimeEntry.objects.filter(
        account=account,
        minutes__lt=0,
        transaction__kind=TransactionKind.TRANSFER,
        transaction__created_at__gte=start,
        transaction__created_at__lt=end,
    ).aggregate(total=Sum("minutes"))["total"]
    return -(total or 0)


@transaction.atomic
def transfer_to_kin(*, actor, phone: str, relation: str, hours, request=None) -> TimeTransaction:
    """Give time to a relative (e.g. a parent in the village), within the yearly cap."""
    minutes = rules.minutes_from_hours(hours)
    relation = " ".join((relation or "").split())[:20]
    if not relation:
        raise ValidationError(rules.RELATION_REQUIRED, code="relation_required")
    phone = clean_phone(phone)
    kin = User.objects.filter(phone=phone, is_active=True).first()
    if kin is None:
        raise ValidationError(rules.KIN_NOT_FOUND, code="kin_not_found", params={"phone": phone})
    if kin.pk == actor.pk:
        raise ValidationError(rules.KIN_SELF, code="kin_self")
    sender = account_for(actor)
    # one sender at a time: the cap is read and used under the account's row lock
    sender = TimeAccount.objects.select_for_update().get(pk=sender.pk)
    year = timezone.localdate().year
    used = transferred_in_year(sender, year)
    cap = rules.transfer_yearly_cap_minutes()
    if used + minutes > cap:
        raise ValidationError(
            rules.YEARLY_CAP,
            code="yearly_cap",
            params={"cap": hours_display(cap), "used": hours_display(used), "year": year},
        )
    tx = TimeTransaction.objects.create(
        kind=TransactionKind.TRANSFER, minutes=minutes, relation=relation, created_by=actor
    )
    _post(tx, [(sender, -minutes), (account_for(kin), minutes)])
    audit.record(AuditAction.CREATE, request=request, actor=actor, obj=tx, changes={"to": kin.pk, "minutes": minutes})
    return tx


# --- service paid in time ---------------------------------------------------------------------------------


def associations() -> "list[Organisation]":
    return Organisation.objects.filter(
        status=OrganisationStatus.APPROVED, kind__slug=rules.ELDER_ASSOCIATION_SLUG
    ).select_related("region")


@transaction.atomic
def time_request_create(
    *, actor, organisation, beneficiary: str, service_item, hours, description: str, request=None
) -> TimeRequest:
    """Ask the association for service (for oneself or a relative), paid from one's balance at once."""
    minutes = rules.minutes_from_hours(hours)
    if organisation is None or not associations().filter(pk=organisation.pk).exists():
        raise ValidationError(rules.NOT_AN_ASSOCIATION, code="not_an_association")
    description = " ".join((description or "").split())[:300]
    if not description:
        raise ValidationError(rules.DESCRIPTION_REQUIRED, code="description_required")
    beneficiary = " ".join((beneficiary or "").split())[:50] or str(actor)
    time_request = TimeRequest.objects.create(
        requester=actor,
        organisation=organisation,
        beneficiary=beneficiary,
        service_item=service_item,
        minutes=minutes,
        description=description,
    )
    tx = TimeTransaction.objects.create(
        kind=TransactionKind.WITHDRAWAL, minutes=minutes, request=time_request, created_by=actor
    )
    _post(tx, [(account_for(actor), -minutes), (_system(AccountKind.SPENT), minutes)])
    audit.record(AuditAction.CREATE, request=request, actor=actor, obj=time_request, changes={"minutes": minutes})
    return time_request


def _is_association_admin(user, organisation_id: int) -> bool:
    return Organisation.objects.filter(
        pk=organisation_id,
        memberships__user=user,
        memberships__is_admin=True,
        memberships__status=MembershipStatus.ACTIVE,
    ).exists()


def _locked_open(actor, time_request: TimeRequest) -> TimeRequest:
    locked = TimeRequest.objects.select_for_update().get(pk=time_request.pk)
    if locked.status != TimeRequestStatus.OPEN:
        raise ValidationError(rules.REQUEST_NOT_OPEN, code="request_not_open")
    return locked


@transaction.atomic
def time_request_cancel(*, actor, time_request: TimeRequest, request=None) -> TimeRequest:
    """Cancelled while still open: the time goes back to whoever paid it."""
    if actor.pk != time_request.requester_id and not _is_association_admin(actor, time_request.organisation_id):
        raise PermissionDenied(rules.NOT_YOUR_REQUEST)
    locked = _locked_open(actor, time_request)
    locked.status = TimeRequestStatus.CANCELLED
    locked.save(update_fields=["status"])
    tx = TimeTransaction.objects.create(
        kind=TransactionKind.REFUND, minutes=locked.minutes, request=locked, created_by=actor
    )
    _post(tx, [(_system(AccountKind.SPENT), -locked.minutes), (account_for(locked.requester), locked.minutes)])
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=locked, changes={"status": "cancelled"})
    return locked


@transaction.atomic
def time_request_arrange(*, actor, time_request: TimeRequest, activity, request=None) -> TimeRequest:
    """The association's admin arranges the service as one of its activities (volunteers sign up there)."""
    if not _is_association_admin(actor, time_request.organisation_id):
        raise PermissionDenied(rules.NOT_YOUR_REQUEST)
    if activity is None or activity.organisation_id != time_request.organisation_id:
        raise ValidationError(rules.ACTIVITY_NOT_OURS, code="activity_not_ours")
    locked = _locked_open(actor, time_request)
    locked.status = TimeRequestStatus.ARRANGED
    locked.activity = activity
    locked.save(update_fields=["status", "activity"])
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=locked,
        changes={"status": "arranged", "activity": activity.pk},
    )
    return locked
