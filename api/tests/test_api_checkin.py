"""QR sign-in through the API: the 6 digits or the token from the door's screen sign a volunteer in and out,
with the web page's refusals (replay, sign-out before sign-in, another activity's code) changing nothing."""

import datetime

import pytest
import time_machine

from volunteers import checkin as chk
from volunteers.models import ActivitySignup, Audience
from volunteers.tests.conftest import make_activity

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 20, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def running(organisation, member):
    activity = make_activity(
        organisation=organisation,
        start=NOW - datetime.timedelta(minutes=30),
        end=NOW + datetime.timedelta(minutes=90),
        signup_deadline=NOW - datetime.timedelta(days=1),
        audience=Audience.MEMBERS,
    )
    ActivitySignup.objects.create(activity=activity, user=member)
    return activity


def test_sign_in_with_digits_then_out_with_the_token(api_post, running, member):
    with time_machine.travel(NOW, tick=False) as clock:
        digits = chk.digits_for(running.pk, chk.current_window())
        signed_in = api_post(f"/activities/{running.pk}/checkin", member, {"action": "in", "code": digits})
        assert signed_in.status_code == 200, signed_in.content
        assert signed_in.json()["checked_in_at"] and signed_in.json()["checked_out_at"] is None
        replay = api_post(f"/activities/{running.pk}/checkin", member, {"action": "out", "code": digits})
        assert replay.status_code == 400 and replay.json()["error"]["message"] == str(chk.REPLAY)
        clock.shift(60 * 60)
        token = chk.token_for(running.pk, chk.current_window())
        signed_out = api_post(f"/activities/{running.pk}/checkin", member, {"action": "out", "code": token})
    assert signed_out.status_code == 200 and signed_out.json()["minutes"] == 60
    signup = ActivitySignup.objects.get(activity=running, user=member)
    assert signup.attended and signup.minutes == 60


def test_refusals_change_nothing(api_post, running, member, organisation):
    other = make_activity(
        organisation=organisation, start=running.start, end=running.end, signup_deadline=running.signup_deadline
    )
    with time_machine.travel(NOW, tick=False):
        window = chk.current_window()
        out_first = api_post(
            f"/activities/{running.pk}/checkin", member, {"action": "out", "code": chk.token_for(running.pk, window)}
        )
        foreign = api_post(
            f"/activities/{running.pk}/checkin", member, {"action": "in", "code": chk.token_for(other.pk, window)}
        )
        bad = api_post(f"/activities/{running.pk}/checkin", member, {"action": "sideways", "code": "123456"})
        anonymous = api_post(f"/activities/{running.pk}/checkin", None, {"action": "in", "code": "123456"})
    assert out_first.status_code == 400 and out_first.json()["error"]["message"] == str(chk.OUT_BEFORE_IN)
    assert foreign.status_code == 400
    assert bad.status_code in (400, 422) and "error" in bad.json()
    assert anonymous.status_code == 401
    assert ActivitySignup.objects.get(activity=running, user=member).checked_in_at is None
