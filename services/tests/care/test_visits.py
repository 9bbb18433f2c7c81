"""Recording visits: service rules, the phone-sized form, scope and follow-ups."""

import datetime

import pytest

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from services.care import visits as visit_ops
from services.care.models import DEFAULT_VISIT_PLANS, AlertStatus, RiskLevel, VisitMethod
from services.models import Alert, FollowUp, Visit
from services.tests.factories_care import (
    OTHER_TOWNSHIP_VILLAGE,
    SAME_TOWNSHIP_VILLAGE,
    add_supporter,
    make_elder,
    make_key_elder,
)

pytestmark = pytest.mark.django_db


def test_contact_made_moves_last_visit_dates(liaison):
    elder = make_elder()
    when = timezone.now() - datetime.timedelta(hours=2)
    visit = visit_ops.visit_record(actor=liaison, elder=elder, method=VisitMethod.HOME, visited_at=when)
    elder.refresh_from_db()
    assert elder.last_visit_at == when
    assert elder.last_home_visit_at == when
    days = DEFAULT_VISIT_PLANS[elder.priority]["contact_days"]
    assert visit.next_visit_due == timezone.localtime(when).date() + datetime.timedelta(days=days)
    assert elder.version == 1  # a visit is not an edit of the ledger
    assert AuditEvent.objects.filter(object_type="services.visit", object_id=str(visit.pk), action="create").exists()


def test_phone_call_moves_contact_but_not_home_visit(liaison):
    elder = make_key_elder()
    visit_ops.visit_record(actor=liaison, elder=elder, method=VisitMethod.PHONE)
    elder.refresh_from_db()
    assert elder.last_visit_at is not None
    assert elder.last_home_visit_at is None
    visit = Visit.objects.get(elder=elder)
    assert visit.next_visit_due == timezone.localdate() + datetime.timedelta(days=7)  # 重点: every 7 days


def test_unanswered_call_is_recorded_but_does_not_count(liaison):
    elder = make_elder()
    visit = visit_ops.visit_record(actor=liaison, elder=elder, contact_made=False)
    elder.refresh_from_db()
    assert visit.pk and not visit.contact_made
    assert elder.last_visit_at is None


def test_unanswered_call_cannot_carry_findings(liaison):
    elder = make_elder()
    with pytest.raises(ValidationError) as exc:
        visit_ops.visit_record(actor=liaison, elder=elder, contact_made=False, risk_level=RiskLevel.HIGH)
    assert str(visit_ops.NO_CONTACT_NO_FINDINGS) in exc.value.messages
    assert not Visit.objects.exists()


def test_an_older_visit_does_not_move_last_contact_backwards(liaison):
    elder = make_elder()
    visit_ops.visit_record(actor=liaison, elder=elder)
    elder.refresh_from_db()
    latest = elder.last_visit_at
    visit_ops.visit_record(actor=liaison, elder=elder, visited_at=timezone.now() - datetime.timedelta(days=10))
    elder.refresh_from_db()
    assert elder.last_visit_at == latest


@pytest.mark.parametrize(
    ("delta", "message"),
    [(datetime.timedelta(days=1), visit_ops.VISIT_IN_FUTURE), (datetime.timedelta(days=-120), visit_ops.VISIT_TOO_OLD)],
)
def test_impossible_dates_are_refused(liaison, delta, message):
    elder = make_elder()
    with pytest.raises(ValidationError) as exc:
        visit_ops.visit_record(actor=liaison, elder=elder, visited_at=timezone.now() + delta)
    assert str(message) in exc.value.messages
    assert not Visit.objects.exists()


def test_high_risk_raises_an_alert_and_tells_the_supporters(liaison, outbox, django_capture_on_commit_callbacks):
    elder = make_key_elder()
    add_supporter(elder, phone="13811112222")
    with django_capture_on_commit_callbacks(execute=True):
        visit = visit_ops.visit_record(
            actor=liaison,
            elder=elder,
            method=VisitMethod.HOME,
            risk_level=RiskLevel.HIGH,
            alert_kind="critical_illness",
            safety_risks="高烧三天，无人照看",
        )
    alert = visit.alert
    assert alert.elder == elder and alert.status == AlertStatus.REPORTED and alert.source == "visit"
    assert "高烧三天" in alert.description
    assert any(phone == "13811112222" and alert.reference in text for phone, text in outbox)


def test_high_risk_needs_the_kind_of_emergency(liaison):
    elder = make_elder()
    with pytest.raises(ValidationError) as exc:
        visit_ops.visit_record(actor=liaison, elder=elder, risk_level=RiskLevel.HIGH)
    assert str(visit_ops.ALERT_KIND_NEEDED) in exc.value.messages
    assert not Visit.objects.exists() and not Alert.objects.exists()


def test_follow_up_and_completion(liaison):
    elder = make_elder()
    due = timezone.localdate() + datetime.timedelta(days=3)
    visit = visit_ops.visit_record(
        actor=liaison, elder=elder, follow_ups=[visit_ops.FollowUpData(action="联系村医上门量血压", due_date=due)]
    )
    follow_up = visit.follow_ups.get()
    assert follow_up.owner == liaison and follow_up.is_open
    visit_ops.followup_complete(actor=liaison, follow_up=follow_up, note="已量，正常")
    with pytest.raises(ValidationError) as exc:
        visit_ops.followup_complete(actor=liaison, follow_up=follow_up)
    assert str(visit_ops.FOLLOW_UP_ALREADY_DONE) in exc.value.messages


def test_follow_up_due_before_the_visit_is_refused(liaison):
    elder = make_elder()
    with pytest.raises(ValidationError) as exc:
        visit_ops.visit_record(
            actor=liaison,
            elder=elder,
            follow_ups=[visit_ops.FollowUpData(action="x", due_date=timezone.localdate() - datetime.timedelta(days=2))],
        )
    assert str(visit_ops.FOLLOW_UP_DUE_PAST) in exc.value.messages
    assert not FollowUp.objects.exists()


def test_supervisor_cannot_record(supervisor):
    elder = make_elder()
    with pytest.raises(ValidationError):
        visit_ops.visit_record(actor=supervisor, elder=elder)


def test_moved_elder_cannot_be_visited(liaison):
    elder = make_elder(status="moved")
    with pytest.raises(ValidationError) as exc:
        visit_ops.visit_record(actor=liaison, elder=elder)
    assert str(visit_ops.ELDER_NOT_ACTIVE) in exc.value.messages


# --- the form ---------------------------------------------------------------------------------------


def _post(**overrides):
    data = {
        "method": "phone",
        "contact_made": "1",
        "visited_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "family_duty": "unknown",
        "risk_level": "none",
    }
    data.update(overrides)
    return data


def test_form_defaults_are_the_quick_case(client, liaison):
    elder = make_elder()
    client.force_login(liaison)
    response = client.get(reverse("services:visit-create", args=[elder.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="phone"' in html and 'id="id_method_0" checked' in html
    assert 'name="contact_made" value="1"' in html
    assert response["Cache-Control"].count("no-store")


def test_form_records_a_visit(client, liaison):
    elder = make_elder()
    client.force_login(liaison)
    response = client.post(
        reverse("services:visit-create", args=[elder.pk]),
        _post(method="home", living_conditions="fair", health="good", mood="good", family_duty="kept"),
    )
    assert response.status_code == 302
    visit = Visit.objects.get(elder=elder)
    assert visit.method == "home" and visit.visitor == liaison and visit.living_conditions == "fair"


def test_form_family_duty_not_kept_points_to_a_reminder(client, liaison):
    elder = make_elder()
    client.force_login(liaison)
    response = client.post(
        reverse("services:visit-create", args=[elder.pk]), _post(family_duty="not_kept"), follow=True
    )
    assert "督促履行赡养义务" in response.content.decode()


def test_form_bad_input_changes_nothing(client, liaison):
    elder = make_elder()
    client.force_login(liaison)
    response = client.post(
        reverse("services:visit-create", args=[elder.pk]),
        _post(method="teleport", visited_at="not a date", contact_made="0", risk_level="high"),
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Visit.objects.exists()


def test_form_unanswered_with_risk_shows_the_translated_message(client, liaison):
    elder = make_elder()
    client.force_login(liaison)
    response = client.post(
        reverse("services:visit-create", args=[elder.pk]),
        _post(contact_made="0", risk_level="medium"),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert str(visit_ops.NO_CONTACT_NO_FINDINGS) in [str(e) for e in response.context["form"].errors["contact_made"]]
    assert not Visit.objects.exists()


def test_xss_in_notes_is_escaped(client, liaison):
    elder = make_elder()
    client.force_login(liaison)
    client.post(reverse("services:visit-create", args=[elder.pk]), _post(notes="<script>alert(1)</script>"))
    visit = Visit.objects.get()
    html = client.get(reverse("services:visit-detail", args=[visit.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


# --- scope ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("village", [SAME_TOWNSHIP_VILLAGE, OTHER_TOWNSHIP_VILLAGE])
def test_liaison_gets_404_for_another_villages_elder_and_visit(client, liaison, village):
    elder = make_elder(village=village)
    visit = Visit.objects.create(elder=elder, method="phone")
    client.force_login(liaison)
    assert client.get(reverse("services:visit-create", args=[elder.pk])).status_code == 404
    assert client.post(reverse("services:visit-create", args=[elder.pk]), _post()).status_code == 404
    assert client.get(reverse("services:visit-detail", args=[visit.pk])).status_code == 404
    assert Visit.objects.count() == 1


def test_supervisor_reads_but_cannot_record(client, supervisor):
    elder = make_elder()
    visit = Visit.objects.create(elder=elder, method="phone")
    client.force_login(supervisor)
    assert client.get(reverse("services:visit-detail", args=[visit.pk])).status_code == 200
    assert client.get(reverse("services:visit-create", args=[elder.pk])).status_code == 403
    assert client.post(reverse("services:visit-create", args=[elder.pk]), _post()).status_code == 403
    assert Visit.objects.count() == 1


def test_volunteer_and_anonymous_are_kept_out(client, volunteer):
    elder = make_elder()
    visit = Visit.objects.create(elder=elder, method="phone")
    assert client.get(reverse("services:visit-detail", args=[visit.pk])).status_code == 302
    client.force_login(volunteer)
    assert client.get(reverse("services:visit-detail", args=[visit.pk])).status_code == 403
    assert client.get(reverse("services:visit-create", args=[elder.pk])).status_code == 403
    assert client.get(reverse("services:visits-due")).status_code == 403


def test_follow_up_done_through_the_view_and_scope(client, liaison):
    elder = make_elder()
    visit = visit_ops.visit_record(
        actor=liaison,
        elder=elder,
        follow_ups=[visit_ops.FollowUpData(action="送药", due_date=timezone.localdate())],
    )
    follow_up = visit.follow_ups.get()
    other = make_elder(village=OTHER_TOWNSHIP_VILLAGE)
    other_follow_up = FollowUp.objects.create(
        visit=Visit.objects.create(elder=other, method="phone"), action="x", due_date=timezone.localdate()
    )
    client.force_login(liaison)
    assert client.post(reverse("services:followup-done", args=[other_follow_up.pk])).status_code == 404
    response = client.post(reverse("services:followup-done", args=[follow_up.pk]), {"note": "已送到"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.done_at and follow_up.done_note == "已送到" and follow_up.done_by == liaison
    other_follow_up.refresh_from_db()
    assert other_follow_up.done_at is None


def test_elder_panel_renders(liaison, rf):
    from django.template.loader import render_to_string

    elder = make_elder()
    visit_ops.visit_record(actor=liaison, elder=elder)
    request = rf.get("/")
    request.user = liaison
    html = render_to_string("services/care/_elder_panel.html", {"elder": elder}, request=request)
    assert reverse("services:visit-create", args=[elder.pk]) in html
    assert reverse("services:alert-raise", args=[elder.pk]) in html
    assert reverse("services:visit-detail", args=[Visit.objects.get().pk]) in html


def test_the_risk_is_a_choice_the_visitor_makes(client, liaison):
    """Issue 16, item 11: the form pre-selected 无风险; now a reached elder's visit needs the risk chosen."""
    from services.care.forms import RISK_REQUIRED
    from services.models import Visit

    elder = make_elder()
    client.force_login(liaison)
    html = client.get(reverse("services:visit-create", args=[elder.pk])).content.decode()
    assert 'name="risk_level" value="none" checked' not in html and 'value="none" required checked' not in html
    response = client.post(reverse("services:visit-create", args=[elder.pk]), _post(risk_level=""))
    assert response.status_code == 200
    assert str(RISK_REQUIRED) in response.context["form"].errors["risk_level"]
    assert not Visit.objects.exists()
    # nobody reached: nothing to assess
    response = client.post(reverse("services:visit-create", args=[elder.pk]), _post(contact_made="0", risk_level=""))
    assert response.status_code == 302 and Visit.objects.count() == 1
