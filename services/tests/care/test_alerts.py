"""Alerts: the chain village → township, concurrency, deadlines, notifications, the public form, scope."""

import datetime

import pytest

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Region
from services.care import alerts as alert_ops
from services.care.models import AlertSource, AlertStatus
from services.models import Alert, AlertDeadline, AlertStep
from services.tests.factories_care import (
    OTHER_TOWNSHIP_VILLAGE,
    SAME_TOWNSHIP_VILLAGE,
    VILLAGE,
    add_supporter,
    make_elder,
    staff,
)

pytestmark = pytest.mark.django_db


def _raise(elder=None, village=VILLAGE, actor=None, **kw):
    kw.setdefault("kind", "hardship")
    kw.setdefault("description", "房屋漏雨，老人独自在家")
    kw.setdefault("source", AlertSource.LIAISON)
    alert, _created = alert_ops.alert_raise(actor=actor, elder=elder, village=Region.objects.get(code=village), **kw)
    return alert


def test_the_whole_chain_with_its_trail(liaison, township_officer, outbox, django_capture_on_commit_callbacks):
    elder = make_elder()
    add_supporter(elder, phone="13800001111")
    with django_capture_on_commit_callbacks(execute=True):
        alert = _raise(elder, actor=liaison)
    assert alert.status == AlertStatus.REPORTED and alert.due_at > timezone.now()
    assert any(p == "13800001111" for p, _m in outbox)
    alert_ops.alert_acknowledge(actor=liaison, alert=alert, note="已电话联系")
    with django_capture_on_commit_callbacks(execute=True):
        alert_ops.alert_escalate(actor=liaison, alert=alert, note="需乡镇协调救助")
    assert any(p == township_officer.phone for p, _m in outbox)
    # once escalated, the village cannot close it
    with pytest.raises(ValidationError) as exc:
        alert_ops.alert_handle(actor=liaison, alert=alert, note="x")
    assert str(alert_ops.TOWNSHIP_STEP) in exc.value.messages
    alert_ops.alert_handle(actor=township_officer, alert=alert, note="已安排临时救助")
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        alert_ops.alert_close(actor=township_officer, alert=alert, note="老人已安置")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.CLOSED and alert.closed_at and alert.due_at is None
    assert [s.status for s in alert.steps.all()] == ["reported", "acknowledged", "escalated", "handled", "closed"]
    assert [s.actor for s in alert.steps.all()][1:] == [liaison, liaison, township_officer, township_officer]
    assert outbox and outbox[0][0] == "13800001111" and alert.reference in outbox[0][1]
    assert (
        AuditEvent.objects.filter(object_type="services.alert", object_id=str(alert.pk), action="change").count() == 4
    )


def test_a_step_needs_a_note_and_a_valid_order(liaison):
    alert = _raise(actor=liaison)
    with pytest.raises(ValidationError) as exc:
        alert_ops.alert_close(actor=liaison, alert=alert, note="done")
    assert "不可" in " ".join(exc.value.messages) or exc.value.code == "bad_step"
    alert_ops.alert_acknowledge(actor=liaison, alert=alert)
    with pytest.raises(ValidationError) as exc:
        alert_ops.alert_escalate(actor=liaison, alert=alert, note="  ")
    assert str(alert_ops.NOTE_REQUIRED) in exc.value.messages
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED


def test_concurrent_acknowledgement_one_wins_the_other_is_told(liaison):
    second = staff("village_liaison", VILLAGE, real_name="马二")
    alert = _raise(actor=liaison)
    mine = Alert.objects.get(pk=alert.pk)
    theirs = Alert.objects.get(pk=alert.pk)  # both opened the page while it was "reported"
    alert_ops.alert_acknowledge(actor=liaison, alert=mine, note="我来处理")
    with pytest.raises(ValidationError) as exc:
        alert_ops.alert_acknowledge(actor=second, alert=theirs, note="我也来")
    assert exc.value.code == "already_moved"
    assert AlertStep.objects.filter(alert=alert, status=AlertStatus.ACKNOWLEDGED).count() == 1
    assert AlertStep.objects.get(alert=alert, status=AlertStatus.ACKNOWLEDGED).actor == liaison


def test_concurrent_step_through_the_view(client, liaison):
    second = staff("village_liaison", VILLAGE, real_name="马二")
    alert = _raise(actor=liaison)
    url = reverse("services:alert-step", args=[alert.pk])
    client.force_login(liaison)
    client.post(url, {"to_status": "acknowledged", "from_status": "reported", "note": ""})
    client.force_login(second)  # their page still showed "reported"
    response = client.post(url, {"to_status": "acknowledged", "from_status": "reported", "note": "重复"}, follow=True)
    told = str(alert_ops.ALREADY_MOVED).split("“")[0]
    assert told in response.content.decode()
    assert AlertStep.objects.filter(alert=alert, status="acknowledged").count() == 1


def test_deadline_overdue_flag_and_notification_once(
    liaison, township_officer, outbox, django_capture_on_commit_callbacks
):
    alert = _raise(actor=liaison)
    Alert.objects.filter(pk=alert.pk).update(due_at=timezone.now() - datetime.timedelta(minutes=1))
    alert.refresh_from_db()
    assert alert.is_overdue
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_alert_deadlines", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert township_officer.phone in [p for p, _m in outbox]
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert alert_ops.alerts_notify_overdue() == 0
    assert outbox == []


def test_county_deadline_overrides_the_default(liaison):
    AlertDeadline.objects.create(county=Region.objects.get(code="640422000000"), status="reported", hours=1)
    alert = _raise(actor=liaison)
    assert alert.due_at - alert.created_at == datetime.timedelta(hours=1)
    other = _raise(village="640104001001" if Region.objects.filter(code="640104001001").exists() else VILLAGE)
    assert other.due_at - other.created_at in (datetime.timedelta(hours=1), datetime.timedelta(hours=2))


def test_raise_refuses_bad_input(liaison):
    elder = make_elder(village=OTHER_TOWNSHIP_VILLAGE)
    with pytest.raises(ValidationError) as exc:
        _raise(elder=elder, village=VILLAGE, actor=liaison, description="", kind="earthquake")
    errors = exc.value.message_dict
    assert set(errors) >= {"description", "kind", "elder"}
    with pytest.raises(ValidationError):
        _raise(village="640422100000", actor=liaison)  # a township, not a village
    assert not Alert.objects.exists()


# --- the public form ---------------------------------------------------------------------------------


def _report(**overrides):
    data = {
        "village": VILLAGE,
        "kind": "wandering",
        "description": "一位老人在集市口乞讨，衣着单薄",
        "place": "吉强镇集市口",
        "reporter_phone": "138 0000 2222",
        "relation": "public",
        "website": "",
    }
    data.update(overrides)
    return data


def test_public_report_goes_to_the_village_and_shows_only_a_reference(client):
    url = reverse("services:alert-report")
    assert client.get(url).status_code == 200
    response = client.post(url, _report())
    assert response.status_code == 302
    alert = Alert.objects.get()
    assert alert.village_id == VILLAGE and alert.elder is None and alert.source == "public"
    assert alert.reporter_phone == "13800002222" and alert.reporter is None
    event = AuditEvent.objects.get(object_type="services.alert", object_id=str(alert.pk), action="create")
    assert event.ip_address is None and event.user_agent == ""  # stores no more than needed
    thanks = client.get(response["Location"])
    html = thanks.content.decode()
    assert alert.reference in html and "乞讨" not in html and "集市口" not in html
    # nothing else is open to them
    assert client.get(reverse("services:alert-detail", args=[alert.pk])).status_code == 302
    assert client.get(reverse("services:alert-list")).status_code == 302
    assert client.get(reverse("services:alert-report-thanks") + "?r=forged").status_code == 404


def test_public_report_matches_the_elder_by_name(client):
    elder = make_elder(name="马福贵")
    client.post(reverse("services:alert-report"), _report(person_name="马福贵"))
    alert = Alert.objects.get()
    assert alert.elder == elder and alert.person_name == ""


def test_public_report_ambiguous_name_is_kept_on_the_village(client):
    make_elder(name="马福贵")
    make_elder(name="马福贵")
    client.post(reverse("services:alert-report"), _report(person_name="马福贵"))
    alert = Alert.objects.get()
    assert alert.elder is None and alert.person_name == "马福贵"


def test_replayed_report_creates_no_duplicate(client):
    first = client.post(reverse("services:alert-report"), _report())
    second = client.post(reverse("services:alert-report"), _report(description="一位老人在集市口乞讨，  衣着单薄"))
    assert Alert.objects.count() == 1
    assert client.get(first["Location"]).context["reference"] == client.get(second["Location"]).context["reference"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"website": "http://spam.example"},
        {"reporter_phone": "12345"},
        {"village": "640422100000"},
        {"village": "999999999999"},
        {"description": ""},
        {"description": "x" * 1001},
        {"kind": "ufo"},
    ],
)
def test_public_report_bad_input_changes_nothing(client, overrides):
    response = client.post(reverse("services:alert-report"), _report(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Alert.objects.exists()


def test_public_report_is_rate_limited(client):
    url = reverse("services:alert-report")
    for i in range(alert_ops.PUBLIC_LIMIT_PER_IP):
        client.post(url, _report(description=f"情况{i}", reporter_phone=f"1380000{i:04d}"))
    response = client.post(url, _report(description="再一次", reporter_phone="13900009999"))
    assert response.status_code == 429
    assert str(alert_ops.RATE_LIMITED) in response.content.decode()
    assert Alert.objects.count() == alert_ops.PUBLIC_LIMIT_PER_IP


def test_public_report_requires_csrf():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(reverse("services:alert-report"), _report())
    assert response.status_code == 403
    assert not Alert.objects.exists()


def test_xss_in_a_public_report_is_escaped_for_staff(client, liaison):
    client.post(reverse("services:alert-report"), _report(description='<img src=x onerror="alert(1)">'))
    alert = Alert.objects.get()
    client.force_login(liaison)
    html = client.get(reverse("services:alert-detail", args=[alert.pk])).content.decode()
    assert '<img src=x onerror="alert(1)">' not in html and "&lt;img" in html


# --- lists, detail and scope -------------------------------------------------------------------------


def test_alert_lists_are_scoped_per_level(client, liaison, township_officer, county_officer, mfa_client):
    mine = _raise()
    same_township = _raise(village=SAME_TOWNSHIP_VILLAGE, description="同镇另一村")
    other_township = _raise(village=OTHER_TOWNSHIP_VILLAGE, description="另一镇")
    url = reverse("services:alert-list")

    def listed(c):
        return {a.pk for a in c.get(url).context["table"].data}

    client.force_login(liaison)
    assert listed(client) == {mine.pk}
    for other in (same_township, other_township):
        assert client.get(reverse("services:alert-detail", args=[other.pk])).status_code == 404
        assert (
            client.post(reverse("services:alert-step", args=[other.pk]), {"to_status": "acknowledged"}).status_code
            == 404
        )
    client.force_login(township_officer)
    assert listed(client) == {mine.pk, same_township.pk}
    assert listed(mfa_client(county_officer)) == {mine.pk, same_township.pk, other_township.pk}


def test_supervisor_reads_but_cannot_act(client, supervisor):
    alert = _raise()
    client.force_login(supervisor)
    response = client.get(reverse("services:alert-detail", args=[alert.pk]))
    assert response.status_code == 200 and response.context["steps"] == []
    assert (
        client.post(reverse("services:alert-step", args=[alert.pk]), {"to_status": "acknowledged"}).status_code == 403
    )
    alert.refresh_from_db()
    assert alert.status == AlertStatus.REPORTED


def test_volunteer_gets_403_on_staff_alert_pages(client, volunteer):
    alert = _raise()
    client.force_login(volunteer)
    assert client.get(reverse("services:alert-list")).status_code == 403
    assert client.get(reverse("services:alert-detail", args=[alert.pk])).status_code == 403


def test_detail_masks_the_reporters_phone_for_supervisors(client, liaison, supervisor):
    client.post(reverse("services:alert-report"), _report())
    alert = Alert.objects.get()
    client.force_login(liaison)
    assert "13800002222" in client.get(reverse("services:alert-detail", args=[alert.pk])).content.decode()
    client.force_login(supervisor)
    html = client.get(reverse("services:alert-detail", args=[alert.pk])).content.decode()
    assert "13800002222" not in html and "138****2222" in html
    assert AuditEvent.objects.filter(object_type="services.alert", action="view").count() == 2


def test_township_sees_the_escalation_and_acts_through_the_view(client, liaison, township_officer):
    alert = _raise()
    client.force_login(liaison)
    step = reverse("services:alert-step", args=[alert.pk])
    client.post(step, {"to_status": "acknowledged", "note": ""})
    client.post(step, {"to_status": "escalated", "note": "需要乡镇救助"})
    client.force_login(township_officer)
    response = client.get(reverse("services:alert-list") + "?state=escalated")
    assert [a.pk for a in response.context["table"].data] == [alert.pk]
    assert [s for s, _label in client.get(reverse("services:alert-detail", args=[alert.pk])).context["steps"]] == [
        "handled"
    ]
    client.post(step, {"to_status": "handled", "note": "已送医"})
    alert.refresh_from_db()
    assert alert.status == AlertStatus.HANDLED


def test_staff_raise_form(client, liaison):
    elder = make_elder()
    client.force_login(liaison)
    url = reverse("services:alert-raise", args=[elder.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": "harm", "description": "被邻居打伤", "place": ""})
    alert = Alert.objects.get()
    assert response.status_code == 302 and alert.elder == elder and alert.reporter == liaison
    client.post(url, {"kind": "harm", "description": "被邻居打伤", "place": ""})
    assert Alert.objects.count() == 1  # replay
    other = make_elder(village=OTHER_TOWNSHIP_VILLAGE)
    assert client.get(reverse("services:alert-raise", args=[other.pk])).status_code == 404


def test_alert_list_query_count_is_constant(client, township_officer, django_assert_max_num_queries):
    for i in range(3):
        _raise(description=f"a{i}", elder=make_elder())
    client.force_login(township_officer)
    url = reverse("services:alert-list")
    client.get(url)
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 200
    for i in range(30):
        _raise(description=f"b{i}", village=SAME_TOWNSHIP_VILLAGE)
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.context["table"].paginator.count == 33


def test_alert_export_csv_is_audited(client, liaison):
    _raise(elder=make_elder(name="马福贵"))
    client.force_login(liaison)
    response = client.get(reverse("services:alert-list") + "?_export=csv")
    assert response.status_code == 200 and "马福贵" in response.content.decode()
    assert AuditEvent.objects.filter(action="export", object_type="services.alert").exists()


def test_public_report_without_javascript_picks_the_place_step_by_step(client):
    data = _report()
    del data["village"]
    response = client.post(reverse("services:alert-report"), {**data, "village_county": "640422000000"})
    assert response.status_code == 200 and not Alert.objects.exists()
    assert 'value="640422100000"' in response.content.decode()  # the county's townships to choose from
    response = client.post(reverse("services:alert-report"), {**data, "village_township": "640422100000"})
    assert f'value="{VILLAGE}"' in response.content.decode()  # then the township's villages
    assert not Alert.objects.exists()
