# ruff: noqa: F811 — fixtures imported from factories_purchasing
"""Purchasing rules through services.purchasing.settlements: contracts, building settlements, state changes, refusals."""

import datetime
from decimal import Decimal

import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from portal.models import AuditEvent, Region
from services.models import ServiceRecord
from services.purchasing import contracts, settlements
from services.purchasing import rules as purchasing_rules
from services.purchasing import selectors as purchasing_reads
from services.purchasing.models import (
    ContractLine,
    ExclusionReason,
    LineKind,
    PurchaseContract,
    Settlement,
    SettlementStatus,
    Unit,
)
from services.records.models import RecordKind, RecordStatus
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, make_elder, staff
from services.tests.factories_purchasing import (
    OTHER_COUNTY_VILLAGE,
    build,
    line,
    local,
    make_contract,
    make_item,
    make_provider,
    make_record,
    reverse_settled,
    world,  # noqa: F401 — fixture
)
from tests.factories import UserFactory
from volunteers.models import Membership, MembershipStatus

pytestmark = pytest.mark.django_db

OCT = datetime.date(2026, 10, 5)


def rec(w, *, item=None, elder=None, day=OCT, hour=9, minutes=60, **kw):
    return make_record(
        organisation=w.organisation,
        giver=w.giver,
        elder=elder or w.elder,
        item=item or w.clean,
        start=local(day, hour),
        minutes=minutes,
        **kw,
    )


def reasons(settlement) -> dict:
    return {e.record_id: e.reason for e in settlement.entries.filter(billable=False)}


# --- money ------------------------------------------------------------------------------------------


def test_line_amount_rounds_half_up_once_per_line():
    # 30.00 yuan/h × 1 min = 0.50 exactly; 0.01 × 30 min = 0.005 → 0.01 (half up); negative: away from zero
    assert purchasing_rules.line_amount(Unit.HOUR, Decimal("30.00"), 1, 0) == Decimal("0.50")
    assert purchasing_rules.line_amount(Unit.HOUR, Decimal("0.01"), 30, 0) == Decimal("0.01")
    assert purchasing_rules.line_amount(Unit.HOUR, Decimal("0.01"), 29, 0) == Decimal("0.00")
    assert purchasing_rules.line_amount(Unit.HOUR, Decimal("0.01"), -30, 0) == Decimal("-0.01")
    assert purchasing_rules.line_amount(Unit.VISIT, Decimal("12.50"), 999, 3) == Decimal("37.50")
    assert purchasing_rules.line_amount(Unit.HOUR, Decimal("25.00"), 50, 0) == Decimal("20.83")


def test_parse_month_accepts_yyyy_mm_and_refuses_the_rest():
    assert purchasing_rules.parse_month("2026-10") == datetime.date(2026, 10, 1)
    assert purchasing_rules.parse_month(" 2026-3 ") == datetime.date(2026, 3, 1)
    for bad in ("", "2026", "2026-13", "10-2026", "abcd-ef", "2026-10-01", None):
        with pytest.raises(ValidationError) as exc:
            purchasing_rules.parse_month(bad)
        assert exc.value.code == "bad_month"


# --- building ---------------------------------------------------------------------------------------


def test_build_sums_per_item_with_price_and_amount(world):
    w = world
    rec(w, minutes=90)
    rec(w, day=OCT + datetime.timedelta(days=1), minutes=50)
    rec(w, item=w.meals, hour=14)
    rec(w, item=w.meals, elder=w.elder2, hour=16)
    settlement = build(w)
    lines = {line.service_item_id: line for line in settlement.lines.all()}
    clean, meals = lines[w.clean.pk], lines[w.meals.pk]
    assert (clean.minutes, clean.record_count, clean.unit_price) == (140, 2, Decimal("30.00"))
    assert clean.amount == Decimal("70.00")  # 140 × 30 / 60
    assert (meals.units, meals.amount) == (2, Decimal("25.00"))
    assert settlement.total == Decimal("95.00") == sum(line.amount for line in lines.values())
    assert settlement.status == SettlementStatus.DRAFT
    assert (settlement.billed_count, settlement.excluded_count) == (4, 0)
    assert AuditEvent.objects.filter(object_type="services.settlement", object_id=str(settlement.pk)).exists()


def test_only_confirmed_purchased_records_of_the_org_in_the_month_are_read(world):
    w = world
    billed = rec(w)
    rec(w, hour=11, status=RecordStatus.SUBMITTED)
    rec(w, hour=13, kind=RecordKind.VOLUNTEER)
    rec(w, day=datetime.date(2026, 11, 2))  # next month
    rec(w, day=datetime.date(2026, 9, 30), hour=23)  # the month before (local time)
    other, _ = make_provider(name="吉强镇青年志愿服务队")
    Membership.objects.create(organisation=other, user=w.giver, status=MembershipStatus.ACTIVE)
    make_record(organisation=other, giver=w.giver, elder=w.elder, item=w.clean, start=local(OCT, 15))
    settlement = build(w)
    assert list(settlement.entries.values_list("record_id", flat=True)) == [billed.pk]


def test_not_billable_records_are_listed_with_their_reason(world):
    w = world
    w.contract.start = datetime.date(2026, 10, 10)
    w.contract.save()
    ContractLine.objects.filter(contract=w.contract, service_item=w.clean).update(cap_per_elder=Decimal("2"))
    ContractLine.objects.filter(contract=w.contract, service_item=w.meals).update(cap_per_month=Decimal("1"))
    uncovered = make_item("心理疏导", category=1)
    early = rec(w, day=datetime.date(2026, 10, 9))
    no_line = rec(w, item=uncovered, day=datetime.date(2026, 10, 12))
    far_elder = make_elder(village=OTHER_COUNTY_VILLAGE, name="外县老人")
    outside = rec(w, elder=far_elder, day=datetime.date(2026, 10, 12), hour=11)
    first = rec(w, day=datetime.date(2026, 10, 13), minutes=90)
    second = rec(w, day=datetime.date(2026, 10, 14), minutes=30)  # exactly 2 h: still in
    third = rec(w, day=datetime.date(2026, 10, 15), minutes=1)  # over the 2 h per elder
    other_elder = rec(w, elder=w.elder2, day=datetime.date(2026, 10, 15), hour=11)  # own cap
    meal1 = rec(w, item=w.meals, day=datetime.date(2026, 10, 16))
    meal2 = rec(w, item=w.meals, elder=w.elder2, day=datetime.date(2026, 10, 17))  # month cap 1
    reversed_early = rec(w, day=datetime.date(2026, 10, 20))
    reversal = reverse_settled(reversed_early, actor=w.admin, entered=local(datetime.date(2026, 10, 21)))
    settlement = build(w)
    assert reasons(settlement) == {
        early.pk: ExclusionReason.OUTSIDE_PERIOD,
        no_line.pk: ExclusionReason.NO_LINE,
        third.pk: ExclusionReason.ELDER_CAP,
        meal2.pk: ExclusionReason.MONTH_CAP,
        reversed_early.pk: ExclusionReason.REVERSED,
        reversal.pk: ExclusionReason.REVERSED,
    }
    billed = set(settlement.entries.filter(billable=True).values_list("record_id", flat=True))
    assert billed == {first.pk, second.pk, other_elder.pk, meal1.pk}
    # Service outside the buyer's area is not listed at all: its officers must not see those elders.
    assert not settlement.entries.filter(record=outside).exists()
    assert settlement.total == Decimal("90.00") + Decimal("12.50")  # 3 h × 30 + 1 meal


def test_per_visit_counts_a_group_visit_once_per_person_time_counts_everyone(world):
    import uuid

    w = world
    helper = UserFactory(real_name="互助员")
    Membership.objects.create(organisation=w.organisation, user=helper, status=MembershipStatus.ACTIVE)
    key = uuid.uuid4()
    rec(w, item=w.meals, group_key=key)
    make_record(
        organisation=w.organisation, giver=helper, elder=w.elder, item=w.meals, start=local(OCT, 9), group_key=key
    )
    errands = make_item("代购代办")
    ContractLine.objects.create(contract=w.contract, service_item=errands, unit=Unit.PERSON_TIME, unit_price=10)
    rec(w, item=errands, hour=14, group_key=(key2 := uuid.uuid4()))
    make_record(
        organisation=w.organisation, giver=helper, elder=w.elder, item=errands, start=local(OCT, 14), group_key=key2
    )
    settlement = build(w)
    lines = {line.service_item_id: line for line in settlement.lines.all()}
    assert (lines[w.meals.pk].units, lines[w.meals.pk].amount) == (1, Decimal("12.50"))
    assert (lines[errands.pk].units, lines[errands.pk].amount) == (2, Decimal("20.00"))
    assert list(reasons(settlement).values()) == [ExclusionReason.SAME_VISIT]


def test_build_again_replaces_the_draft(world):
    w = world
    rec(w)
    first = build(w)
    rec(w, day=OCT + datetime.timedelta(days=1))
    again = build(w)
    assert again.pk == first.pk
    assert again.entries.count() == 2 and again.total == Decimal("60.00")
    assert Settlement.objects.count() == 1


def test_a_month_outside_the_contract_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        build(world, month=datetime.date(2027, 1, 1))
    assert exc.value.code == "month_outside"
    with pytest.raises(ValidationError):
        build(world, month=datetime.date(2025, 12, 1))
    assert not Settlement.objects.exists()


def test_someone_else_cannot_build(world, township_officer, supervisor):
    for outsider in (UserFactory(), world.giver, township_officer):  # a township does not see the county's
        with pytest.raises(Http404):
            build(world, actor=outsider)
    with pytest.raises(PermissionDenied):  # sees it (in scope) but is not a party
        build(world, actor=supervisor)
    assert not Settlement.objects.exists()


# --- submit, approve, return, pay -------------------------------------------------------------------


def submitted(w):
    rec(w)
    rec(w, item=w.meals, hour=14)
    settlement = build(w)
    return settlements.settlement_submit(actor=w.admin, settlement=settlement)


def test_full_path_locks_the_records(world):
    w = world
    settlement = submitted(w)
    assert settlement.status == SettlementStatus.SUBMITTED and settlement.submitted_by == w.admin
    settlements.settlement_approve(actor=w.officer, settlement=settlement)
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.APPROVED and settlement.approved_by == w.officer
    assert set(ServiceRecord.objects.values_list("status", flat=True)) == {RecordStatus.SETTLED}
    settlements.settlement_mark_paid(
        actor=w.officer, settlement=settlement, paid_on=datetime.date(2026, 11, 20), voucher_no="V-1"
    )
    settlement.refresh_from_db()
    assert (settlement.status, settlement.voucher_no) == (SettlementStatus.PAID, "V-1")
    spent = purchasing_reads.spend_by_contract(PurchaseContract.objects.all()).get().spent
    assert spent == settlement.total == Decimal("42.50")


def test_only_the_provider_admin_submits(world):
    w = world
    rec(w)
    settlement = build(w, actor=w.officer)  # an officer may build a draft to look at it
    with pytest.raises(PermissionDenied):
        settlements.settlement_submit(actor=w.officer, settlement=settlement)
    with pytest.raises(Http404):
        settlements.settlement_submit(actor=w.giver, settlement=settlement)
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.DRAFT


def test_approving_twice_is_refused(world):
    w = world
    settlement = submitted(w)
    settlements.settlement_approve(actor=w.officer, settlement=settlement)
    with pytest.raises(ValidationError) as exc:
        settlements.settlement_approve(actor=w.officer, settlement=settlement)
    assert exc.value.code == "not_submitted"
    assert Settlement.objects.get().approved_by == w.officer


def test_an_officer_who_runs_the_provider_cannot_approve_it(world):
    w = world
    settlement = submitted(w)
    Membership.objects.create(
        organisation=w.organisation, user=w.officer, status=MembershipStatus.ACTIVE, is_admin=True
    )
    with pytest.raises(PermissionDenied) as exc:
        settlements.settlement_approve(actor=w.officer, settlement=settlement)
    assert str(exc.value) == str(purchasing_rules.OWN_ORGANISATION)
    with pytest.raises(PermissionDenied):
        settlements.settlement_reject(actor=w.officer, settlement=settlement, reason="自己审自己")
    assert Settlement.objects.get().status == SettlementStatus.SUBMITTED
    assert set(ServiceRecord.objects.values_list("status", flat=True)) == {RecordStatus.CONFIRMED}


def test_officers_out_of_scope_or_read_only_cannot_approve(world, supervisor, township_officer):
    w = world
    settlement = submitted(w)
    elsewhere = staff("county_officer", "640104000000")
    for actor in (elsewhere, township_officer):
        with pytest.raises(Http404):
            settlements.settlement_approve(actor=actor, settlement=settlement)
    for actor in (supervisor, w.admin):
        with pytest.raises(PermissionDenied):
            settlements.settlement_approve(actor=actor, settlement=settlement)
    assert Settlement.objects.get().status == SettlementStatus.SUBMITTED


def test_approval_over_the_budget_cap_is_refused(world):
    w = world
    w.contract.budget = Decimal("42.49")
    w.contract.save()
    settlement = submitted(w)
    with pytest.raises(ValidationError) as exc:
        settlements.settlement_approve(actor=w.officer, settlement=settlement)
    assert exc.value.code == "over_budget"
    assert Settlement.objects.get().status == SettlementStatus.SUBMITTED
    assert set(ServiceRecord.objects.values_list("status", flat=True)) == {RecordStatus.CONFIRMED}
    w.contract.budget = Decimal("42.50")  # exactly the cap is allowed
    w.contract.save()
    settlements.settlement_approve(actor=w.officer, settlement=settlement)
    assert purchasing_reads.budget_state(w.contract)["warn"] is True


def test_records_changed_since_building_block_approval(world):
    w = world
    settlement = submitted(w)
    ServiceRecord.objects.filter(pk=settlement.entries.first().record_id).update(status=RecordStatus.SETTLED)
    with pytest.raises(ValidationError) as exc:
        settlements.settlement_approve(actor=w.officer, settlement=settlement)
    assert exc.value.code == "records_changed"
    assert Settlement.objects.get().status == SettlementStatus.SUBMITTED
    assert ServiceRecord.objects.filter(status=RecordStatus.CONFIRMED).count() == 1  # the update rolled back


def test_return_needs_a_reason_and_makes_it_a_draft_again(world):
    w = world
    settlement = submitted(w)
    with pytest.raises(ValidationError):
        settlements.settlement_reject(actor=w.officer, settlement=settlement, reason="  ")
    assert Settlement.objects.get().status == SettlementStatus.SUBMITTED
    settlements.settlement_reject(actor=w.officer, settlement=settlement, reason="10月5日记录缺照片")
    settlement.refresh_from_db()
    assert (settlement.status, settlement.reject_reason) == (SettlementStatus.DRAFT, "10月5日记录缺照片")
    again = build(w)
    settlements.settlement_submit(actor=w.admin, settlement=again)
    assert Settlement.objects.get().reject_reason == ""


def test_an_approved_settlement_cannot_change(world):
    w = world
    settlement = submitted(w)
    settlements.settlement_approve(actor=w.officer, settlement=settlement)
    with pytest.raises(ValidationError) as exc:
        build(w)
    assert exc.value.code == "not_draft"
    with pytest.raises(ValidationError):
        settlements.settlement_reject(actor=w.officer, settlement=settlement, reason="晚了")
    with pytest.raises(ValidationError):
        settlements.settlement_submit(actor=w.admin, settlement=settlement)
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.APPROVED and settlement.total == Decimal("42.50")


def test_paying_needs_approval_a_date_and_a_voucher(world):
    w = world
    settlement = submitted(w)
    with pytest.raises(ValidationError) as exc:
        settlements.settlement_mark_paid(
            actor=w.officer, settlement=settlement, paid_on=datetime.date(2026, 11, 1), voucher_no="V"
        )
    assert exc.value.code == "not_approved"
    settlements.settlement_approve(actor=w.officer, settlement=settlement)
    for paid_on, voucher in ((None, "V"), (datetime.date(2026, 11, 1), " "), (datetime.date(2099, 1, 1), "V")):
        with pytest.raises(ValidationError):
            settlements.settlement_mark_paid(
                actor=w.officer, settlement=settlement, paid_on=paid_on, voucher_no=voucher
            )
    with pytest.raises(PermissionDenied):
        settlements.settlement_mark_paid(
            actor=w.admin, settlement=settlement, paid_on=datetime.date(2026, 11, 1), voucher_no="V"
        )
    assert Settlement.objects.get().status == SettlementStatus.APPROVED


def settle_october_with_a_reversal_entered(w, entered: datetime.datetime):
    """October is settled with a 50-minute record; that record is then reversed at `entered`."""
    original = rec(w, minutes=50)
    rec(w, hour=14)
    october = build(w)
    settlements.settlement_submit(actor=w.admin, settlement=october)
    settlements.settlement_approve(actor=w.officer, settlement=october)
    original.refresh_from_db()
    assert original.status == RecordStatus.SETTLED
    return original, reverse_settled(original, actor=w.admin, entered=entered)


def test_a_reversal_of_a_settled_record_is_next_months_negative_adjustment(world):
    w = world
    original, reversal = settle_october_with_a_reversal_entered(w, local(datetime.date(2026, 11, 12), 10))
    rec(w, day=datetime.date(2026, 11, 3))
    november = build(w, month=datetime.date(2026, 11, 1))
    adjustment = november.lines.get(kind=LineKind.ADJUSTMENT)
    assert adjustment.record_id == original.pk
    assert (adjustment.minutes, adjustment.amount) == (-50, Decimal("-25.00"))
    assert november.total == Decimal("30.00") - Decimal("25.00")
    settlements.settlement_submit(actor=w.admin, settlement=november)
    settlements.settlement_approve(actor=w.officer, settlement=november)
    reversal.refresh_from_db()
    assert reversal.status == RecordStatus.SETTLED
    assert purchasing_reads.spend_by_contract(PurchaseContract.objects.all()).get().spent == Decimal("55.00") + Decimal(
        "5.00"
    )
    # the next month does not repeat it
    december = build(w, month=datetime.date(2026, 12, 1))
    assert not december.lines.exists() and december.total == 0


def test_a_reversal_entered_at_2359_on_the_last_day_belongs_to_that_month(world):
    w = world
    original, _ = settle_october_with_a_reversal_entered(w, local(datetime.date(2026, 11, 30), 23, 59))
    november = build(w, month=datetime.date(2026, 11, 1))
    assert list(november.lines.filter(kind=LineKind.ADJUSTMENT).values_list("record_id", "amount")) == [
        (original.pk, Decimal("-25.00"))
    ]
    settlements.settlement_submit(actor=w.admin, settlement=november)
    settlements.settlement_approve(actor=w.officer, settlement=november)
    assert not build(w, month=datetime.date(2026, 12, 1)).lines.exists()  # taken once, by November


def test_a_reversal_entered_at_midnight_after_the_last_day_belongs_to_the_next_month(world):
    """00:00 on 1 December in Beijing is still 30 November in UTC: the month is the one of Asia/Shanghai."""
    w = world
    original, _ = settle_october_with_a_reversal_entered(w, local(datetime.date(2026, 12, 1), 0, 0))
    november = build(w, month=datetime.date(2026, 11, 1))
    assert not november.lines.filter(kind=LineKind.ADJUSTMENT).exists()
    december = build(w, month=datetime.date(2026, 12, 1))
    assert list(december.lines.filter(kind=LineKind.ADJUSTMENT).values_list("record_id", "amount")) == [
        (original.pk, Decimal("-25.00"))
    ]


# --- contracts --------------------------------------------------------------------------------------


def contract_fields(organisation, **overrides):
    fields = {
        "number": "XJ-2",
        "region": Region.objects.get(code="640422000000"),
        "organisation": organisation,
        "start": datetime.date(2027, 1, 1),
        "end": datetime.date(2027, 12, 31),
        "budget": Decimal("5000"),
    }
    fields.update(overrides)
    return PurchaseContract(**fields)


def test_contract_save_creates_and_edits_keeping_line_ids(world):
    w = world
    contract = contracts.contract_save(
        actor=w.officer, contract=contract_fields(w.organisation), lines=[line(w.clean, "28.80"), line(w.meals, "9")]
    )
    kept = contract.lines.get(service_item=w.clean).pk
    contract.budget = Decimal("6000")
    contracts.contract_save(
        actor=w.officer, contract=contract, lines=[line(w.clean, "29.90", cap_per_elder=Decimal("8"))]
    )
    assert list(contract.lines.values_list("pk", "unit_price", "cap_per_elder")) == [
        (kept, Decimal("29.90"), Decimal("8"))
    ]
    assert AuditEvent.objects.filter(object_type="services.purchasecontract", action="change").exists()


@pytest.mark.parametrize("price", ["0", "-1", "0.00"])
def test_zero_or_negative_prices_are_refused(world, price):
    w = world
    with pytest.raises(ValidationError) as exc:
        contracts.contract_save(actor=w.officer, contract=contract_fields(w.organisation), lines=[line(w.clean, price)])
    assert "price_positive" in {e.code for e in exc.value.error_list}
    assert PurchaseContract.objects.count() == 1


def test_overlapping_contracts_for_the_same_item_and_organisation_are_refused(world):
    w = world
    overlapping = contract_fields(w.organisation, start=datetime.date(2026, 12, 1), end=datetime.date(2027, 6, 30))
    with pytest.raises(ValidationError) as exc:
        contracts.contract_save(actor=w.officer, contract=overlapping, lines=[line(w.meals, "10")])
    assert [e.code for e in exc.value.error_list] == ["overlap"]
    # another item, or the same item after the period, is fine
    contracts.contract_save(actor=w.officer, contract=overlapping, lines=[line(make_item("代购代办"), "10")])
    later = contract_fields(w.organisation, number="XJ-3")
    contracts.contract_save(actor=w.officer, contract=later, lines=[line(w.meals, "10")])
    assert PurchaseContract.objects.count() == 3


def test_other_contract_rules(world):
    w = world
    pending, _ = make_provider(name="未审核协会", status="pending")
    bad = [
        (contract_fields(pending), [line(w.clean)], "org_not_approved"),
        (contract_fields(w.organisation, budget=Decimal("0")), [line(w.clean)], "budget_positive"),
        (contract_fields(w.organisation, end=datetime.date(2026, 12, 1)), [line(w.clean)], "period_order"),
        (contract_fields(w.organisation), [], "no_lines"),
        (contract_fields(w.organisation), [line(w.clean), line(w.clean, "2")], "duplicate_item"),
        (
            contract_fields(w.organisation, region=Region.objects.get(code="640422100201")),
            [line(w.clean)],
            "buyer_level",
        ),
        (contract_fields(w.organisation), [line(w.clean, cap_per_month=Decimal("-2"))], "cap_positive"),
    ]
    for contract, lines, code in bad:
        with pytest.raises(ValidationError) as exc:
            contracts.contract_save(actor=w.officer, contract=contract, lines=lines)
        assert code in {e.code for e in exc.value.error_list}, code
    assert PurchaseContract.objects.count() == 1


def test_only_county_officers_in_scope_write_contracts(world, township_officer, supervisor):
    w = world
    elsewhere = staff("county_officer", "640104000000")
    for actor in (township_officer, supervisor, w.admin, elsewhere):
        with pytest.raises(PermissionDenied):
            contracts.contract_save(actor=actor, contract=contract_fields(w.organisation), lines=[line(w.clean)])
    assert PurchaseContract.objects.count() == 1


def test_visibility_of_contracts(world, township_officer, supervisor):
    w = world
    other_org, other_admin = make_provider(name="兴隆镇志愿服务队", code=OTHER_TOWNSHIP_VILLAGE)
    theirs = make_contract(organisation=other_org, officer=w.officer, number="XJ-9", lines=[line(w.clean)])
    elsewhere = staff("county_officer", "640104000000")
    assert set(purchasing_reads.contracts_for(w.officer)) == {w.contract, theirs}
    assert set(purchasing_reads.contracts_for(supervisor)) == {w.contract, theirs}
    assert set(purchasing_reads.contracts_for(w.admin)) == {w.contract}
    assert set(purchasing_reads.contracts_for(other_admin)) == {theirs}
    assert (
        not purchasing_reads.contracts_for(elsewhere).exists() and not purchasing_reads.contracts_for(w.giver).exists()
    )
    assert not purchasing_reads.contracts_for(township_officer).exists()  # the buyer is the county, above the township
    with pytest.raises(Http404):
        purchasing_reads.contract_visible(user=other_admin, pk=w.contract.pk)


def test_the_budget_cannot_drop_below_the_spend(world):
    w = world
    settlements.settlement_approve(actor=w.officer, settlement=submitted(w))
    w.contract.budget = Decimal("42.49")
    with pytest.raises(ValidationError) as exc:
        contracts.contract_save(actor=w.officer, contract=w.contract, lines=[line(w.clean, "30.00")])
    assert [e.code for e in exc.value.error_list] == ["budget_below_spent"]
    assert PurchaseContract.objects.get().budget == Decimal("100000.00")


def test_spend_by_contract_counts_approved_and_paid_only(world):
    w = world
    settlement = submitted(w)
    annotated = purchasing_reads.spend_by_contract(PurchaseContract.objects.all()).get()
    assert annotated.spent == Decimal("0.00")
    assert purchasing_reads.budget_state(w.contract)["pending"] == Decimal("42.50")
    settlements.settlement_approve(actor=w.officer, settlement=settlement)
    assert purchasing_reads.spend_by_contract(PurchaseContract.objects.filter(pk=w.contract.pk)).get().spent == Decimal(
        "42.50"
    )


def test_an_officer_who_runs_the_provider_can_neither_contract_with_it_nor_pay_it(world):
    w = world
    settlements.settlement_approve(actor=w.officer, settlement=submitted(w))
    insider = staff("county_officer", "640422000000")
    Membership.objects.create(organisation=w.organisation, user=insider, status=MembershipStatus.ACTIVE, is_admin=True)
    with pytest.raises(PermissionDenied) as exc:
        contracts.contract_save(actor=insider, contract=contract_fields(w.organisation), lines=[line(w.clean, "30")])
    assert str(exc.value) == str(purchasing_rules.OWN_CONTRACT)
    with pytest.raises(PermissionDenied) as exc:
        settlements.settlement_mark_paid(
            actor=insider, settlement=Settlement.objects.get(), paid_on=datetime.date(2026, 11, 20), voucher_no="记-1"
        )
    assert str(exc.value) == str(purchasing_rules.OWN_ORGANISATION)
    assert PurchaseContract.objects.count() == 1
    assert Settlement.objects.get().status == SettlementStatus.APPROVED


def test_a_contract_with_settlements_keeps_its_organisation_and_buyer(world):
    w = world
    submitted(w)
    other, _admin = make_provider(name="兴隆村互助幸福院")
    w.contract.organisation = other
    with pytest.raises(ValidationError) as exc:
        contracts.contract_save(actor=w.officer, contract=w.contract, lines=[line(w.clean, "30.00")])
    assert exc.value.code == "parties_fixed"
    assert PurchaseContract.objects.get().organisation_id == w.organisation.pk
