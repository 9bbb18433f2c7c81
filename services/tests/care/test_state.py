"""The stored per-elder state (services.care.state): what the domain functions keep incrementally equals what
the rebuild computes, after any sequence of ledger edits, status changes, family changes, visits, alerts, plan
changes and days passing (with the daily roll)."""

import datetime

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from portal.models import Region
from portal.schedule import SCHEDULE
from services.care import alerts as alert_ops
from services.care import state
from services.care import visits as visit_ops
from services.care.models import PLANS_CACHE_KEY
from services.ledger import actions as ledger_actions
from services.models import Alert, Elder, FamilyContact, VisitPlan
from services.tests.factories_care import add_supporter, make_elder, make_key_elder

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)
STATE_FIELDS = ("id", "tier", "tier_rank", "supporter_ok", "next_due_at", "overdue")
COUNTY = "640422000000"


def _stored() -> list[tuple]:
    return list(Elder.objects.order_by("pk").values_list(*STATE_FIELDS))


def _elders():
    """Four elders: one turning 80 within days (the roll must raise their tier), one key, two ordinary."""
    turning = make_elder(economic_status="subsistence", living_arrangement="couple")
    add_supporter(turning)
    birth = timezone.localdate().replace(year=timezone.localdate().year - 80) + datetime.timedelta(days=3)
    Elder.objects.filter(pk=turning.pk).update(birth_date=birth)
    key = make_key_elder()
    plain = make_elder(living_arrangement="couple")
    add_supporter(plain)
    alone = make_elder(living_arrangement="alone", ability_level="mild")
    state.rebuild()
    return [turning.pk, key.pk, plain.pk, alone.pk]


def _edit(actor, elder, choice):
    fields = [
        {"economic_status": "destitute"},
        {"economic_status": "general"},
        {"ability_level": "severe"},
        {"ability_level": "intact"},
        {"living_arrangement": "alone"},
        {"living_arrangement": "couple"},
    ]
    ledger_actions.elder_update(actor=actor, elder=elder, data=fields[choice % 6], expected_version=elder.version)


def _status(actor, elder, choice):
    target = "active" if elder.status != "active" else ("moved", "deceased")[choice % 2]
    ledger_actions.elder_change_status(actor=actor, elder=elder, status=target, reason="核实")


def _contact(actor, elder, choice):
    phone = "" if choice % 3 == 0 else f"1381234{5000 + choice:04d}"
    ledger_actions.family_contact_save(
        actor=actor,
        elder=elder,
        data={"name": "马强", "relation": "儿子", "phone": phone, "can_support": choice % 2 == 0},
    )


def _drop_contact(actor, elder, choice):
    contact = FamilyContact.objects.filter(elder=elder).order_by("pk").first()
    if contact:
        ledger_actions.family_contact_delete(actor=actor, contact=contact)


def _visit(actor, elder, choice):
    visit_ops.visit_record(
        actor=actor,
        elder=elder,
        method=("phone", "home")[choice % 2],
        visited_at=timezone.now() - datetime.timedelta(days=choice % 40, hours=1),
        contact_made=choice % 5 != 0,
    )


def _alert(actor, elder, choice):
    visit_ops.visit_record(actor=actor, elder=elder, risk_level="high", alert_kind="critical_illness", notes="发烧")


def _alert_step(actor, elder, choice, *, officer):
    alert = Alert.objects.filter(elder=elder).exclude(status="closed").order_by("pk").first()
    if alert is None:
        return
    if alert.status == "reported":
        alert_ops.alert_acknowledge(actor=actor, alert=alert, note="已电话联系")
    elif alert.status == "acknowledged":
        alert_ops.alert_handle(actor=officer, alert=alert, note="已安排")
    else:
        alert_ops.alert_close(actor=officer, alert=alert, note="已安置")


def _plan(actor, elder, choice):
    VisitPlan.objects.update_or_create(
        county=Region.objects.get(code=COUNTY),
        priority=("key", "attention", "normal")[choice % 3],
        defaults={"contact_days": 3 + choice % 20, "home_visit_days": 20 + choice % 50, "after_alert_hours": 24},
    )


OPERATIONS = ["edit", "status", "contact", "drop_contact", "visit", "alert", "alert_step", "plan", "days"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(OPERATIONS), st.integers(0, 3), st.integers(0, 200)), min_size=1, max_size=14
    )
)
def test_incremental_state_equals_rebuild(liaison, township_officer, steps):
    with time_machine.travel(START, tick=False) as clock, transaction.atomic():
        cache.delete(PLANS_CACHE_KEY)
        ids = _elders()
        for name, which, choice in steps:
            elder = Elder.objects.get(pk=ids[which])
            try:
                if name == "days":  # time passes; the scheduler runs the daily roll
                    clock.shift(datetime.timedelta(days=1 + choice % 9))
                    state.roll()
                elif name == "alert_step":
                    _alert_step(liaison, elder, choice, officer=township_officer)
                else:
                    globals()[f"_{name}"](liaison, elder, choice)
            except ValidationError:
                pass  # refused steps (a visit to an elder off the ledger…) change nothing
            assert _stored() == _expected(), (name, which, choice)
        transaction.set_rollback(True)
    cache.delete(PLANS_CACHE_KEY)


def _expected() -> list[tuple]:
    """The rebuild's answer, without keeping it."""
    with transaction.atomic():
        state.rebuild()
        rebuilt = _stored()
        transaction.set_rollback(True)
    return rebuilt


def test_roll_raises_the_tier_of_an_elder_who_turns_80_and_flags_overdue(liaison):
    with time_machine.travel(START, tick=False) as clock:
        ids = _elders()
        turning = Elder.objects.get(pk=ids[0])
        assert turning.tier == "attention"  # difficult, 79
        assert not turning.overdue
        clock.shift(datetime.timedelta(days=5))
        assert state.roll()["aged"] >= 1
        turning.refresh_from_db()
        assert turning.tier == "key"  # difficult and 80: 重点
        clock.shift(datetime.timedelta(days=40))
        state.roll()
        assert set(Elder.objects.filter(overdue=True).values_list("pk", flat=True)) == set(ids)


def test_visit_moves_the_stored_due_date_in_its_transaction(liaison):
    with time_machine.travel(START, tick=False):
        elder = make_key_elder()
        before = Elder.objects.get(pk=elder.pk).next_due_at
        assert before == elder.created_at + datetime.timedelta(days=7)
        visit_ops.visit_record(actor=liaison, elder=elder, method="home")
        elder.refresh_from_db()
        assert elder.next_due_at == START + datetime.timedelta(days=7)
        assert elder.last_visit_at == START


def test_a_refused_step_leaves_the_state_alone(liaison):
    with time_machine.travel(START, tick=False):
        elder = make_key_elder()
        ledger_actions.elder_change_status(actor=liaison, elder=elder, status="moved", reason="随子女迁往银川")
        frozen = _stored()
        with pytest.raises(ValidationError):
            visit_ops.visit_record(actor=liaison, elder=Elder.objects.get(pk=elder.pk))
        assert _stored() == frozen
        assert Elder.objects.get(pk=elder.pk).overdue is False


def test_rebuild_and_roll_commands(liaison):
    with time_machine.travel(START, tick=False):
        elder = make_key_elder()
        Elder.objects.filter(pk=elder.pk).update(tier="normal", tier_rank=2, next_due_at=None)
        call_command("rebuild_elder_state", "--batch", "1")
        elder.refresh_from_db()
        assert (elder.tier, elder.tier_rank) == ("key", 0)
        assert elder.next_due_at == elder.created_at + datetime.timedelta(days=7)
        call_command("roll_elder_state")


def test_the_daily_roll_is_scheduled():
    entry = next(e for e in SCHEDULE if e.name == "elder-state-roll")
    assert entry.args == ("roll_elder_state",)


def test_due_list_reads_the_stored_due_date(client, liaison):
    with time_machine.travel(START - datetime.timedelta(days=8), tick=False):
        elder = make_key_elder()  # 重点: a call every 7 days
    with time_machine.travel(START, tick=False):
        client.force_login(liaison)
        url = reverse("services:visits-due") + "?when=overdue"
        assert elder.name in client.get(url).content.decode()
        visit_ops.visit_record(actor=liaison, elder=elder, method="home")
        assert elder.name not in client.get(url).content.decode()


def test_workbench_counts_read_the_state_in_constant_queries(county_officer, mfa_client, django_assert_max_num_queries):
    c = mfa_client(county_officer)
    url = reverse("portal:workbench")
    for size in (2, 25):
        with time_machine.travel(START - datetime.timedelta(days=10), tick=False):
            for _ in range(size - Elder.objects.count()):
                make_key_elder()  # due after 7 days: overdue at START
        with time_machine.travel(START, tick=False):
            c.force_login(county_officer)
            with django_assert_max_num_queries(16):
                response = c.get(url)
            assert response.context["care"]["elders_overdue_visit"] == size
