"""Who is due or overdue a visit: the SQL due dates, the plan, the list, the digest and the dashboard counts."""

import datetime

import pytest

from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, Region
from services.care import alerts as alert_ops
from services.care import demo as demo_visits
from services.care import visits as visit_ops
from services.care.load import generate
from services.care.models import AlertSource
from services.care.state import refresh_elders
from services.care.summary import care_counts
from services.models import Alert, Elder, Visit, VisitDigest, VisitPlan
from services.tests.factories_care import (
    OTHER_TOWNSHIP_VILLAGE,
    SAME_TOWNSHIP_VILLAGE,
    VILLAGE,
    add_supporter,
    make_elder,
    make_key_elder,
    staff,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def _visited(elder, days_ago: float, *, home: bool = False):
    when = timezone.now() - datetime.timedelta(days=days_ago)
    Elder.objects.filter(pk=elder.pk).update(last_visit_at=when, last_home_visit_at=when if home else None)
    refresh_elders([elder.pk])  # what visit_record does after moving the dates
    return when


def _normal_elder(**kw):
    elder = make_elder(living_arrangement="couple", **kw)
    add_supporter(elder)
    return elder


def _row(user, elder, when="all"):
    return visit_ops.visits_due(user, when=when).get(pk=elder.pk)


def test_key_elder_is_overdue_after_seven_days_without_contact(liaison):
    elder = make_key_elder()
    visited = _visited(elder, 8, home=True)
    row = _row(liaison, elder)
    assert row.priority_level == "key"
    contact_due = visit_ops.due_parts(row)["contact"]
    assert abs(contact_due - (visited + 7 * DAY)) < datetime.timedelta(seconds=1)
    assert abs(row.next_due - contact_due) < datetime.timedelta(seconds=1)
    assert elder.pk in {e.pk for e in visit_ops.visits_due(liaison, when="overdue")}


def test_normal_elder_recently_called_is_not_due_but_home_visit_counts(liaison):
    elder = _normal_elder()
    _visited(elder, 3, home=True)
    row = _row(liaison, elder)
    assert row.priority_level == "normal"
    assert row.next_due > timezone.now() + 20 * DAY
    assert elder.pk not in {e.pk for e in visit_ops.visits_due(liaison, when="week")}


def test_key_elder_needs_a_monthly_home_visit_even_with_weekly_calls(liaison):
    elder = make_key_elder()
    Elder.objects.filter(pk=elder.pk).update(
        last_visit_at=timezone.now() - DAY, last_home_visit_at=timezone.now() - 35 * DAY
    )
    refresh_elders([elder.pk])
    row = _row(liaison, elder)
    assert abs(row.next_due - visit_ops.due_parts(row)["home"]) < datetime.timedelta(seconds=1)
    assert row.next_due < timezone.now()


def test_never_visited_elder_is_due_from_entering_the_ledger(liaison):
    elder = _normal_elder()
    Elder.objects.filter(pk=elder.pk).update(created_at=timezone.now() - 40 * DAY)
    refresh_elders([elder.pk])
    assert elder.pk in {e.pk for e in visit_ops.visits_due(liaison, when="overdue")}


def test_an_open_alert_makes_a_home_visit_due_within_24_hours(liaison):
    elder = _normal_elder()
    _visited(elder, 1)
    alert, _ = alert_ops.alert_raise(
        actor=liaison, elder=elder, village=elder.village, kind="hardship", description="x", source=AlertSource.LIAISON
    )
    row = _row(liaison, elder)
    alert_due = visit_ops.due_parts(row)["alert"]
    assert abs(alert_due - (alert.created_at + DAY)) < datetime.timedelta(seconds=1)
    assert abs(row.next_due - alert_due) < datetime.timedelta(seconds=1)
    # a home visit after the alert settles it
    visit_ops.visit_record(actor=liaison, elder=elder, method="home")
    row = _row(liaison, elder)
    assert row.open_alert_at is None and visit_ops.due_parts(row)["alert"] is None


def test_a_county_plan_overrides_the_default(liaison):
    elder = make_key_elder()
    _visited(elder, 4, home=True)
    assert elder.pk not in {e.pk for e in visit_ops.visits_due(liaison, when="overdue")}
    VisitPlan.objects.create(
        county=Region.objects.get(code="640422000000"), priority="key", contact_days=3, home_visit_days=30
    )
    assert elder.pk in {e.pk for e in visit_ops.visits_due(liaison, when="overdue")}
    assert visit_ops.plan_for(village_code=VILLAGE, priority="key")["contact_days"] == 3
    assert visit_ops.plan_for(village_code="640104001001", priority="key")["contact_days"] == 7


def test_moved_elders_are_not_listed(liaison):
    elder = make_key_elder(status="moved")
    assert not visit_ops.visits_due(liaison, when="all").filter(pk=elder.pk).exists()


# --- the page ---------------------------------------------------------------------------------------


def _listed(client, query=""):
    response = client.get(reverse("services:visits-due") + query)
    assert response.status_code == 200
    return response, {row.pk for row in response.context["table"].data}


def test_due_list_per_liaison_and_per_township(client, liaison, township_officer):
    mine = make_key_elder()
    same_township = make_key_elder(village=SAME_TOWNSHIP_VILLAGE)
    other_township = make_key_elder(village=OTHER_TOWNSHIP_VILLAGE)
    for elder in (mine, same_township, other_township):
        _visited(elder, 10)
    client.force_login(liaison)
    response, listed = _listed(client)
    assert listed == {mine.pk}
    assert response.context["overdue_total"] == 1
    assert "天" in response.content.decode() or "days overdue" in response.content.decode()
    client.force_login(township_officer)
    _response, listed = _listed(client)
    assert listed == {mine.pk, same_township.pk}
    _response, listed = _listed(client, f"?area={SAME_TOWNSHIP_VILLAGE}")
    assert listed == {same_township.pk}
    # an area outside the scope is not a valid choice: nothing leaks
    response = client.get(reverse("services:visits-due") + f"?area={OTHER_TOWNSHIP_VILLAGE}")
    assert other_township.pk not in {row.pk for row in response.context["table"].data}


def test_due_list_filters_overdue_and_priority(client, liaison):
    overdue = make_key_elder()
    _visited(overdue, 9, home=True)
    fine = _normal_elder()
    _visited(fine, 2, home=True)
    client.force_login(liaison)
    assert _listed(client, "?when=overdue")[1] == {overdue.pk}
    assert _listed(client, "?when=all")[1] == {overdue.pk, fine.pk}
    assert _listed(client, "?when=all&priority=normal")[1] == {fine.pk}
    assert _listed(client, "?when=bogus")[0].context["filter"].errors


def test_due_list_query_count_is_constant(client, township_officer, django_assert_max_num_queries):
    for i in range(3):
        _visited(make_key_elder(village=VILLAGE if i % 2 else SAME_TOWNSHIP_VILLAGE), 10)
    client.force_login(township_officer)
    url = reverse("services:visits-due")
    client.get(url)
    with django_assert_max_num_queries(6):
        client.get(url)
    for _i in range(40):
        elder = make_key_elder()
        _visited(elder, 12)
        visit_ops.visit_record(
            actor=township_officer,
            elder=elder,
            visited_at=timezone.now() - 12 * DAY,
            follow_ups=[visit_ops.FollowUpData(action="复查", due_date=timezone.localdate())],
        )
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.context["table"].paginator.count == 43
    assert all(row.open_follow_ups in (0, 1) for row in response.context["table"].data)


def test_due_list_second_page_and_sorting(client, liaison):
    for i in range(55):
        _visited(make_key_elder(name=f"甲{i:02d}"), 8 + i % 5)
    client.force_login(liaison)
    response, _all = _listed(client, "?page=2")
    assert len(response.context["table"].page.object_list.data) == 5 and response.context["table"].paginator.count == 55
    response, _listed_names = _listed(client, "?sort=name")
    assert [r.name for r in response.context["table"].page.object_list.data][:2] == ["甲00", "甲01"]
    # beyond the end: the last page, not an error
    response = client.get(reverse("services:visits-due") + "?page=99")
    assert response.status_code == 200


def test_due_list_export_is_plain_and_audited(client, liaison):
    elder = make_key_elder(name="马福贵")
    _visited(elder, 10)
    client.force_login(liaison)
    response = client.get(reverse("services:visits-due") + "?_export=csv")
    text = response.content.decode()
    assert response.status_code == 200 and "马福贵" in text and VILLAGE in text
    assert timezone.localdate().isoformat()[:4] in text
    assert AuditEvent.objects.filter(action="export", object_type="services.elder").exists()


def test_supervisor_can_read_the_due_list(client, supervisor):
    _visited(make_key_elder(), 10)
    client.force_login(supervisor)
    assert len(_listed(client)[1]) == 1


# --- digest and dashboard ---------------------------------------------------------------------------


def test_weekly_digest_goes_once_per_week(liaison, outbox, django_capture_on_commit_callbacks):
    elder = make_key_elder(name="马福贵")
    _visited(elder, 10)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_visit_digest", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert len(outbox) == 1
    phone, message = outbox[0]
    assert phone == liaison.phone and "马福贵" in message and "1" in message
    with django_capture_on_commit_callbacks(execute=True):
        assert visit_ops.digest_send_all() == (0, 1)
    assert len(outbox) == 1
    assert VisitDigest.objects.get().due_count == 1
    # next week it goes again
    with django_capture_on_commit_callbacks(execute=True):
        assert visit_ops.digest_send_all(now=timezone.now() + 7 * DAY)[0] == 1
    assert len(outbox) == 2


def test_care_counts_within_scope(liaison, township_officer, django_assert_max_num_queries):
    _visited(make_key_elder(), 10)
    _visited(make_key_elder(village=SAME_TOWNSHIP_VILLAGE), 10)
    alert, _ = alert_ops.alert_raise(
        village=Region.objects.get(code=VILLAGE), kind="other", description="x", source=AlertSource.PUBLIC
    )
    alert_ops.alert_raise(
        village=Region.objects.get(code=OTHER_TOWNSHIP_VILLAGE), kind="other", description="y", source="public"
    )
    type(alert).objects.filter(pk=alert.pk).update(due_at=timezone.now() - DAY)
    with django_assert_max_num_queries(3):  # roles, alerts, elders (the stored due date: no visit plans read)
        counts = care_counts(liaison)
    assert counts == {"open_alerts": 1, "overdue_steps": 1, "escalated_alerts": 0, "elders_overdue_visit": 1}
    assert care_counts(township_officer)["elders_overdue_visit"] == 2
    assert care_counts(staff("village_liaison", OTHER_TOWNSHIP_VILLAGE))["open_alerts"] == 1


def test_county_officer_area_choices_stay_short(mfa_client, county_officer):
    _visited(make_key_elder(village=SAME_TOWNSHIP_VILLAGE), 10)
    client = mfa_client(county_officer)
    field = client.get(reverse("services:visits-due")).context["filter"].form.fields["area"]
    codes = {r.code for r in field.queryset}
    assert "640422100000" in codes and VILLAGE not in codes  # townships only
    response = client.get(reverse("services:visits-due") + f"?area={SAME_TOWNSHIP_VILLAGE}&when=all")
    assert VILLAGE in {r.code for r in response.context["filter"].form.fields["area"].queryset}
    assert len(response.context["table"].data) == 1


def test_generated_load_and_demo_are_consistent(liaison):
    elders = [make_key_elder() for _ in range(30)]
    counts = generate(elder_ids=[e.pk for e in elders], seed=3)
    assert counts["visits"] == Visit.objects.count() > 0
    for elder in Elder.objects.filter(pk__in=[e.pk for e in elders]):
        contacts = [v.visited_at for v in elder.visits.all() if v.contact_made]
        assert elder.last_visit_at == (max(contacts) if contacts else None)
    demo_visits.seed()
    visits, alerts = Visit.objects.count(), Alert.objects.count()
    demo_visits.seed()
    assert (Visit.objects.count(), Alert.objects.count()) == (visits, alerts)
    assert Alert.objects.filter(reference="DEMO-0001", status="escalated").exists()
