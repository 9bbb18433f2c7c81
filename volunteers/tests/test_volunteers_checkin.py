"""QR sign-in at the door: the kiosk's rotating code, signing in and out, and every refusal changing nothing."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from django.core import signing
from django.urls import reverse

from tests.factories import UserFactory
from volunteers import checkin as chk
from volunteers.models import ActivitySignup, Audience, MembershipStatus
from volunteers.tests.conftest import make_activity, make_profile

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 10, 15, 10, 0, 5, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def running(organisation, member):
    """Started 30 minutes ago, ends in 90; the member signed up."""
    activity = make_activity(
        organisation=organisation,
        start=NOW - datetime.timedelta(minutes=30),
        end=NOW + datetime.timedelta(minutes=90),
        signup_deadline=NOW - datetime.timedelta(days=1),
        audience=Audience.MEMBERS,
    )
    ActivitySignup.objects.create(activity=activity, user=member)
    return activity


def token(activity, when=None) -> str:
    return chk.token_for(activity.pk, chk.current_window(when))


def post(client, activity, action, **data):
    return client.post(
        reverse("volunteers:activity-checkin", args=[activity.pk]), {"action": action, **data}, follow=True
    )


def errors(response) -> list[str]:
    return [m.message for m in response.context["messages"] if m.level_tag == "error"]


def signup_of(activity, user) -> ActivitySignup:
    return ActivitySignup.objects.get(activity=activity, user=user)


# --- the kiosk --------------------------------------------------------------------------------------


def test_contract_url_name(running):
    assert reverse("volunteers:activity-kiosk", args=[running.pk]) == f"/volunteers/activities/{running.pk}/kiosk/"


def test_kiosk_shows_qr_and_six_digits_to_the_organiser(client, running, org_admin):
    client.force_login(org_admin)
    response = client.get(reverse("volunteers:activity-kiosk", args=[running.pk]))
    page = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert "<svg" in page and 'http-equiv="refresh"' in page and "kiosk.js" in page
    digits = chk.digits_for(running.pk, chk.current_window())
    assert f"{digits[:3]} {digits[3:]}" in page
    assert "2026年10月15日" in page
    data = client.get(reverse("volunteers:activity-kiosk", args=[running.pk]), {"format": "json"}).json()
    assert data["digits"] == digits and data["svg"].startswith("<svg") and data["seconds_left"] == 25


def test_kiosk_is_only_for_the_organiser(client, running, member, other_admin):
    url = reverse("volunteers:activity-kiosk", args=[running.pk])
    assert client.get(url).status_code == 302
    for user in (member, other_admin, UserFactory()):
        client.force_login(user)
        assert client.get(url).status_code in (403, 404)


def test_code_changes_every_30_seconds(running, clock):
    first = chk.kiosk_codes(running)
    clock.shift(30)
    second = chk.kiosk_codes(running)
    assert first["digits"] != second["digits"] and first["token"] != second["token"]


# --- signing in and out -----------------------------------------------------------------------------


def test_scan_sign_in_then_out_puts_times_into_attendance(client, running, member, clock):
    client.force_login(member)
    page = client.get(reverse("volunteers:activity-checkin", args=[running.pk]), {"t": token(running)})
    assert page.status_code == 200 and 'name="t"' in page.content.decode()
    response = post(client, running, "in", t=token(running))
    assert not errors(response)
    signup = signup_of(running, member)
    assert signup.checked_in_at == NOW
    clock.shift(datetime.timedelta(minutes=50))
    response = post(client, running, "out", t=token(running))
    assert not errors(response)
    signup.refresh_from_db()
    assert signup.attended is True and signup.minutes == 50
    assert signup.checked_out_at == NOW + datetime.timedelta(minutes=50)


def test_typed_code_works_and_time_before_the_start_does_not_count(client, organisation, member, clock):
    activity = make_activity(
        organisation=organisation,
        start=NOW + datetime.timedelta(minutes=20),
        end=NOW + datetime.timedelta(minutes=80),
        signup_deadline=NOW - datetime.timedelta(hours=1),
    )
    ActivitySignup.objects.create(activity=activity, user=member)
    client.force_login(member)
    assert not errors(post(client, activity, "in", code=chk.digits_for(activity.pk, chk.current_window())))
    clock.shift(datetime.timedelta(minutes=60))
    code = chk.digits_for(activity.pk, chk.current_window())
    assert not errors(post(client, activity, "out", code=f"{code[:3]} {code[3:]}"))
    assert signup_of(activity, member).minutes == 40  # from the start (20 min after sign-in) to sign-out


def test_code_of_the_previous_window_still_works(client, running, member, clock):
    code = token(running)
    clock.shift(35)
    client.force_login(member)
    assert not errors(post(client, running, "in", t=code))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda a: {"t": chk.token_for(a.pk, chk.current_window() - 2)}, chk.EXPIRED),
        (lambda a: {"t": chk.token_for(a.pk + 1000, chk.current_window())}, chk.OTHER_ACTIVITY),
        (lambda a: {"t": chk.token_for(a.pk, chk.current_window()) + "x"}, chk.BAD_CODE),
        (lambda a: {"t": signing.dumps({"a": a.pk, "w": chk.current_window()}, salt="other")}, chk.BAD_CODE),
        (lambda a: {"t": chk.token_for(a.pk, chk.current_window() + 5)}, chk.BAD_CODE),
        (lambda a: {"code": chk.digits_for(a.pk, chk.current_window() - 3)}, chk.EXPIRED),
        (lambda a: {"code": "12345"}, chk.BAD_CODE),
        (lambda a: {"code": "<script>alert(1)</script>"}, chk.BAD_CODE),
        (lambda a: {}, chk.BAD_CODE),
    ],
)
def test_bad_codes_refused_and_nothing_changes(client, running, member, make, message):
    client.force_login(member)
    response = post(client, running, "in", **make(running))
    assert errors(response) == [str(message)]
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert signup_of(running, member).checked_in_at is None


def test_digits_of_another_activity_refused(client, running, organisation, member):
    other = make_activity(
        organisation=organisation, start=running.start, end=running.end, signup_deadline=running.signup_deadline
    )
    client.force_login(member)
    response = post(client, running, "in", code=chk.digits_for(other.pk, chk.current_window()))
    assert errors(response) and signup_of(running, member).checked_in_at is None


def test_replay_second_sign_in_and_out_before_in(client, running, member, clock):
    client.force_login(member)
    assert errors(post(client, running, "out", t=token(running))) == [str(chk.OUT_BEFORE_IN)]
    code = token(running)
    post(client, running, "in", t=code)
    assert errors(post(client, running, "out", t=code)) == [str(chk.REPLAY)]
    clock.shift(30)
    assert errors(post(client, running, "in", t=token(running))) == [str(chk.ALREADY_IN) % {"time": "10:00"}]
    signup = signup_of(running, member)
    assert signup.checked_out_at is None and signup.attended is None
    clock.shift(30)
    post(client, running, "out", t=token(running))
    clock.shift(30)
    assert errors(post(client, running, "out", t=token(running))) == [str(chk.ALREADY_OUT) % {"time": "10:01"}]


def test_not_signed_up_refused_unless_walk_ins(client, running, organisation, clock):
    stranger = UserFactory()
    organisation.memberships.create(user=stranger, status=MembershipStatus.ACTIVE)
    client.force_login(stranger)
    assert errors(post(client, running, "in", t=token(running))) == [str(chk.NOT_SIGNED_UP)]
    assert not ActivitySignup.objects.filter(user=stranger).exists()
    running.walk_ins = True
    running.save()
    assert not errors(post(client, running, "in", t=token(running)))
    signup = signup_of(running, stranger)
    assert signup.checked_in_at == NOW
    running.refresh_from_db()
    assert running.signup_count == 1


def test_walk_in_still_respects_who_may_join(client, running):
    running.walk_ins = True
    running.save()
    outsider = UserFactory()
    client.force_login(outsider)
    assert errors(post(client, running, "in", t=token(running)))
    assert not ActivitySignup.objects.filter(user=outsider).exists()


def test_sign_in_closed_outside_the_activity(client, running, member, clock):
    client.force_login(member)
    clock.shift(datetime.timedelta(hours=2))  # after the end
    assert errors(post(client, running, "in", t=token(running))) == [str(chk.NOT_OPEN)]
    running.status = "cancelled"
    running.save()
    assert errors(post(client, running, "in", t=token(running))) == [str(chk.NOT_OPEN)]


def test_location_check(settings, client, running, member):
    settings.VOLUNTEERS_CHECKIN_MAX_METRES = 200
    running.latitude, running.longitude = Decimal("35.965000"), Decimal("105.730000")
    running.save()
    client.force_login(member)
    page = client.get(reverse("volunteers:activity-checkin", args=[running.pk])).content.decode()
    assert "checkin.js" in page
    assert errors(post(client, running, "in", t=token(running))) == [str(chk.LOCATION_NEEDED)]
    far = post(client, running, "in", t=token(running), latitude="35.975", longitude="105.73")
    assert "1111" in errors(far)[0]
    assert errors(post(client, running, "in", t=token(running), latitude="abc", longitude="1"))
    assert signup_of(running, member).checked_in_at is None
    assert not errors(post(client, running, "in", t=token(running), latitude="35.9651", longitude="105.7301"))


def test_draft_activity_checkin_page_is_hidden(client, organisation, member):
    draft = make_activity(organisation=organisation, status="draft")
    client.force_login(member)
    assert client.get(reverse("volunteers:activity-checkin", args=[draft.pk])).status_code == 404
    make_profile(member)


def test_distance_is_right():
    # one degree of latitude ≈ 111.2 km
    assert 111_000 < chk.distance_metres(35, 105, 36, 105) < 111_400
