"""Retention: elders who left the ledger are erased after the retention period, with their contacts, agreements,
notes and photos; counts stay; the region administrator sees the coming month's list; the clock is set."""

import datetime
import io
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine

from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

from portal.identity import keyed_hash
from portal.models import AuditEvent
from services.care.models import Visit
from services.care.state import refresh_elders
from services.ledger import retention
from services.ledger.models import CareAgreement, DutyReminder, Elder, ElderStatus
from services.tests.factories_ledger import ElderFactory, FamilyContactFactory

pytestmark = pytest.mark.django_db

BEIJING = ZoneInfo("Asia/Shanghai")
LEFT = datetime.datetime(2023, 3, 1, 10, tzinfo=BEIJING)


def departed(status=ElderStatus.MOVED, left=LEFT, **fields) -> Elder:
    elder = ElderFactory(phone="13812345678", address="大营村三组", health="高血压", **fields)
    Elder.objects.filter(pk=elder.pk).update(status=status, status_changed_at=left, status_reason="随子女迁往银川")
    refresh_elders([elder.pk])
    contact = FamilyContactFactory(elder=elder, name="马强", phone="15800001111")
    CareAgreement.objects.create(
        elder=elder,
        supporter=contact,
        carer_name="马兰",
        carer_phone="13900001111",
        start_date=datetime.date(2022, 1, 1),
    )
    DutyReminder.objects.create(elder=elder, contact=contact, finding="三个月未打电话", said="请每周打电话")
    Visit.objects.create(elder=elder, notes="独居，腿脚不便", safety_risks="煤炉")
    return Elder.objects.get(pk=elder.pk)


def test_an_elder_gone_three_years_is_erased_with_contacts_agreements_and_notes(liaison):
    elder = departed()
    number = elder.id_number
    with time_machine.travel(datetime.datetime(2026, 3, 2, 3, tzinfo=BEIJING), tick=False):
        assert list(retention.elders_due()) == [elder]
        out = io.StringIO()
        call_command("anonymise_departed", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1]) == {"anonymised": 1}
    erased = Elder.objects.get(pk=elder.pk)
    assert erased.anonymised_at is not None and erased.status == ElderStatus.MOVED
    assert erased.name != elder.name and erased.phone == "" and erased.address == "" and erased.health == ""
    assert erased.id_number == "" and erased.id_hash != keyed_hash(number)
    assert erased.birth_date == elder.birth_date.replace(month=1, day=1) and erased.village_id == elder.village_id
    contact = erased.family_contacts.get()
    assert contact.name != "马强" and contact.phone == ""
    agreement = erased.agreements.get()
    assert agreement.carer_phone == "" and agreement.carer_name != "马兰"
    assert DutyReminder.objects.get(elder=erased).finding == ""
    assert Visit.objects.get(elder=erased).notes == "" and Visit.objects.count() == 1  # the visit still counts
    event = AuditEvent.objects.get(action="delete", object_type="services.elder", object_id=str(elder.pk))
    assert event.changes["anonymised"] is True and "马" not in event.object_repr
    # the same person can be entered again; running again changes nothing
    ElderFactory(id_number=number, id_hash=keyed_hash(number))
    with time_machine.travel(datetime.datetime(2026, 3, 3, tzinfo=BEIJING), tick=False):
        assert retention.anonymise_due() == 0


@pytest.mark.parametrize(
    ("status", "left", "due"),
    [
        (ElderStatus.DECEASED, datetime.datetime(2023, 3, 10, 10, tzinfo=BEIJING), False),  # days short of 1,095
        (ElderStatus.ACTIVE, LEFT, False),  # back on the ledger: never erased
        (ElderStatus.NOT_LEFT_BEHIND, LEFT, True),
    ],
)
def test_only_elders_off_the_ledger_past_the_period_are_due(status, left, due):
    elder = departed(status=status, left=left)
    with time_machine.travel(datetime.datetime(2026, 3, 1, 12, tzinfo=BEIJING), tick=False):
        assert (elder in retention.elders_due()) is due


@override_settings(LEDGER_RETENTION_DAYS=30)
def test_the_period_is_a_setting():
    elder = departed(left=datetime.datetime(2026, 1, 1, tzinfo=BEIJING))
    with time_machine.travel(datetime.datetime(2026, 2, 1, tzinfo=BEIJING), tick=False):
        assert list(retention.elders_due()) == [elder]


def test_region_admin_sees_next_months_list_masked_in_scope_only(mfa_client, region_admin, liaison):
    inside = departed(name="马秀英", left=datetime.datetime(2023, 3, 20, tzinfo=BEIJING))
    departed(name="杨德福", village_id="640104001002", left=datetime.datetime(2023, 3, 20, tzinfo=BEIJING))
    departed(name="李桂兰", left=datetime.datetime(2023, 6, 1, tzinfo=BEIJING))  # later than a month
    with time_machine.travel(datetime.datetime(2026, 3, 1, tzinfo=BEIJING), tick=True):
        response = mfa_client(region_admin).get(reverse("services:retention-preview"))
    assert response.status_code == 200
    assert [e.pk for e in response.context["elders"]] == [inside.pk]
    body = response.content.decode()
    assert "马**" in body and "马秀英" not in body and "杨" not in body and "李桂兰" not in body
    assert AuditEvent.objects.filter(action="view", object_repr="retention preview").exists()


def test_a_liaison_may_not_see_the_list(client, liaison):
    client.force_login(liaison)
    assert client.get(reverse("services:retention-preview")).status_code == 403
