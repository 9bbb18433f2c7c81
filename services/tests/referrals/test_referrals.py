"""Referrals: from an alert or a visit to a receiving department with a deadline; the department (and only it)
acknowledges and records the outcome; overdue ones escalate once; scope of the list, detail and export."""

import datetime

import pytest
import time_machine

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from portal.models import AuditEvent
from services.care.alerts import alert_raise
from services.referrals import actions
from services.referrals.models import Referral, ReferralKind, ReferralStatus
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, make_elder, staff
from services.tests.factories_proof import local, make_visit
from tests.factories import UserFactory

NOW = local(datetime.date(2026, 11, 10), 9)
pytestmark = pytest.mark.django_db


@pytest.fixture
def department(db):
    return staff("department", "640422100000", real_name="苏文静", phone="13900000077")


@pytest.fixture
def case(liaison):
    elder = make_elder(name="马奶奶")
    visit = make_visit(elder, visitor=liaison, at=local(datetime.date(2026, 11, 9)), notes="腿伤未治")
    return elder, visit


def _refer(liaison, visit, kind=ReferralKind.HEALTH, **kw):
    return actions.refer(actor=liaison, kind=kind, reason="腿伤，需要家庭医生上门", visit=visit, **kw)


def test_a_referral_from_a_visit_goes_to_the_township_department_with_its_deadline(
    liaison, department, case, outbox, django_capture_on_commit_callbacks
):
    _, visit = case
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        referral = _refer(liaison, visit)
    assert referral.department_region_id == "640422100000"
    assert referral.deadline == NOW + datetime.timedelta(days=3)
    assert [phone for phone, _ in outbox] == [department.phone]


def test_a_referral_from_an_alert(liaison, department, case):
    elder, _ = case
    alert, _ = alert_raise(
        actor=liaison, elder=elder, village=elder.village, kind="harm", description="被邻居打伤", source="liaison"
    )
    with time_machine.travel(NOW, tick=False):
        referral = actions.refer(actor=liaison, kind=ReferralKind.POLICE, reason="报警", alert=alert, level="county")
    assert referral.alert == alert and referral.department_region_id == "640422000000"
    assert referral.deadline == NOW + datetime.timedelta(days=1)


@pytest.mark.parametrize(
    "kw",
    [
        {"kind": "army", "reason": "x"},
        {"kind": ReferralKind.LEGAL, "reason": "   "},
        {"kind": ReferralKind.LEGAL, "reason": "x", "level": "province"},
    ],
)
def test_bad_input_refers_nothing(liaison, case, kw):
    _, visit = case
    with pytest.raises(ValidationError):
        actions.refer(actor=liaison, visit=visit, **kw)
    assert not Referral.objects.exists()


def test_only_the_area_refers_and_only_the_department_answers(liaison, department, case, township_officer):
    _, visit = case
    other_liaison = staff("village_liaison", "640422100002")
    for actor in (other_liaison, department, UserFactory()):
        with pytest.raises(PermissionDenied):
            _refer(actor, visit)
    referral = _refer(liaison, visit)
    other_department = staff("department", "640422101000")
    for actor in (liaison, township_officer, other_department):
        with pytest.raises(PermissionDenied):
            actions.acknowledge(actor=actor, referral=referral)
        with pytest.raises(PermissionDenied):
            actions.record_outcome(actor=actor, referral=referral, outcome="已处理")
    actions.acknowledge(actor=department, referral=referral)
    with pytest.raises(ValidationError):
        actions.acknowledge(actor=department, referral=referral)
    with pytest.raises(ValidationError):
        actions.record_outcome(actor=department, referral=referral, outcome="  ")
    done = actions.record_outcome(actor=department, referral=referral, outcome="家庭医生已上门")
    assert done.status == ReferralStatus.DONE and done.acknowledged_by == department


def test_an_overdue_referral_escalates_once_and_a_done_one_never(
    liaison, department, case, township_officer, outbox, django_capture_on_commit_callbacks
):
    _, visit = case
    with time_machine.travel(NOW, tick=False):
        late = _refer(liaison, visit)
        answered = _refer(liaison, visit, kind=ReferralKind.RELIEF)
        actions.record_outcome(actor=department, referral=answered, outcome="已发放临时救助")
    outbox.clear()
    with time_machine.travel(NOW + datetime.timedelta(days=2), tick=False):
        assert actions.escalate_overdue() == 0
    with time_machine.travel(NOW + datetime.timedelta(days=3, minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert actions.escalate_overdue() == 1
        assert actions.escalate_overdue() == 0
    late.refresh_from_db()
    assert late.escalated_at is not None
    assert sorted(phone for phone, _ in outbox) == sorted([township_officer.phone, department.phone])


# --- screens ---------------------------------------------------------------------------------------


def test_the_department_acknowledges_and_closes_through_the_pages(client, liaison, department, case):
    _, visit = case
    client.force_login(liaison)
    url = reverse("services:referral-create") + f"?visit={visit.pk}"
    assert client.get(url).status_code == 200
    bad = client.post(url, {"visit": visit.pk, "kind": "army", "level": "township", "reason": "x"})
    assert bad.status_code == 400 and not Referral.objects.exists()
    response = client.post(url, {"visit": visit.pk, "kind": "health", "level": "township", "reason": "<b>腿伤</b>"})
    referral = Referral.objects.get()
    assert response.status_code == 302 and response["Location"] == referral.get_absolute_url()
    client.force_login(department)
    page = client.get(reverse("services:referral-list"))
    assert page.status_code == 200 and "马奶奶" in page.content.decode()
    detail = client.get(referral.get_absolute_url()).content.decode()
    assert "&lt;b&gt;腿伤" in detail
    client.post(reverse("services:referral-acknowledge", args=[referral.pk]))
    client.post(reverse("services:referral-outcome", args=[referral.pk]), {"outcome": "已上门"})
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DONE and referral.outcome == "已上门"


def test_scope_of_list_detail_export_and_create(client, liaison, department, case):
    _, visit = case
    referral = _refer(liaison, visit)
    list_url = reverse("services:referral-list")
    detail_url = referral.get_absolute_url()
    export_url = reverse("services:referral-export") + "?format=csv"
    create_url = reverse("services:referral-create") + f"?visit={visit.pk}"
    for url in (list_url, detail_url, export_url, create_url):
        assert client.get(url).status_code == 302
    outsiders = {
        "other village liaison": staff("village_liaison", "640422100002"),
        "other township officer": staff("township_officer", OTHER_TOWNSHIP_VILLAGE[:9] + "000"),
        "volunteer": UserFactory(),
        "department of another region": staff("department", "640422101000"),
    }
    for who, user in outsiders.items():
        client.force_login(user)
        for url in (detail_url, create_url):
            assert client.get(url).status_code in (403, 404), (who, url)
        for url in (list_url, export_url):
            response = client.get(url)
            assert response.status_code in (200, 403), (who, url)
            assert "马奶奶" not in response.content.decode("utf-8-sig"), (who, url)
    # a department sees only its referrals: no elder ledger, no visit, no alert list
    client.force_login(department)
    for name in ("services:elder-list", "services:alert-list", "services:spotcheck-list"):
        assert client.get(reverse(name)).status_code == 403, name
    assert client.get(create_url).status_code == 403
    client.force_login(liaison)
    export = client.get(export_url)
    assert export.status_code == 200 and "马奶奶" in export.content.decode("utf-8-sig")
    assert AuditEvent.objects.filter(action="export", object_type="services.referral", actor=liaison).count() == 1


@pytest.mark.parametrize("raw", ["abc", "99999", "-1", "1 OR 1=1"])
def test_create_with_a_bad_or_foreign_source_is_404(client, liaison, raw):
    client.force_login(liaison)
    assert client.get(reverse("services:referral-create") + f"?visit={raw}").status_code == 404
    assert client.get(reverse("services:referral-create")).status_code == 404


@pytest.mark.parametrize("n", [2, 12])
def test_list_queries_do_not_grow(client, liaison, case, django_assert_max_num_queries, n):
    _, visit = case
    for _ in range(n):
        _refer(liaison, visit)
    client.force_login(liaison)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("services:referral-list")).status_code == 200
