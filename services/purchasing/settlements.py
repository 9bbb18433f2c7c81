"""Monthly settlements (结算) of a contract: built, submitted, approved or returned, paid.

Settlement of a month (`settlement_build`): the organisation's confirmed, unsettled purchased-service
records that start in the month are each billed under the contract line of their item or listed as not
billable with a reason (no line, outside the period or the buyer's area, over a cap, reversed before
settlement, same visit). Quantities per item are summed in the database (GROUP BY item); the amount of a
line is rounded once, in `line_amount`. A reversal of a record settled earlier under the contract becomes a
negative adjustment line in the next settlement built. Approval marks the billed records SETTLED (locked)."""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Sum,
)
from django.http import Http404
from django.utils import timezone

from portal import audit
from portal.formatting import money
from portal.models import AuditAction
from services.purchasing import rules as purchasing_rules
from services.purchasing import selectors as purchasing_reads
from services.purchasing.models import (
    SPENT_STATUSES,
    ExclusionReason,
    LineKind,
    PurchaseContract,
    Settlement,
    SettlementLine,
    SettlementRecord,
    SettlementStatus,
    Unit,
)
from services.records.models import RecordKind, RecordStatus, ServiceRecord

# --- building a settlement -------------------------------------------------------------------------


def _quantity(unit: str, minutes: int, units: int) -> int:
    """The amount a cap is compared with: minutes for hourly lines, the count otherwise."""
    return minutes if unit == Unit.HOUR else units


def _cap_limit(unit: str, cap) -> int | None:
    if cap is None:
        return None
    return int(Decimal(cap) * 60) if unit == Unit.HOUR else int(cap)


def _classify(contract: PurchaseContract, month: datetime.date) -> list[tuple]:
    """One entry (record id, item id, billed, reason, minutes, units) per record of the month: billed, or not billable
    with the reason. Caps are applied in
    time order (the earliest services are paid first). Reads only this organisation's month of records."""
    start_dt, end_dt = purchasing_rules.month_bounds(month)
    lines = {line.service_item_id: line for line in contract.lines.all()}
    prefix = contract.region.prefix
    period_from = timezone.make_aware(datetime.datetime.combine(contract.start, datetime.time.min))
    period_until = timezone.make_aware(
        datetime.datetime.combine(contract.end + datetime.timedelta(days=1), datetime.time.min)
    )
    rows = (
        ServiceRecord.objects.filter(
            organisation_id=contract.organisation_id,
            kind=RecordKind.PURCHASED,
            status=RecordStatus.CONFIRMED,
            start__gte=start_dt,
            start__lt=end_dt,
            # Only the buyer's area: service elsewhere is not this contract's business, and listing it would
            # show the buyer's officers elders and givers outside their scope.
            region__pk__range=(prefix.ljust(12, "0"), prefix.ljust(12, "9")),
        )
        .annotate(
            has_reversal=Exists(ServiceRecord.objects.filter(reverses=OuterRef("pk"))),
        )
        .order_by("start", "pk")
        .values_list(
            "pk",
            "service_item_id",
            "elder_id",
            "minutes",
            "sign",
            "start",
            "group_key",
            "has_reversal",
            "reverses__status",
        )
    )
    elder_used: dict = {}
    month_used: dict = {}
    visits_seen: set = set()
    entries = []
    for pk, item_id, elder_id, minutes, sign, start, group_key, has_reversal, original_status in rows:
        if sign == -1:
            if original_status == RecordStatus.SETTLED:
                continue  # a correction of a settled record: an adjustment line (see _adjustments)
            entries.append((pk, item_id, False, ExclusionReason.REVERSED, -minutes, 0))
            continue

        def exclude(reason, pk=pk, item_id=item_id, minutes=minutes):
            entries.append((pk, item_id, False, reason, minutes, 0))

        if has_reversal:
            exclude(ExclusionReason.REVERSED)
            continue
        line = lines.get(item_id)
        if line is None:
            exclude(ExclusionReason.NO_LINE)
            continue
        if not (period_from <= start < period_until):
            exclude(ExclusionReason.OUTSIDE_PERIOD)
            continue
        units = 1
        if line.unit == Unit.VISIT:
            visit = (item_id, elder_id, group_key or f"r{pk}")
            if visit in visits_seen:
                exclude(ExclusionReason.SAME_VISIT)
                continue
        quantity = _quantity(line.unit, minutes, units)
        elder_key = (item_id, elder_id)
        elder_cap = _cap_limit(line.unit, line.cap_per_elder)
        if elder_cap is not None and elder_used.get(elder_key, 0) + quantity > elder_cap:
            exclude(ExclusionReason.ELDER_CAP)
            continue
        month_cap = _cap_limit(line.unit, line.cap_per_month)
        if month_cap is not None and month_used.get(item_id, 0) + quantity > month_cap:
            exclude(ExclusionReason.MONTH_CAP)
            continue
        elder_used[elder_key] = elder_used.get(elder_key, 0) + quantity
        month_used[item_id] = month_used.get(item_id, 0) + quantity
        if line.unit == Unit.VISIT:
            visits_seen.add((item_id, elder_id, group_key or f"r{pk}"))
        entries.append((pk, item_id, True, "", minutes, units))
    return entries


def _adjustments(contract: PurchaseContract, month: datetime.date) -> list[tuple[SettlementRecord, SettlementLine]]:
    """Reversals of records settled under this contract, entered before the month ended: negative lines that
    repeat the original's quantity at the price it was paid."""
    _, end_dt = purchasing_rules.month_bounds(month)
    contract_start, _ = purchasing_rules.month_bounds(contract.start.replace(day=1))
    # Reversals are rare: their ids come from the unique index on `reverses` alone (a subquery the database
    # answers without touching the organisation's many records), then the few rows are checked.
    reversal_ids = ServiceRecord.objects.filter(reverses__isnull=False).values("pk")
    reversals = list(
        ServiceRecord.objects.filter(
            pk__in=reversal_ids,
            organisation_id=contract.organisation_id,
            status=RecordStatus.CONFIRMED,
            start__gte=contract_start,
            start__lt=end_dt,
            kind=RecordKind.PURCHASED,
            sign=-1,
            created_at__lt=end_dt,
        )
        .order_by("created_at", "pk")
        .values_list("pk", "reverses_id", "reason")
    )
    if not reversals:
        return []
    originals = {
        entry.record_id: entry
        for entry in SettlementRecord.objects.filter(
            record_id__in=[r[1] for r in reversals],
            record__status=RecordStatus.SETTLED,
            billable=True,
            settlement__contract=contract,
            settlement__status__in=SPENT_STATUSES,
        ).select_related("line", "settlement")
    }
    reversals = [r for r in reversals if r[1] in originals]
    made = []
    for pk, original_pk, reason in reversals:
        original = originals[original_pk]
        paid = original.line
        minutes, units = -original.minutes, -original.units
        line = SettlementLine(
            kind=LineKind.ADJUSTMENT,
            contract_line=paid.contract_line,
            service_item_id=paid.service_item_id,
            unit=paid.unit,
            unit_price=paid.unit_price,
            minutes=minutes,
            units=units,
            record_count=1,
            amount=purchasing_rules.line_amount(paid.unit, paid.unit_price, minutes, units),
            record_id=original_pk,
            note=f"{original.settlement.month:%Y-%m} #{original_pk}: {reason}"[:300],
        )
        entry = SettlementRecord(
            record_id=pk, service_item_id=paid.service_item_id, billable=True, minutes=minutes, units=units
        )
        made.append((entry, line))
    return made


def _insert_entries(settlement: Settlement, entries: list[tuple]) -> None:
    """Plain executemany of prepared tuples: a month can hold tens of thousands of records, and the ORM's
    per-field preparation in bulk_create costs ~0.2 ms a row (the same choice as generate_records)."""
    from django.db import connection

    table = SettlementRecord._meta.db_table
    qn = connection.ops.quote_name
    columns = ("settlement_id", "record_id", "service_item_id", "billable", "reason", "minutes", "units")
    sql = (
        f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in columns)}) "  # noqa: S608 — names from the model
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    rows = [
        (settlement.pk, rid, item, billable, str(reason), minutes, units)
        for rid, item, billable, reason, minutes, units in entries
    ]
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


def _fill(settlement: Settlement) -> None:
    """(Re)compute the entries, the lines and the totals of a draft settlement."""
    contract = settlement.contract
    settlement.entries.all().delete()
    settlement.lines.all().delete()
    _insert_entries(settlement, _classify(contract, settlement.month))

    # Quantities per item, summed in the database over the billed entries (GROUP BY item).
    sums = (
        SettlementRecord.objects.filter(settlement=settlement, billable=True)
        .values("service_item_id")
        .annotate(minutes=Sum("minutes"), units=Sum("units"), n=Count("pk"))
        .order_by("service_item_id")
    )
    prices = {line.service_item_id: line for line in contract.lines.all()}
    lines = []
    for row in sums:
        priced = prices[row["service_item_id"]]
        lines.append(
            SettlementLine(
                settlement=settlement,
                kind=LineKind.REGULAR,
                contract_line=priced,
                service_item_id=priced.service_item_id,
                unit=priced.unit,
                unit_price=priced.unit_price,
                minutes=row["minutes"],
                units=row["units"],
                record_count=row["n"],
                amount=purchasing_rules.line_amount(priced.unit, priced.unit_price, row["minutes"], row["units"]),
            )
        )
    SettlementLine.objects.bulk_create(lines)
    for line in SettlementLine.objects.filter(settlement=settlement, kind=LineKind.REGULAR):
        SettlementRecord.objects.filter(
            settlement=settlement, billable=True, service_item_id=line.service_item_id
        ).update(line=line)

    for entry, line in _adjustments(contract, settlement.month):
        line.settlement = settlement
        line.save()
        entry.settlement = settlement
        entry.line = line
        entry.save()

    amounts = settlement.lines.values_list("amount", flat=True)
    settlement.total = sum(amounts, Decimal("0.00"))
    settlement.billed_count = settlement.entries.filter(billable=True).count()
    settlement.excluded_count = settlement.entries.filter(billable=False).count()


@transaction.atomic
def settlement_build(
    *, actor, contract: PurchaseContract, month: datetime.date, request=None, system: bool = False
) -> Settlement:
    """Build (or build again) the draft settlement of a contract for a month.

    `system=True` (the `settle` command run by an operator, actor None) skips the party check; a draft
    changes nothing outside itself, approval always needs a person."""
    contract = PurchaseContract.objects.select_for_update().select_related("region", "organisation").get(pk=contract.pk)
    if not system:
        if not purchasing_reads.contracts_for(actor).filter(pk=contract.pk).exists():
            raise Http404
        if not (
            purchasing_rules.is_provider_admin(actor, contract)
            or purchasing_rules.is_buyer_officer(actor, contract.region)
        ):
            raise PermissionDenied(purchasing_rules.NOT_PARTY)
    month = month.replace(day=1)
    if purchasing_rules.month_last_day(month) < contract.start or month > contract.end:
        raise ValidationError(
            purchasing_rules.MONTH_OUTSIDE,
            code="month_outside",
            params={"month": f"{month:%Y-%m}", "start": contract.start.isoformat(), "end": contract.end.isoformat()},
        )
    settlement, _created = Settlement.objects.select_for_update().get_or_create(contract=contract, month=month)
    if settlement.status != SettlementStatus.DRAFT:
        raise ValidationError(
            purchasing_rules.NOT_DRAFT, code="not_draft", params={"status": settlement.get_status_display()}
        )
    settlement.contract = contract
    _fill(settlement)
    settlement.built_by = actor
    settlement.built_at = timezone.now()
    settlement.save()
    audit.record(
        AuditAction.CHANGE if not _created else AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=settlement,
        changes={
            "built": f"{month:%Y-%m}",
            "total": str(settlement.total),
            "billed": settlement.billed_count,
            "excluded": settlement.excluded_count,
        },
    )
    return settlement


# --- state changes ---------------------------------------------------------------------------------


def _lock(settlement: Settlement) -> Settlement:
    locked = (
        Settlement.objects.select_for_update()
        .select_related("contract__region", "contract__organisation")
        .filter(pk=settlement.pk)
        .first()
    )
    if locked is None:
        raise Http404
    return locked


def _move(settlement: Settlement, old: str, **fields) -> None:
    """The conditional UPDATE (second guard where rows cannot be locked): only one change lands."""
    changed = Settlement.objects.filter(pk=settlement.pk, status=old).update(updated_at=timezone.now(), **fields)
    if not changed:
        settlement.refresh_from_db()
        message = purchasing_rules.NOT_SUBMITTED if old == SettlementStatus.SUBMITTED else purchasing_rules.NOT_DRAFT
        raise ValidationError(message, code="state_changed", params={"status": settlement.get_status_display()})
    for name, value in fields.items():
        setattr(settlement, name, value)


@transaction.atomic
def settlement_submit(*, actor, settlement: Settlement, request=None) -> Settlement:
    settlement = _lock(settlement)
    if not purchasing_reads.settlements_for(actor).filter(pk=settlement.pk).exists():
        raise Http404
    if not purchasing_rules.is_provider_admin(actor, settlement.contract):
        raise PermissionDenied(purchasing_rules.NOT_PROVIDER)
    if settlement.status != SettlementStatus.DRAFT:
        raise ValidationError(
            purchasing_rules.NOT_DRAFT, code="not_draft", params={"status": settlement.get_status_display()}
        )
    if settlement.built_at is None:
        raise ValidationError(purchasing_rules.NOT_BUILT, code="not_built")
    _move(
        settlement,
        SettlementStatus.DRAFT,
        status=SettlementStatus.SUBMITTED,
        submitted_by=actor,
        submitted_at=timezone.now(),
        reject_reason="",
    )
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=settlement,
        changes={"status": ["draft", "submitted"], "total": str(settlement.total)},
    )
    return settlement


def _check_reviewer(actor, settlement: Settlement) -> None:
    if not purchasing_reads.settlements_for(actor).filter(pk=settlement.pk).exists():
        raise Http404
    if not purchasing_rules.is_buyer_officer(actor, settlement.contract.region):
        raise PermissionDenied(purchasing_rules.NOT_OFFICER)
    if purchasing_rules.is_provider_admin(actor, settlement.contract):
        raise PermissionDenied(purchasing_rules.OWN_ORGANISATION)


@transaction.atomic
def settlement_approve(*, actor, settlement: Settlement, request=None) -> Settlement:
    """Approve: refuse a second approval, an over-budget one, and one whose records moved; lock the records.

    The contract row is locked first, so two settlements of one contract are approved one after the other
    and the budget check sees the first one's spend."""
    contract = PurchaseContract.objects.select_for_update().get(pk=settlement.contract_id)
    settlement = _lock(settlement)
    _check_reviewer(actor, settlement)
    if settlement.status != SettlementStatus.SUBMITTED:
        raise ValidationError(
            purchasing_rules.NOT_SUBMITTED, code="not_submitted", params={"status": settlement.get_status_display()}
        )
    spent = purchasing_reads._exact_spent(contract, exclude_pk=settlement.pk)
    after = spent + settlement.total
    if after > contract.budget:
        raise ValidationError(
            purchasing_rules.OVER_BUDGET,
            code="over_budget",
            params={"total": money(settlement.total), "after": money(after), "budget": money(contract.budget)},
        )
    billed = SettlementRecord.objects.filter(settlement=settlement, billable=True).values("record_id")
    moved = ServiceRecord.objects.filter(pk__in=billed, status=RecordStatus.CONFIRMED).update(
        status=RecordStatus.SETTLED, updated_at=timezone.now()
    )
    if moved != settlement.billed_count:
        transaction.set_rollback(True)
        raise ValidationError(purchasing_rules.RECORDS_CHANGED, code="records_changed")
    _move(
        settlement,
        SettlementStatus.SUBMITTED,
        status=SettlementStatus.APPROVED,
        approved_by=actor,
        approved_at=timezone.now(),
    )
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=settlement,
        changes={"status": ["submitted", "approved"], "total": str(settlement.total), "records_settled": moved},
    )
    return settlement


@transaction.atomic
def settlement_reject(*, actor, settlement: Settlement, reason: str, request=None) -> Settlement:
    """Return a submitted settlement to draft with the reason; the provider builds it again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(purchasing_rules.REASON_REQUIRED, code="reason_required")
    settlement = _lock(settlement)
    _check_reviewer(actor, settlement)
    if settlement.status != SettlementStatus.SUBMITTED:
        raise ValidationError(
            purchasing_rules.NOT_SUBMITTED, code="not_submitted", params={"status": settlement.get_status_display()}
        )
    _move(settlement, SettlementStatus.SUBMITTED, status=SettlementStatus.DRAFT, reject_reason=reason[:300])
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=settlement,
        changes={"status": ["submitted", "draft"], "reason": reason[:300]},
    )
    return settlement


@transaction.atomic
def settlement_mark_paid(*, actor, settlement: Settlement, paid_on: datetime.date, voucher_no: str, request=None):
    voucher_no = (voucher_no or "").strip()
    if paid_on is None or not voucher_no:
        raise ValidationError(purchasing_rules.VOUCHER_REQUIRED, code="voucher_required")
    if paid_on > timezone.localdate():
        raise ValidationError(purchasing_rules.PAID_IN_FUTURE, code="paid_in_future")
    settlement = _lock(settlement)
    if not purchasing_reads.settlements_for(actor).filter(pk=settlement.pk).exists():
        raise Http404
    if not purchasing_rules.is_buyer_officer(actor, settlement.contract.region):
        raise PermissionDenied(purchasing_rules.NOT_OFFICER)
    if purchasing_rules.is_provider_admin(actor, settlement.contract):
        raise PermissionDenied(purchasing_rules.OWN_ORGANISATION)
    if settlement.status != SettlementStatus.APPROVED:
        raise ValidationError(
            purchasing_rules.NOT_APPROVED, code="not_approved", params={"status": settlement.get_status_display()}
        )
    changed = Settlement.objects.filter(pk=settlement.pk, status=SettlementStatus.APPROVED).update(
        status=SettlementStatus.PAID, paid_on=paid_on, voucher_no=voucher_no[:40], updated_at=timezone.now()
    )
    if not changed:
        settlement.refresh_from_db()
        raise ValidationError(
            purchasing_rules.NOT_APPROVED, code="not_approved", params={"status": settlement.get_status_display()}
        )
    settlement.status, settlement.paid_on, settlement.voucher_no = SettlementStatus.PAID, paid_on, voucher_no[:40]
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=settlement,
        changes={"status": ["approved", "paid"], "paid_on": paid_on.isoformat(), "voucher_no": voucher_no[:40]},
    )
    return settlement
