# ruff: noqa: F811 — fixtures imported from factories_purchasing
"""Call-back results: confirmed, partly, unreachable after three tries; "did not happen" on a purchased record
takes it out of its draft settlement, or deducts it to the fen in the next one if it was settled; the provider
and the liaison are told."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from django.core.exceptions import PermissionDenied, ValidationError

from portal.models import Region
from services.purchasing import settlements
from services.purchasing.models import LineKind, SettlementStatus
from services.records.models import RecordStatus, ServiceRecord
from services.spotchecks import actions
from services.spotchecks.models import SpotCheck, SpotCheckOutcome
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, add_supporter, make_elder, staff
from services.tests.factories_proof import local, make_visit
from services.tests.factories_purchasing import make_record, world  # noqa: F401 — fixture

OCT = datetime.date(2026, 10, 1)
pytestmark = pytest.mark.django_db


def _draw_everything(actor=None):
    made, _ = actions.draw_month(
        actor=actor, region=Region.objects.get(code="640422000000"), month=OCT, share=Decimal(1), system=True
    )
    return made


def _rec(w, *, minutes=60, day=datetime.date(2026, 10, 8), hour=9):
    return make_record(
        organisation=w.organisation, giver=w.giver, elder=w.elder, item=w.clean, start=local(day, hour), minutes=minutes
    )


def test_did_not_happen_takes_the_record_out_of_its_draft_settlement(
    world, township_officer, liaison, outbox, django_capture_on_commit_callbacks
):
    w = world
    add_supporter(w.elder, phone="13812345678")
    with time_machine.travel(local(datetime.date(2026, 11, 2)), tick=False):
        kept = _rec(w, minutes=60)
        doubtful = _rec(w, minutes=50, day=datetime.date(2026, 10, 9))
        draft = settlements.settlement_build(actor=w.admin, contract=w.contract, month=OCT)
        assert draft.total == Decimal("55.00")  # 110 minutes at 30.00 an hour
        _draw_everything()
        check = SpotCheck.objects.get(record=doubtful)
        with django_capture_on_commit_callbacks(execute=True):
            actions.record_result(
                actor=township_officer, check=check, result=SpotCheckOutcome.NOT_HAPPENED, note="老人说没人来过"
            )
    check.refresh_from_db()
    assert check.outcome == SpotCheckOutcome.NOT_HAPPENED and check.reversal.reverses_id == doubtful.pk
    draft.refresh_from_db()
    assert draft.status == SettlementStatus.DRAFT
    assert draft.total == Decimal("30.00")  # exactly the 60 minutes kept
    assert set(draft.entries.filter(billable=True).values_list("record_id", flat=True)) == {kept.pk}
    # the provider's admin and the liaison are told; nobody else, and no elder's number is in the text
    told = sorted(phone for phone, _ in outbox)
    assert told == sorted([w.admin.phone, liaison.phone])
    assert all("未发生" in text or "did not happen" in text for _, text in outbox)
    assert all("13812345678" not in text for _, text in outbox)


def test_did_not_happen_on_a_settled_record_is_a_negative_adjustment_to_the_fen(world, township_officer):
    w = world
    with time_machine.travel(local(datetime.date(2026, 11, 2)), tick=False):
        original = _rec(w, minutes=47)  # 47 min × 30.00/h = 23.50
        _rec(w, minutes=60, hour=14)
        october = settlements.settlement_build(actor=w.admin, contract=w.contract, month=OCT)
        settlements.settlement_submit(actor=w.admin, settlement=october)
        settlements.settlement_approve(actor=w.officer, settlement=october)
        assert october.total == Decimal("53.50")
        _draw_everything()
    with time_machine.travel(local(datetime.date(2026, 11, 12), 10), tick=False):
        check = SpotCheck.objects.get(record=original)
        actions.record_result(actor=township_officer, check=check, result=SpotCheckOutcome.NOT_HAPPENED, note="没有来")
        november = settlements.settlement_build(actor=w.admin, contract=w.contract, month=datetime.date(2026, 11, 1))
    original.refresh_from_db()
    assert original.status == RecordStatus.SETTLED  # the paid record stays; its reversal corrects it
    adjustment = november.lines.get(kind=LineKind.ADJUSTMENT)
    assert (adjustment.record_id, adjustment.minutes, adjustment.amount) == (original.pk, -47, Decimal("-23.50"))
    assert november.total == Decimal("-23.50")


def test_three_unanswered_calls_make_it_unreachable_and_partly_needs_a_note(world, township_officer):
    w = world
    with time_machine.travel(local(datetime.date(2026, 11, 2)), tick=False):
        record = _rec(w)
        _draw_everything()
        check = SpotCheck.objects.get(record=record)
        for expected in (1, 2):
            check = actions.record_result(actor=township_officer, check=check, result=actions.NO_ANSWER)
            assert (check.tries, check.outcome) == (expected, SpotCheckOutcome.PENDING)
        with pytest.raises(ValidationError):
            actions.record_result(actor=township_officer, check=check, result=SpotCheckOutcome.PARTLY, note=" ")
        check = actions.record_result(actor=township_officer, check=check, result=actions.NO_ANSWER)
        assert (check.tries, check.outcome) == (3, SpotCheckOutcome.UNREACHABLE)
        with pytest.raises(ValidationError):
            actions.record_result(actor=township_officer, check=check, result=SpotCheckOutcome.CONFIRMED)
    assert not ServiceRecord.objects.filter(reverses=record).exists()


def test_a_visit_that_did_not_happen_is_counted_against_the_village_and_nothing_is_reversed(
    township_officer, liaison, outbox, django_capture_on_commit_callbacks
):
    elder = make_elder()
    visit = make_visit(elder, visitor=liaison, at=local(datetime.date(2026, 10, 3)))
    _draw_everything()
    check = SpotCheck.objects.get(visit=visit)
    with django_capture_on_commit_callbacks(execute=True):
        actions.record_result(actor=township_officer, check=check, result=SpotCheckOutcome.NOT_HAPPENED, note="没人来")
    check.refresh_from_db()
    assert check.reversal is None and check.outcome == SpotCheckOutcome.NOT_HAPPENED
    assert [phone for phone, _ in outbox] == [liaison.phone]


@pytest.mark.parametrize("result", ["maybe", "", "<script>alert(1)</script>", "pending", "unreachable"])
def test_an_unknown_result_changes_nothing(world, township_officer, result):
    w = world
    record = _rec(w)
    _draw_everything()
    check = SpotCheck.objects.get(record=record)
    with pytest.raises(ValidationError):
        actions.record_result(actor=township_officer, check=check, result=result, note="x")
    check.refresh_from_db()
    assert (check.outcome, check.tries, check.called_by) == (SpotCheckOutcome.PENDING, 0, None)


def test_only_an_officer_over_the_village_records_a_call_back(world, liaison, supervisor):
    w = world
    record = _rec(w)
    _draw_everything()
    check = SpotCheck.objects.get(record=record)
    other_township = staff("township_officer", OTHER_TOWNSHIP_VILLAGE[:9] + "000")
    for actor in (liaison, supervisor, other_township, w.admin):
        with pytest.raises(PermissionDenied):
            actions.record_result(actor=actor, check=check, result=SpotCheckOutcome.NOT_HAPPENED, note="x")
    assert not ServiceRecord.objects.filter(reverses=record).exists()
