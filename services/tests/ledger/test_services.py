"""Ledger operations: create, edit with optimistic locking, status, families, duty — with history and audit."""

import datetime
import json

import pytest

from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.identity import INVALID_CHECK, SEX_MISMATCH, keyed_hash
from portal.models import AuditEvent, Region
from services.ledger import actions as ledger_actions
from services.ledger import selectors as ledger_reads
from services.ledger.models import DutyReminder, Elder, ElderChange, ElderStatus
from services.tests.factories_ledger import ElderFactory, FamilyContactFactory, make_id_number

pytestmark = pytest.mark.django_db
VILLAGE = "640422100201"
OTHER_TOWNSHIP_VILLAGE = "640422101201"


def _data(**overrides):
    birth = datetime.date(1944, 5, 6)
    data = {
        "name": "马秀英",
        "gender": "F",
        "birth_date": birth,
        "id_number": make_id_number(birth, "F", serial=7),
        "village": Region.objects.get(code=VILLAGE),
        "address": "大营村二组12号",
        "phone": "138 1234 5678",
        "living_arrangement": "alone",
        "ability_level": "mild",
        "economic_status": "subsistence",
    }
    data.update(overrides)
    return data


def _messages(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def test_create_records_history_and_masked_audit(liaison):
    data = _data()
    elder = ledger_actions.elder_create(actor=liaison, data=data)
    assert elder.phone == "13812345678"
    assert elder.id_hash == keyed_hash(data["id_number"])
    change = ElderChange.objects.get(elder=elder)
    assert change.kind == "create" and change.actor == liaison
    event = AuditEvent.objects.get(object_type="services.elder", action="create")
    dumped = json.dumps(event.changes, ensure_ascii=False) + json.dumps(change.changes, ensure_ascii=False)
    assert data["id_number"] not in dumped and "19440506" not in dumped
    assert "13812345678" not in dumped and "138****5678" in dumped
    assert change.changes["id_number"][1] == "6404*************" + data["id_number"][-1]


def test_create_rejects_bad_check_digit_and_mismatch(liaison):
    bad = _data()
    bad["id_number"] = bad["id_number"][:17] + ("0" if bad["id_number"][17] != "0" else "1")
    with pytest.raises(ValidationError) as exc:
        ledger_actions.elder_create(actor=liaison, data=bad)
    assert str(INVALID_CHECK) in _messages(exc.value)
    with pytest.raises(ValidationError) as exc:
        ledger_actions.elder_create(actor=liaison, data=_data(gender="M"))
    assert str(SEX_MISMATCH) in _messages(exc.value)
    assert not Elder.objects.exists()


def test_create_refuses_duplicate_and_out_of_scope(liaison):
    ledger_actions.elder_create(actor=liaison, data=_data())
    with pytest.raises(ValidationError) as exc:
        ledger_actions.elder_create(actor=liaison, data=_data(name="另一人"))
    assert str(ledger_reads.DUPLICATE_ID) in _messages(exc.value)
    other = _data(id_number=make_id_number(datetime.date(1944, 5, 6), "F", serial=9))
    other["village"] = Region.objects.get(code=OTHER_TOWNSHIP_VILLAGE)
    with pytest.raises(ValidationError) as exc:
        ledger_actions.elder_create(actor=liaison, data=other)
    assert str(ledger_reads.VILLAGE_OUT_OF_SCOPE) in _messages(exc.value)
    assert Elder.objects.count() == 1


def test_supervisor_cannot_create(supervisor):
    with pytest.raises(ValidationError) as exc:
        ledger_actions.elder_create(actor=supervisor, data=_data())
    assert str(ledger_reads.READ_ONLY) in _messages(exc.value)
    assert not Elder.objects.exists()


def test_update_keeps_history_and_refuses_stale_version(liaison, township_officer):
    elder = ledger_actions.elder_create(actor=liaison, data=_data())
    first = ledger_actions.elder_update(actor=liaison, elder=elder, data={"address": "大营村一组"}, expected_version=1)
    assert first.version == 2
    with pytest.raises(ValidationError) as exc:
        ledger_actions.elder_update(actor=township_officer, elder=elder, data={"address": "别处"}, expected_version=1)
    assert str(ledger_reads.STALE_EDIT) in _messages(exc.value)
    fresh = Elder.objects.get(pk=elder.pk)
    assert fresh.address == "大营村一组" and fresh.version == 2
    change = ElderChange.objects.filter(elder=elder, kind="change").get()
    assert change.changes == {"address": ["大营村二组12号", "大营村一组"]}


def test_update_with_no_change_writes_nothing(liaison):
    elder = ledger_actions.elder_create(actor=liaison, data=_data())
    ledger_actions.elder_update(actor=liaison, elder=elder, data={"address": elder.address}, expected_version=1)
    assert Elder.objects.get(pk=elder.pk).version == 1
    assert ElderChange.objects.filter(elder=elder).count() == 1


def test_status_change_needs_reason_and_leaves_active_lists(liaison):
    elder = ledger_actions.elder_create(actor=liaison, data=_data())
    with pytest.raises(ValidationError) as exc:
        ledger_actions.elder_change_status(actor=liaison, elder=elder, status=ElderStatus.DECEASED, reason="  ")
    assert str(ledger_reads.REASON_REQUIRED) in _messages(exc.value)
    ledger_actions.elder_change_status(actor=liaison, elder=elder, status=ElderStatus.MOVED, reason="随子女迁往银川")
    assert not Elder.objects.active().filter(pk=elder.pk).exists()
    assert ledger_reads.elders_for(liaison).filter(pk=elder.pk).exists()  # never deleted
    entry = ElderChange.objects.get(elder=elder, kind="status")
    assert entry.changes == {"status": ["active", "moved"]} and entry.reason == "随子女迁往银川"


def test_family_contact_single_primary(liaison):
    elder = ElderFactory()
    a = ledger_actions.family_contact_save(
        actor=liaison,
        elder=elder,
        data={"name": "马强", "relation": "儿子", "phone": "15800001111", "is_primary": True},
    )
    b = ledger_actions.family_contact_save(
        actor=liaison,
        elder=elder,
        data={"name": "马花", "relation": "女儿", "phone": "15800002222", "is_primary": True},
    )
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.is_primary and not a.is_primary
    assert ElderChange.objects.filter(elder=elder, kind="family").count() == 2
    dumped = json.dumps(list(ElderChange.objects.values_list("changes", flat=True)))
    assert "15800001111" not in dumped


def test_repeated_duty_findings_for_township(liaison, township_officer):
    neglected = ElderFactory()
    once = ElderFactory()
    old = ElderFactory()
    son = FamilyContactFactory(elder=neglected)
    now = timezone.now()
    for when in (now - datetime.timedelta(days=200), now - datetime.timedelta(days=3)):
        ledger_actions.duty_reminder_create(
            actor=liaison,
            elder=neglected,
            data={
                "contact": son,
                "reminded_at": when,
                "method": "phone",
                "finding": "半年未联系",
                "said": "请常打电话",
            },
        )
    ledger_actions.duty_reminder_create(actor=liaison, elder=once, data={"finding": "x", "said": "y"})
    DutyReminder.objects.create(elder=old, finding="x", said="y", reminded_at=now - datetime.timedelta(days=400))
    DutyReminder.objects.create(elder=old, finding="x", said="y", reminded_at=now - datetime.timedelta(days=500))
    listed = list(ledger_reads.repeated_duty_findings(township_officer))
    assert [e.pk for e in listed] == [neglected.pk]
    assert listed[0].reminder_count == 2
    assert {e.pk for e in ledger_reads.repeated_duty_findings(township_officer, months=24)} == {neglected.pk, old.pk}
    assert not ledger_reads.repeated_duty_findings(township_officer, threshold=3).exists()


def test_duty_reminder_for_another_elders_contact_refused(liaison):
    elder = ElderFactory()
    stranger = FamilyContactFactory()
    with pytest.raises(ValidationError):
        ledger_actions.duty_reminder_create(
            actor=liaison, elder=elder, data={"contact": stranger, "finding": "x", "said": "y"}
        )
    assert not DutyReminder.objects.exists()


def test_full_identity_roles(liaison, township_officer, county_officer, supervisor, region_admin):
    elder = ElderFactory()
    assert ledger_reads.can_see_full_identity(liaison, elder)
    assert ledger_reads.can_see_full_identity(township_officer, elder)
    assert ledger_reads.can_see_full_identity(county_officer, elder)
    assert not ledger_reads.can_see_full_identity(supervisor, elder)
    assert not ledger_reads.can_see_full_identity(region_admin, elder)
    far = ElderFactory(village=Region.objects.get(code=OTHER_TOWNSHIP_VILLAGE))
    assert not ledger_reads.can_see_full_identity(liaison, far)
