"""Issue 16, item 1: the public concern report is reachable, a paired volunteer reports about her elder, and
the reporter looks up the state of the report with its number and a code sent to their phone."""

import datetime
import re

import pytest
import time_machine

from django.urls import reverse

from services.care import alerts as alert_ops
from services.care import report_status
from services.care.models import AlertSource, AlertStatus
from services.models import Alert, AlertLookupCode
from services.pairing.models import Pairing, PairingStatus
from services.tests.factories_care import VILLAGE, make_elder

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 30, 10, 0, tzinfo=datetime.UTC)
PHONE = "13800002222"


def _report(**overrides) -> dict:
    data = {
        "village": VILLAGE,
        "kind": "wandering",
        "description": "一位老人在集市口乞讨，衣着单薄",
        "place": "集市口",
        "person_name": "",
        "reporter_phone": PHONE,
        "relation": "public",
        "website": "",
    }
    data.update(overrides)
    return data


def _reported(client) -> Alert:
    response = client.post(reverse("services:alert-report"), _report())
    assert response.status_code == 302
    return Alert.objects.get()


def _code_from(outbox) -> str:
    phone, message = outbox[-1]
    assert phone == PHONE
    return re.search(r"\b(\d{6})\b", message).group(1)


_capture = None


@pytest.fixture(autouse=True)
def _sms_after_commit(django_capture_on_commit_callbacks):
    """The code goes out after the request commits: run those callbacks as each request ends."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def _send(client, reference, phone=PHONE):
    with _capture(execute=True):
        return client.post(
            reverse("services:alert-report-status"), {"step": "send", "reference": reference, "reporter_phone": phone}
        )


def _check(client, reference, code):
    return client.post(reverse("services:alert-report-status"), {"step": "check", "reference": reference, "code": code})


# --- from the report to the look-up ---------------------------------------------------------------------------


def test_the_thanks_page_leads_to_the_status_look_up(client):
    response = client.post(reverse("services:alert-report"), _report())
    thanks = client.get(response["Location"]).content.decode()
    alert = Alert.objects.get()
    assert f"{reverse('services:alert-report-status')}?ref={alert.reference}" in thanks


# --- a paired volunteer reports about her elder -------------------------------------------------------------


def test_a_paired_volunteer_reports_about_her_elder_from_her_list(client, volunteer):
    elder = make_elder(name="马福贵")
    make_elder(name="马福贵")  # a namesake: the name alone would not find the elder
    pairing = Pairing.objects.create(elder=elder, giver_user=volunteer, status=PairingStatus.ACTIVE)
    client.force_login(volunteer)
    mine = client.get(reverse("services:pairing-mine")).content.decode()
    link = f"{reverse('services:alert-report')}?pairing={pairing.pk}"
    assert f'href="{link}"' in mine
    form = client.get(link)
    assert form.context["pairing"] == pairing
    assert form.context["form"].initial["person_name"] == "马福贵"
    response = client.post(link, {**_report(relation="public"), "pairing": pairing.pk, "person_name": "马福贵"})
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.elder == elder and alert.source == AlertSource.VOLUNTEER and alert.reporter == volunteer


def test_someone_elses_pairing_gives_no_elder(client, volunteer):
    from tests.factories import UserFactory

    elder = make_elder(name="马福贵")
    pairing = Pairing.objects.create(elder=elder, giver_user=UserFactory(), status=PairingStatus.ACTIVE)
    client.force_login(volunteer)
    form = client.get(f"{reverse('services:alert-report')}?pairing={pairing.pk}")
    assert form.context["pairing"] is None and "马福贵" not in form.content.decode()
    client.post(reverse("services:alert-report"), {**_report(), "pairing": pairing.pk})
    alert = Alert.objects.get()
    assert alert.elder is None and alert.source == AlertSource.PUBLIC


# --- the status look-up ---------------------------------------------------------------------------------------


def test_the_reporter_sees_the_state_with_the_code_sent_to_her_phone(client, outbox, liaison):
    with time_machine.travel(NOW, tick=False):
        alert = _reported(client)
        outbox.clear()
        page = _send(client, alert.reference.lower())  # the number as typed, any case
        assert page.status_code == 200 and page.context["code_form"] is not None
        code = _code_from(outbox)
        assert alert.reference in outbox[-1][1]
        alert_ops.alert_acknowledge(actor=liaison, alert=alert, note="已派人查看")
    with time_machine.travel(NOW + datetime.timedelta(minutes=10), tick=False):
        page = _check(client, alert.reference, code)
    html = page.content.decode()
    assert page.status_code == 200 and page.context["state"]["status_code"] == AlertStatus.ACKNOWLEDGED
    assert "2026年11月30日" in html
    assert str(report_status.STATE_EXPLAINED[AlertStatus.ACKNOWLEDGED]) in html
    # nothing of the case itself: not the description, the place nor the liaison's note
    assert "衣着单薄" not in html and "集市口" not in html and "已派人查看" not in html
    assert page["Cache-Control"] == "no-store"


def test_a_wrong_phone_gets_the_same_answer_and_no_sms(client, outbox):
    alert = _reported(client)
    outbox.clear()
    page = _send(client, alert.reference, phone="13911112222")
    assert page.status_code == 200 and page.context["code_form"] is not None  # says nothing either way
    assert outbox == [] and not AlertLookupCode.objects.exists()
    page = _send(client, "20990101-FFFFFF")
    assert page.context["code_form"] is not None and outbox == []


@pytest.mark.parametrize(
    "data", [{"reference": "", "reporter_phone": PHONE}, {"reference": "20261130-ABCDEF", "reporter_phone": "123"}]
)
def test_bad_look_up_input_is_refused_and_sends_nothing(client, outbox, data):
    page = client.post(reverse("services:alert-report-status"), {"step": "send", **data})
    assert page.context["lookup_form"].errors and page.context["code_form"] is None
    assert outbox == [] and not AlertLookupCode.objects.exists()


def test_wrong_codes_are_counted_in_the_database_and_lock_the_code(client, outbox):
    with time_machine.travel(NOW, tick=False):
        alert = _reported(client)
        _send(client, alert.reference)
        code = _code_from(outbox)
        wrong = "000000" if code != "000000" else "111111"
        for _i in range(report_status.MAX_ATTEMPTS - 1):
            page = _check(client, alert.reference, wrong)
            assert page.status_code == 400 and str(report_status.CODE_WRONG) in page.content.decode()
        page = _check(client, alert.reference, wrong)
        assert str(report_status.CODE_LOCKED) in page.content.decode()
        assert AlertLookupCode.objects.get().attempts == report_status.MAX_ATTEMPTS
        # the right code no longer helps, whatever the session or the client
        from django.test import Client

        page = _check(Client(), alert.reference, code)
        assert page.context["state"] is None and str(report_status.CODE_LOCKED) in page.content.decode()
        assert AlertLookupCode.objects.get().attempts == report_status.MAX_ATTEMPTS


def test_the_code_expires(client, outbox):
    with time_machine.travel(NOW, tick=False):
        alert = _reported(client)
        _send(client, alert.reference)
        code = _code_from(outbox)
    with time_machine.travel(NOW + report_status.CODE_TTL + datetime.timedelta(minutes=1), tick=False):
        page = _check(client, alert.reference, code)
    assert page.context["state"] is None and str(report_status.CODE_GONE) in page.content.decode()


def test_codes_are_limited_per_report(client, outbox):
    with time_machine.travel(NOW, tick=False) as traveller:
        alert = _reported(client)
        outbox.clear()
        _send(client, alert.reference)
        page = _send(client, alert.reference)  # again within the minute
        assert str(report_status.SENT_TOO_OFTEN) in page.content.decode()
        for _i in range(report_status.MAX_SENDS_PER_HOUR - 1):
            traveller.shift(datetime.timedelta(minutes=2))
            _send(client, alert.reference)
        traveller.shift(datetime.timedelta(minutes=2))
        page = _send(client, alert.reference)
        assert str(report_status.SENT_TOO_OFTEN) in page.content.decode()
    assert len(outbox) == report_status.MAX_SENDS_PER_HOUR
    assert AlertLookupCode.objects.count() == report_status.MAX_SENDS_PER_HOUR


def test_only_the_latest_code_counts(client, outbox):
    with time_machine.travel(NOW, tick=False) as traveller:
        alert = _reported(client)
        _send(client, alert.reference)
        first = _code_from(outbox)
        traveller.shift(datetime.timedelta(minutes=2))
        _send(client, alert.reference)
        second = _code_from(outbox)
        if first != second:
            assert _check(client, alert.reference, first).context["state"] is None
        assert _check(client, alert.reference, second).context["state"]["reference"] == alert.reference
