"""Government purchasing: contracts, building monthly settlements, and their state changes.

Who does what:
- a county officer (RoleKind.COUNTY_OFFICER, a writing role) whose scope covers the buyer region creates and
  edits contracts, approves or returns settlements, and marks them paid — never for an organisation they
  are an admin of (one person is not both provider and reviewer);
- the provider organisation's admin builds the settlement of a month and submits it (an officer may build a
  draft too, to look at it);
- everyone else with the contract in scope (township officers, supervisors) only reads.

Settlement of a month (`settlement_build`): the organisation's confirmed, unsettled purchased-service
records that start in the month are each billed under the contract line of their item or listed as not
billable with a reason (no line, outside the period or the buyer's area, over a cap, reversed before
settlement, same visit). Quantities per item are summed in the database (GROUP BY item); the amount of a
line is rounded once, in `line_amount`. A reversal of a record settled earlier under the contract becomes a
negative adjustment line in the next settlement built. Approval marks the billed records SETTLED (locked).

Money is Decimal, yuan to the fen; SQL sums are only ever taken over integer minutes and units.
"""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction, RegionLevel, RoleKind
from portal.scoping import can_write, in_scope, scope_queryset, scope_regions
from services.purchasing.models import (
    SPENT_STATUSES,
    ContractLine,
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
    from volunteers.models import Membership, MembershipStatus

    return Membership.objects.filter(user=user, is_admin=True, status=MembershipStatus.ACTIVE).values("organisation_id")


def is_provider_admin(user, contract: PurchaseContract) -> bool:
    from volunteers.organisations import is_org_admin

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
        from portal.models import Region

        return Region.objects.none()
    return (
        scope_regions(user, roles=[RoleKind.COUNTY_OFFICER])
        .filter(level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP])
        .order_by("code")
    )


def contracts_for(user) -> QuerySet:
    """Contracts the user may see: buyers in their scope (any staff role), or their own organisation's."""
    if not getattr(user, "is_authenticated", False):
        return PurchaseContract.objects.none()
    base = PurchaseContract.objects.all()
    return scope_queryset(user, base, region_field="region") | base.filter(organisation_id__in=_admin_org_ids(user))


def contract_visible(*, user, pk) -> PurchaseContract:
    contract = contracts_for(user).select_related("region", "organisation").filter(pk=pk).first()
    if contract is None:
        raise Http404
    return contract


def settlements_for(user) -> QuerySet:
    return Settlement.objects.filter(contract__in=contracts_for(user).values("pk"))


def settlement_visible(*, user, pk) -> Settlement:
    settlement = (
        settlements_for(user)
        .select_related("contract__region", "contract__organisation", "submitted_by", "approved_by", "built_by")
        .filter(pk=pk)
        .first()
    )
    if settlement is None:
        raise Http404
    return settlement


# --- spend -----------------------------------------------------------------------------------------


def spend_by_contract(contracts_qs: QuerySet) -> QuerySet:
    """Contracts annotated with `spent`: the Decimal sum of their approved and paid settlements' totals.

    A correlated subquery (not a join), so it composes with other annotations without multiplying rows.
    """
    spent = (
        Settlement.objects.filter(contract=OuterRef("pk"), status__in=SPENT_STATUSES)
        .order_by()
        .values("contract")
        .annotate(s=Sum("total"))
        .values("s")
    )
    return contracts_qs.annotate(
        spent=Coalesce(Subquery(spent, output_field=MONEY), Value(Decimal("0.00")), output_field=MONEY)
    )


def _exact_spent(contract: PurchaseContract, *, exclude_pk=None) -> Decimal:
    """Spent so far, summed in Python over Decimals (what approval checks against the cap)."""
    totals = Settlement.objects.filter(contract=contract, status__in=SPENT_STATUSES)
    if exclude_pk:
        totals = totals.exclude(pk=exclude_pk)
    return sum(totals.values_list("total", flat=True), Decimal("0.00"))


def budget_state(contract: PurchaseContract, spent: Decimal | None = None) -> dict:
    """Spend against the cap: amounts, percentage (for the bar) and whether to warn (≥ 90 %)."""
    spent = _exact_spent(contract) if spent is None else Decimal(spent)
    pending = sum(
        Settlement.objects.filter(contract=contract, status=SettlementStatus.SUBMITTED).values_list("total", flat=True),
        Decimal("0.00"),
    )
    budget = contract.budget
    ratio = spent / budget if budget else Decimal(0)
    return {
        "budget": budget,
        "spent": spent,
        "pending": pending,
        "left": budget - spent,
        "percent": int(min(ratio, Decimal(1)) * 100),
        "warn": ratio >= BUDGET_WARNING_RATIO,
        "over": spent > budget,
    }


# --- contracts -------------------------------------------------------------------------------------


def _overlaps(*, organisation, start, end, item_ids, exclude_pk=None) -> list[ContractLine]:
    lines = ContractLine.objects.filter(
        contract__organisation=organisation,
        contract__start__lte=end,
        contract__end__gte=start,
        service_item_id__in=item_ids,
    ).select_related("contract", "service_item")
    if exclude_pk:
        lines = lines.exclude(contract_id=exclude_pk)
    return list(lines)


def check_contract(contract: PurchaseContract, lines: list[dict]) -> None:
    """Every contract rule; one ValidationError listing all violations."""
    errors = []
    if contract.region_id and contract.region.level not in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP):
        errors.append(ValidationError(BUYER_LEVEL, code="buyer_level"))
    if contract.organisation_id and contract.organisation.status != "approved":
        errors.append(ValidationError(ORG_NOT_APPROVED, code="org_not_approved"))
    if contract.start and contract.end and contract.end < contract.start:
        errors.append(ValidationError(PERIOD_ORDER, code="period_order"))
    if contract.budget is None or contract.budget <= 0:
        errors.append(ValidationError(BUDGET_POSITIVE, code="budget_positive"))
    if contract.pk and contract.budget is not None and contract.budget > 0:
        spent = _exact_spent(contract)
        if contract.budget < spent:
            errors.append(ValidationError(BUDGET_BELOW_SPENT, code="budget_below_spent", params={"spent": spent}))
    if not lines:
        errors.append(ValidationError(NO_LINES, code="no_lines"))
    seen = set()
    for line in lines:
        item = line["service_item"]
        if item.pk in seen:
            errors.append(ValidationError(DUPLICATE_ITEM, code="duplicate_item", params={"item": item.name}))
        seen.add(item.pk)
        price = line.get("unit_price")
        if price is None or Decimal(price) <= 0:
            errors.append(ValidationError(PRICE_POSITIVE, code="price_positive"))
        for cap in ("cap_per_elder", "cap_per_month"):
            if line.get(cap) is not None and Decimal(line[cap]) <= 0:
                errors.append(ValidationError(CAP_POSITIVE, code="cap_positive"))
    if contract.organisation_id and contract.start and contract.end and seen and not errors:
        for other in _overlaps(
            organisation=contract.organisation,
            start=contract.start,
            end=contract.end,
            item_ids=seen,
            exclude_pk=contract.pk,
        ):
            errors.append(
                ValidationError(
                    OVERLAP,
                    code="overlap",
                    params={
                        "organisation": contract.organisation.name,
                        "contract": other.contract.number or f"#{other.contract_id}",
                        "item": other.service_item.name,
                        "start": other.contract.start.isoformat(),
                        "end": other.contract.end.isoformat(),
                    },
                )
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def contract_save(*, actor, contract: PurchaseContract, lines: list[dict], request=None) -> PurchaseContract:
    """Create or change a contract and replace its priced lines (kept by item, so their ids survive)."""
    if not is_buyer_officer(actor, contract.region):
        raise PermissionDenied(NOT_OFFICER)
    creating = contract.pk is None
    if not creating:
        # Lock the row: two officers saving at once would otherwise both pass the overlap check.
        stored = PurchaseContract.objects.select_for_update().get(pk=contract.pk)
        if not is_buyer_officer(actor, stored.region):
            raise PermissionDenied(NOT_OFFICER)
        parties_changed = (stored.organisation_id, stored.region_id) != (contract.organisation_id, contract.region_id)
        if parties_changed and stored.settlements.exists():
            raise ValidationError(PARTIES_FIXED, code="parties_fixed")
    if contract.organisation_id and is_provider_admin(actor, contract):
        raise PermissionDenied(OWN_CONTRACT)
    # Serialise saves for one organisation (the overlap rule spans its contracts).
    from volunteers.models import Organisation

    Organisation.objects.select_for_update().filter(pk=contract.organisation_id).first()
    check_contract(contract, lines)
    if creating:
        contract.created_by = actor
    contract.save()
    existing = {line.service_item_id: line for line in contract.lines.all()}
    wanted = {line["service_item"].pk for line in lines}
    ContractLine.objects.filter(contract=contract).exclude(service_item_id__in=wanted).delete()
    for data in lines:
        line = existing.get(data["service_item"].pk) or ContractLine(
            contract=contract, service_item=data["service_item"]
        )
        line.unit = data.get("unit") or Unit.HOUR
        line.unit_price = Decimal(data["unit_price"])
        line.cap_per_elder = data.get("cap_per_elder")
        line.cap_per_month = data.get("cap_per_month")
        line.save()
    audit.record(
        AuditAction.CREATE if creating else AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=contract,
        changes={
            "organisation": contract.organisation_id,
            "period": [contract.start.isoformat(), contract.end.isoformat()],
            "budget": str(contract.budget),
            "lines": [[d["service_item"].pk, d.get("unit"), str(d["unit_price"])] for d in lines],
        },
    )
    return contract


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
    start_dt, end_dt = month_bounds(month)
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
    _, end_dt = month_bounds(month)
    contract_start, _ = month_bounds(contract.start.replace(day=1))
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
            amount=line_amount(paid.unit, paid.unit_price, minutes, units),
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
                amount=line_amount(priced.unit, priced.unit_price, row["minutes"], row["units"]),
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
        if not contracts_for(actor).filter(pk=contract.pk).exists():
            raise Http404
        if not (is_provider_admin(actor, contract) or is_buyer_officer(actor, contract.region)):
            raise PermissionDenied(NOT_PARTY)
    month = month.replace(day=1)
    if month_last_day(month) < contract.start or month > contract.end:
        raise ValidationError(
            MONTH_OUTSIDE,
            code="month_outside",
            params={"month": f"{month:%Y-%m}", "start": contract.start.isoformat(), "end": contract.end.isoformat()},
        )
    settlement, _created = Settlement.objects.select_for_update().get_or_create(contract=contract, month=month)
    if settlement.status != SettlementStatus.DRAFT:
        raise ValidationError(NOT_DRAFT, code="not_draft", params={"status": settlement.get_status_display()})
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
        message = NOT_SUBMITTED if old == SettlementStatus.SUBMITTED else NOT_DRAFT
        raise ValidationError(message, code="state_changed", params={"status": settlement.get_status_display()})
    for name, value in fields.items():
        setattr(settlement, name, value)


@transaction.atomic
def settlement_submit(*, actor, settlement: Settlement, request=None) -> Settlement:
    settlement = _lock(settlement)
    if not settlements_for(actor).filter(pk=settlement.pk).exists():
        raise Http404
    if not is_provider_admin(actor, settlement.contract):
        raise PermissionDenied(NOT_PROVIDER)
    if settlement.status != SettlementStatus.DRAFT:
        raise ValidationError(NOT_DRAFT, code="not_draft", params={"status": settlement.get_status_display()})
    if settlement.built_at is None:
        raise ValidationError(NOT_BUILT, code="not_built")
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
    if not settlements_for(actor).filter(pk=settlement.pk).exists():
        raise Http404
    if not is_buyer_officer(actor, settlement.contract.region):
        raise PermissionDenied(NOT_OFFICER)
    if is_provider_admin(actor, settlement.contract):
        raise PermissionDenied(OWN_ORGANISATION)


@transaction.atomic
def settlement_approve(*, actor, settlement: Settlement, request=None) -> Settlement:
    """Approve: refuse a second approval, an over-budget one, and one whose records moved; lock the records.

    The contract row is locked first, so two settlements of one contract are approved one after the other
    and the budget check sees the first one's spend."""
    contract = PurchaseContract.objects.select_for_update().get(pk=settlement.contract_id)
    settlement = _lock(settlement)
    _check_reviewer(actor, settlement)
    if settlement.status != SettlementStatus.SUBMITTED:
        raise ValidationError(NOT_SUBMITTED, code="not_submitted", params={"status": settlement.get_status_display()})
    spent = _exact_spent(contract, exclude_pk=settlement.pk)
    after = spent + settlement.total
    if after > contract.budget:
        raise ValidationError(
            OVER_BUDGET,
            code="over_budget",
            params={"total": settlement.total, "after": after, "budget": contract.budget},
        )
    billed = SettlementRecord.objects.filter(settlement=settlement, billable=True).values("record_id")
    moved = ServiceRecord.objects.filter(pk__in=billed, status=RecordStatus.CONFIRMED).update(
        status=RecordStatus.SETTLED, updated_at=timezone.now()
    )
    if moved != settlement.billed_count:
        transaction.set_rollback(True)
        raise ValidationError(RECORDS_CHANGED, code="records_changed")
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
        raise ValidationError(REASON_REQUIRED, code="reason_required")
    settlement = _lock(settlement)
    _check_reviewer(actor, settlement)
    if settlement.status != SettlementStatus.SUBMITTED:
        raise ValidationError(NOT_SUBMITTED, code="not_submitted", params={"status": settlement.get_status_display()})
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
        raise ValidationError(VOUCHER_REQUIRED, code="voucher_required")
    if paid_on > timezone.localdate():
        raise ValidationError(PAID_IN_FUTURE, code="paid_in_future")
    settlement = _lock(settlement)
    if not settlements_for(actor).filter(pk=settlement.pk).exists():
        raise Http404
    if not is_buyer_officer(actor, settlement.contract.region):
        raise PermissionDenied(NOT_OFFICER)
    if is_provider_admin(actor, settlement.contract):
        raise PermissionDenied(OWN_ORGANISATION)
    if settlement.status != SettlementStatus.APPROVED:
        raise ValidationError(NOT_APPROVED, code="not_approved", params={"status": settlement.get_status_display()})
    changed = Settlement.objects.filter(pk=settlement.pk, status=SettlementStatus.APPROVED).update(
        status=SettlementStatus.PAID, paid_on=paid_on, voucher_no=voucher_no[:40], updated_at=timezone.now()
    )
    if not changed:
        settlement.refresh_from_db()
        raise ValidationError(NOT_APPROVED, code="not_approved", params={"status": settlement.get_status_display()})
    settlement.status, settlement.paid_on, settlement.voucher_no = SettlementStatus.PAID, paid_on, voucher_no[:40]
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=settlement,
        changes={"status": ["approved", "paid"], "paid_on": paid_on.isoformat(), "voucher_no": voucher_no[:40]},
    )
    return settlement


# --- exports ---------------------------------------------------------------------------------------


def settlement_lines(settlement: Settlement) -> QuerySet:
    return settlement.lines.select_related("service_item", "record").order_by("kind", "service_item__name", "pk")


def excluded_entries(settlement: Settlement) -> QuerySet:
    return (
        settlement.entries.filter(billable=False)
        .select_related("record__giver", "record__elder", "record__service_item")
        .order_by("record__start", "record_id")
    )


def settlement_xlsx(settlement: Settlement) -> bytes:
    """The settlement for finance: header, lines with quantity, price and amount, total, excluded records."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    from django.utils.translation import gettext

    contract = settlement.contract
    book = Workbook()
    sheet = book.active
    sheet.title = gettext("Settlement")[:31]
    bold = Font(bold=True)
    sheet.append([gettext("Settlement"), f"{contract.organisation.name} {settlement.month:%Y-%m}"])
    sheet["A1"].font = bold
    sheet.append([gettext("Buyer"), contract.region.name])
    sheet.append([gettext("Contract"), str(contract)])
    sheet.append([gettext("Status"), settlement.get_status_display()])
    sheet.append([])
    header = [
        gettext("Kind"),
        gettext("Service item"),
        gettext("Unit"),
        gettext("Quantity"),
        gettext("Unit price (yuan)"),
        gettext("Amount (yuan)"),
        gettext("Records"),
        gettext("Note"),
    ]
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for line in settlement_lines(settlement):
        sheet.append(
            [
                line.get_kind_display(),
                line.service_item.name,
                line.get_unit_display(),
                line.quantity,
                line.unit_price,
                line.amount,
                line.record_count,
                line.note,
            ]
        )
        for col in (4, 5, 6):
            sheet.cell(row=sheet.max_row, column=col).number_format = "0.00"
    sheet.append([gettext("Total"), "", "", "", "", settlement.total])
    sheet.cell(row=sheet.max_row, column=6).number_format = "0.00"
    sheet.cell(row=sheet.max_row, column=1).font = bold
    excluded = book.create_sheet(gettext("Not billable")[:31])
    excluded.append(
        [
            gettext("Record"),
            gettext("Date"),
            gettext("Giver"),
            gettext("Elder"),
            gettext("Service item"),
            gettext("Minutes"),
            gettext("Reason"),
        ]
    )
    for entry in excluded_entries(settlement):
        record = entry.record
        excluded.append(
            [
                record.pk,
                timezone.localtime(record.start).strftime("%Y-%m-%d %H:%M"),
                str(record.giver),
                record.elder.name if record.elder_id else "",
                record.service_item.name,
                entry.minutes,
                entry.get_reason_display(),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
