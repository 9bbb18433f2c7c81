"""The monthly summary and the 30-day no-contact reminder: sent once per period, under a moved clock."""

import datetime

import pytest
import time_machine

from django.core.management import call_command
from django.utils import timezone

from portal.models import SmsMessage
from portal.schedule import SCHEDULE
from services.care.models import Visit
from services.family import actions
from services.family.models import FamilyContactLog, FamilyMessage
from services.tests.factories_care import make_elder
from services.tests.factories_ledger import FamilyContactFactory
from services.tests.family.conftest import FAMILY_PHONE

pytestmark = pytest.mark.django_db

MONTH_END = datetime.datetime(2026, 11, 30, 11, 0, tzinfo=datetime.UTC)  # 19:00 in Shanghai, the schedule's hour


def _elder_at(when: datetime.datetime, **kwargs):
    with time_machine.travel(when, tick=False):
        elder = make_elder(name="王秀兰", **kwargs)
        FamilyContactFactory(elder=elder, phone=FAMILY_PHONE, name="王强")
        FamilyContactFactory(elder=elder, phone="15800003333", name="王芳")
    return elder


def test_monthly_summary_on_the_last_day_once(outbox):
    elder = _elder_at(datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))
    for day in (3, 17):
        Visit.objects.create(
            elder=elder, method="phone", visited_at=datetime.datetime(2026, 11, day, 2, tzinfo=datetime.UTC)
        )
    Visit.objects.create(
        elder=elder,
        method="phone",
        contact_made=False,
        visited_at=datetime.datetime(2026, 11, 20, 2, tzinfo=datetime.UTC),
    )
    Visit.objects.create(
        elder=elder, method="phone", visited_at=datetime.datetime(2026, 10, 20, 2, tzinfo=datetime.UTC)
    )
    FamilyContactLog.objects.create(elder=elder, kind="call", contact_date=datetime.date(2026, 11, 25))
    with time_machine.travel(MONTH_END - datetime.timedelta(days=1), tick=False):
        assert actions.monthly_summary_send() == (0, 0)  # not the last day yet
    with time_machine.travel(MONTH_END, tick=False):
        assert actions.monthly_summary_send() == (1, 0)
        assert actions.monthly_summary_send() == (0, 1)  # a second run sends nothing
    texts = [m for phone, m in outbox]
    assert sorted(phone for phone, _m in outbox) == ["15800001111", "15800003333"]
    assert all("本月巡访2次、服务0次" in t and "王秀兰" in t for t in texts)
    assert FamilyMessage.objects.get().period == "2026-11"


def test_no_contact_reminder_after_30_days_once_per_silence(outbox):
    elder = _elder_at(datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))
    FamilyContactLog.objects.create(elder=elder, kind="visit", contact_date=datetime.date(2026, 10, 10))
    with time_machine.travel(datetime.datetime(2026, 11, 8, 11, tzinfo=datetime.UTC), tick=False):
        assert actions.no_contact_remind() == (0, 0)  # 29 days
    with time_machine.travel(datetime.datetime(2026, 11, 9, 11, tzinfo=datetime.UTC), tick=False):
        assert actions.no_contact_remind() == (1, 0)  # 30 days
        assert actions.no_contact_remind() == (0, 1)
    with time_machine.travel(datetime.datetime(2026, 11, 20, 11, tzinfo=datetime.UTC), tick=False):
        assert actions.no_contact_remind() == (0, 1)  # still the same silence
    assert len(outbox) == 2 and "30天" in outbox[0][1]
    with time_machine.travel(datetime.datetime(2026, 12, 9, 11, tzinfo=datetime.UTC), tick=False):
        assert actions.no_contact_remind() == (1, 0)  # 60 days: reminded again
    FamilyContactLog.objects.create(elder=elder, kind="call", contact_date=datetime.date(2026, 12, 10))
    with time_machine.travel(datetime.datetime(2026, 12, 20, 11, tzinfo=datetime.UTC), tick=False):
        assert actions.no_contact_remind() == (0, 0)  # they called


def test_elders_off_the_ledger_or_without_phones_get_nothing(outbox):
    gone = _elder_at(datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))
    gone.status = "deceased"
    gone.save()
    with time_machine.travel(datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC), tick=False):
        make_elder()  # no family contact at all
    with time_machine.travel(MONTH_END, tick=False):
        assert actions.no_contact_remind() == (0, 0)
        assert actions.monthly_summary_send() == (0, 0)
    assert outbox == []


def test_the_command_is_scheduled_and_idempotent(outbox):
    entry = next(e for e in SCHEDULE if e.name == "family-messages")
    assert entry.args == ("send_family_messages",)
    _elder_at(datetime.datetime(2026, 9, 1, tzinfo=datetime.UTC))
    with time_machine.travel(MONTH_END, tick=False):
        call_command("send_family_messages")
        sent = SmsMessage.objects.count()
        call_command("send_family_messages")
    assert sent == 4  # two numbers × (summary + no-contact reminder)
    assert SmsMessage.objects.count() == sent
    assert timezone.localdate(MONTH_END) == datetime.date(2026, 11, 30)
