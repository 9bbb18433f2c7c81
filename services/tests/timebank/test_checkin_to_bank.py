# ruff: noqa: F811 — fixtures imported from the topic's conftest
"""From the door to the bank: signing out at the kiosk makes a submitted record through the attendance path;
the organiser confirms it and the time is deposited."""

import datetime

import pytest

from services.models import ServiceRecord
from services.records import actions as record_actions
from services.tests.timebank.conftest import NOW
from services.timebank.models import TimeAccount
from volunteers import checkin as chk
from volunteers.models import ActivitySignup
from volunteers.tests.conftest import make_activity

pytestmark = pytest.mark.django_db


def test_sign_out_becomes_a_record_and_confirmation_deposits(clock, organisation, org_admin, member, item):
    activity = make_activity(
        organisation=organisation,
        start=NOW - datetime.timedelta(minutes=10),
        end=NOW + datetime.timedelta(hours=2),
        signup_deadline=NOW - datetime.timedelta(days=1),
        service_item=item,
    )
    ActivitySignup.objects.create(activity=activity, user=member)
    ActivitySignup.objects.update(created_at=NOW - datetime.timedelta(days=2))
    code = chk.digits_for(activity.pk, chk.current_window())
    chk.checkin(user=member, activity=activity, action="in", digits=code)
    assert not ServiceRecord.objects.exists()
    clock.shift(datetime.timedelta(minutes=75))
    chk.checkin(user=member, activity=activity, action="out", token=chk.token_for(activity.pk, chk.current_window()))
    record = ServiceRecord.objects.get()
    assert record.status == "submitted" and record.giver == member and record.recorded_by == member
    assert record.start == NOW and record.minutes == 75 and record.activity == activity
    # the organiser's attendance page later adds nothing twice (idempotent path)
    record_actions.records_from_attendance(actor=org_admin, activity=activity)
    assert ServiceRecord.objects.count() == 1
    record_actions.record_confirm(actor=org_admin, record=record)
    assert TimeAccount.objects.get(user=member).balance == 75


def test_someone_else_cannot_make_records_from_a_sign_out(organisation, member, item):
    from django.core.exceptions import PermissionDenied

    from tests.factories import UserFactory

    activity = make_activity(organisation=organisation, service_item=item)
    signup = ActivitySignup.objects.create(activity=activity, user=member)
    with pytest.raises(PermissionDenied):
        record_actions.records_from_attendance(actor=UserFactory(), activity=activity, signups=[signup])
