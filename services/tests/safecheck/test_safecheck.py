"""平安铃: the daily round under a frozen clock (first, second, miss → task → alert), the signed callback (bad
signature, stale, replay, unknown number), enrolment and the scope of the list and export."""

import datetime
import json
import time

import pytest
import time_machine

from django.urls import reverse

from portal.models import AuditEvent
from services.care.models import Alert, FollowUp, Visit
from services.safecheck import actions, callback
from services.safecheck.models import CheckinDay, CheckinEnrolment, CheckinReply
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, make_elder, staff
from services.tests.factories_proof import local
from tests.factories import UserFactory

SECRET = "test-callback-secret"  # noqa: S105
ELDER_PHONE = "13712345678"
DAY1 = datetime.date(2026, 11, 10)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.SAFECHECK_CALLBACK_SECRET = SECRET
    settings.SAFECHECK_SECOND_AFTER_HOURS = 2
    settings.SAFECHECK_MISSED_AFTER_HOURS = 4


@pytest.fixture
def enrolled(liaison):
    elder = make_elder(name="海奶奶")
    return actions.enrol(actor=liaison, elder=elder, phone=ELDER_PHONE, send_at=datetime.time(9, 0))


def _post(client, payload, *, timestamp=None, secret=SECRET, raw=None):
    body = raw if raw is not None else json.dumps(payload).encode()
    stamp = str(int(timestamp if timestamp is not None else time.time()))
    return client.post(
        reverse("services:checkin-callback"),
        data=body,
        content_type="application/json",
        HTTP_X_TIMESTAMP=stamp,
        HTTP_X_SIGNATURE=callback.sign(body, stamp, secret),
    )


def _round(at):
    with time_machine.travel(at, tick=False):
        return actions.run_round()


def test_a_day_answered_with_1_goes_no_further(client, enrolled, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _round(local(DAY1, 8, 55))["first"] == 0  # not yet time
        assert _round(local(DAY1, 9, 0))["first"] == 1
        assert _round(local(DAY1, 9, 5))["first"] == 0  # once a day
    assert [phone for phone, _ in outbox] == [ELDER_PHONE]
    with time_machine.travel(local(DAY1, 9, 30), tick=False):
        response = _post(client, {"message_id": "m-1", "phone": ELDER_PHONE, "text": " 1 "})
    assert response.status_code == 200 and response.json() == {"ok": True}
    assert CheckinDay.objects.get().answered_at == local(DAY1, 9, 30)
    with django_capture_on_commit_callbacks(execute=True):
        assert _round(local(DAY1, 14, 0)) == {"first": 0, "second": 0, "missed": 0, "tasks": 0, "alerts": 0}
    assert len(outbox) == 1


def test_miss_second_message_then_task_then_alert(enrolled, liaison, outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for offset in range(3):
            day = DAY1 + datetime.timedelta(days=offset)
            _round(local(day, 9, 0))
            assert _round(local(day, 11, 0))["second"] == 1
            assert _round(local(day, 11, 30))["second"] == 0
            result = _round(local(day, 13, 0))
            assert result["missed"] == 1
            if offset == 0:
                assert (result["tasks"], result["alerts"]) == (0, 0)
                assert not FollowUp.objects.exists()
            if offset == 1:
                assert (result["tasks"], result["alerts"]) == (1, 0)
                task = FollowUp.objects.get()
                assert task.owner == liaison and task.due_date == day + datetime.timedelta(days=1)
                assert task.visit.elder == enrolled.elder and task.visit.contact_made is False
                assert not Alert.objects.exists()
            if offset == 2:
                assert (result["tasks"], result["alerts"]) == (0, 1)
    alert = Alert.objects.get()
    assert alert.elder == enrolled.elder and "平安铃" in alert.description
    assert FollowUp.objects.count() == 1 and Visit.objects.count() == 1
    to_elder = [text for phone, text in outbox if phone == ELDER_PHONE]
    assert len(to_elder) == 6  # a first and a second message each day
    assert any(phone == liaison.phone for phone, _ in outbox)


def test_an_answer_breaks_the_run_of_misses(client, enrolled):
    _round(local(DAY1, 9, 0))
    _round(local(DAY1, 13, 0))
    day2 = DAY1 + datetime.timedelta(days=1)
    _round(local(day2, 9, 0))
    with time_machine.travel(local(day2, 10, 0), tick=False):
        assert _post(client, {"message_id": "m-2", "phone": ELDER_PHONE, "text": "1"}).status_code == 200
    day3 = DAY1 + datetime.timedelta(days=2)
    _round(local(day3, 9, 0))
    assert _round(local(day3, 13, 0))["tasks"] == 0
    assert not FollowUp.objects.exists()


def test_bad_signature_stale_or_malformed_callbacks_are_refused_and_change_nothing(client, enrolled):
    _round(local(DAY1, 9, 0))
    payload = {"message_id": "m-3", "phone": ELDER_PHONE, "text": "1"}
    with time_machine.travel(local(DAY1, 9, 30), tick=False):
        now = time.time()
        assert _post(client, payload, secret="wrong").status_code == 403  # noqa: S106
        assert _post(client, payload, timestamp=now - 3600).status_code == 403  # an old request replayed
        assert _post(client, payload, timestamp=now + 3600).status_code == 403
        assert _post(client, None, raw=b"not json").status_code == 403
        assert _post(client, None, raw=b'["1"]').status_code == 403
        assert _post(client, {"message_id": 5, "phone": ELDER_PHONE, "text": "1"}).status_code == 403
        unsigned = client.post(
            reverse("services:checkin-callback"), data=json.dumps(payload), content_type="application/json"
        )
        assert unsigned.status_code == 403
        assert client.get(reverse("services:checkin-callback")).status_code == 405
    assert not CheckinReply.objects.exists()
    assert CheckinDay.objects.get().answered_at is None


def test_a_replayed_message_id_changes_nothing_the_second_time(client, enrolled):
    _round(local(DAY1, 9, 0))
    with time_machine.travel(local(DAY1, 9, 30), tick=False):
        assert _post(client, {"message_id": "m-4", "phone": ELDER_PHONE, "text": "2"}).status_code == 200
        # the same message id again, now saying "1": already handled, nothing changes
        again = _post(client, {"message_id": "m-4", "phone": ELDER_PHONE, "text": "1"})
    assert again.status_code == 200 and again.json() == {"ok": True}
    assert CheckinReply.objects.count() == 1
    assert CheckinDay.objects.get().answered_at is None


def test_an_unknown_number_is_answered_like_any_other_and_changes_nothing(client, enrolled):
    _round(local(DAY1, 9, 0))
    with time_machine.travel(local(DAY1, 9, 30), tick=False):
        known = _post(client, {"message_id": "m-5", "phone": ELDER_PHONE, "text": "2"})
        unknown = _post(client, {"message_id": "m-6", "phone": "13600000000", "text": "1"})
        garbage = _post(client, {"message_id": "m-7", "phone": "<script>", "text": "1"})
    assert known.status_code == unknown.status_code == garbage.status_code == 200
    assert known.content == unknown.content == garbage.content
    assert CheckinDay.objects.get().answered_at is None
    assert not AuditEvent.objects.filter(changes__icontains=ELDER_PHONE).exists()


def test_enrol_through_the_page_and_scope(client, liaison, township_officer):
    elder = make_elder(name="马爷爷")
    url = reverse("services:checkin-enrol", args=[elder.pk])
    client.force_login(liaison)
    assert client.post(url, {"phone": "12345", "send_at": "08:30"}).status_code == 400
    assert client.post(url, {"phone": ELDER_PHONE, "send_at": "25:00"}).status_code == 400
    assert not CheckinEnrolment.objects.exists()
    assert client.post(url, {"phone": ELDER_PHONE, "send_at": "08:30"}).status_code == 302
    enrolment = CheckinEnrolment.objects.get()
    assert enrolment.phone_masked == "137****5678" and enrolment.send_at == datetime.time(8, 30)
    assert not AuditEvent.objects.filter(changes__icontains=ELDER_PHONE).exists()
    page = client.get(reverse("services:checkin-list")).content.decode()
    assert "马爷爷" in page and ELDER_PHONE not in page and "137****5678" in page
    list_url, export_url = reverse("services:checkin-list"), reverse("services:checkin-export") + "?format=csv"
    client.logout()
    for target in (list_url, export_url, url):
        assert client.get(target).status_code == 302
    outsiders = {
        "other village liaison": staff("village_liaison", "640422100002"),
        "other township officer": staff("township_officer", OTHER_TOWNSHIP_VILLAGE[:9] + "000"),
        "volunteer": UserFactory(),
        "department": staff("department", "640422100000"),
    }
    for who, user in outsiders.items():
        client.force_login(user)
        assert client.get(url).status_code in (403, 404), who
        assert client.post(reverse("services:checkin-withdraw", args=[enrolment.pk])).status_code in (403, 404), who
        for target in (list_url, export_url):
            response = client.get(target)
            assert response.status_code in (200, 403), (who, target)
            assert "马爷爷" not in response.content.decode("utf-8-sig"), (who, target)
    enrolment.refresh_from_db()
    assert enrolment.active


@pytest.mark.parametrize("n", [2, 12])
def test_list_queries_do_not_grow(client, liaison, django_assert_max_num_queries, n):
    for i in range(n):
        actions.enrol(actor=liaison, elder=make_elder(), phone=f"1371234{i:04d}", send_at=datetime.time(9, 0))
    client.force_login(liaison)
    with django_assert_max_num_queries(10):
        assert client.get(reverse("services:checkin-list")).status_code == 200
