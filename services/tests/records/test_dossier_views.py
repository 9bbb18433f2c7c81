# ruff: noqa: F811 — fixtures imported from test_dossier_helpers
"""The volunteer record page, its Excel export, the unit's view of its members, entering training/awards/evaluations."""

import datetime
import io

import openpyxl
import pytest

from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from services.records import actions as record_actions
from services.records import dossier
from services.tests.records.test_dossier_helpers import (  # noqa: F401 — fixtures
    RESIDENT_ID,
    add_entries,
    add_member,
    confirmed_record,
    identified_member,
    item,
    member,
    org_admin,
    organisation,
)
from tests.factories import UserFactory
from volunteers.models_record import Award, Evaluation, Training
from volunteers.tests.conftest import make_organisation

pytestmark = pytest.mark.django_db
MASKED = RESIDENT_ID[:4] + "*" * 13 + RESIDENT_ID[-1]


def test_own_record_shows_everything_with_the_id_unmasked(
    client, liaison, identified_member, organisation, org_admin, item
):
    confirmed_record(liaison, identified_member, item, organisation=organisation, confirmer=org_admin)
    add_entries(organisation, identified_member, org_admin)
    client.force_login(identified_member)
    response = client.get(reverse("volunteers:dossier"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert RESIDENT_ID in page
    for text in ("会员甲", "关爱培训", "优秀志愿者", "按时上门", "打扫院子", "大营村老年协会", "2.0"):
        assert text in page
    assert identified_member.phone in page


def test_rejected_and_purchased_records_are_not_in_the_volunteer_record(client, liaison, member, item):
    record = confirmed_record(liaison, member, item)
    client.force_login(member)
    data = client.get(reverse("volunteers:dossier")).context
    assert [row["record"].pk for row in data["services"]] == [record.pk]
    assert data["total_hours"] == "2.0"


def test_reversal_is_listed_and_subtracted(client, liaison, member, item):
    record = confirmed_record(liaison, member, item)
    record_actions.record_reverse(actor=liaison, record=record, reason="记错了")
    client.force_login(member)
    data = client.get(reverse("volunteers:dossier")).context
    assert len(data["services"]) == 2
    assert data["total_hours"] == "0.0"


def test_export_xlsx_of_own_record(client, liaison, identified_member, organisation, org_admin, item):
    confirmed_record(liaison, identified_member, item, organisation=organisation, confirmer=org_admin)
    add_entries(organisation, identified_member, org_admin)
    client.force_login(identified_member)
    response = client.get(reverse("volunteers:dossier") + "?export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "no-store" in response["Cache-Control"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert len(book.sheetnames) == 5
    values = [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]
    flat = {str(v) for row in values for v in row if v is not None}
    assert RESIDENT_ID in flat
    assert {"关爱培训", "优秀志愿者", "按时上门", "李奶奶家", "2.0", "大营村老年协会"} <= flat
    assert AuditEvent.objects.filter(action="export", actor=identified_member).exists()


def test_unit_sees_its_members_record_masked_and_only_its_own_entries(
    client, liaison, identified_member, organisation, org_admin, item
):
    ours = confirmed_record(liaison, identified_member, item, organisation=organisation, confirmer=org_admin)
    theirs = confirmed_record(liaison, identified_member, item, days=2)  # recorded by the village, not the org
    add_entries(organisation, identified_member, org_admin)
    other_admin = UserFactory()
    other_org = make_organisation(admin=other_admin, name="别的协会")
    add_member(other_org, identified_member)
    add_entries(other_org, identified_member, other_admin, suffix="（别处）")
    client.force_login(org_admin)
    response = client.get(reverse("volunteers:dossier-member", args=[organisation.pk, identified_member.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert RESIDENT_ID not in page and MASKED in page
    assert [row["record"].pk for row in response.context["services"]] == [ours.pk]
    assert theirs.pk != ours.pk
    assert "别处" not in page
    assert AuditEvent.objects.filter(action="view", actor=org_admin, object_id=str(identified_member.pk)).exists()


@pytest.mark.parametrize("who", ["member", "stranger", "other_admin"])
def test_member_record_is_404_for_others(client, member, organisation, who):
    other_admin = UserFactory()
    make_organisation(admin=other_admin, name="别的协会")
    user = {"member": member, "stranger": UserFactory(), "other_admin": other_admin}[who]
    client.force_login(user)
    assert client.get(reverse("volunteers:dossier-member", args=[organisation.pk, member.pk])).status_code == 404


def test_member_record_404_for_someone_not_a_member(client, organisation, org_admin):
    client.force_login(org_admin)
    outsider = UserFactory()
    assert client.get(reverse("volunteers:dossier-member", args=[organisation.pk, outsider.pk])).status_code == 404
    url = reverse("volunteers:dossier-entry-create", args=[organisation.pk, outsider.pk, "award"])
    assert client.post(url, {"award-name": "x", "award-date": "2026-01-01", "award-granted_by": "y"}).status_code == 404
    assert not Award.objects.exists()


def _entry_url(organisation, member, kind):
    return reverse("volunteers:dossier-entry-create", args=[organisation.pk, member.pk, kind])


def test_admin_enters_training_award_evaluation(client, organisation, org_admin, member):
    client.force_login(org_admin)
    today = timezone.localdate().isoformat()
    posts = {
        "training": {
            "name": "急救培训",
            "content": "心肺复苏",
            "hours": "3.5",
            "organiser": "县红十字会",
            "date": today,
        },
        "award": {"name": "优秀志愿者", "date": today, "granted_by": "镇政府"},
        "evaluation": {"rating": "excellent", "date": today, "comment": "很负责"},
    }
    for kind, values in posts.items():
        response = client.post(_entry_url(organisation, member, kind), {f"{kind}-{k}": v for k, v in values.items()})
        assert response.status_code == 302, kind
    training = Training.objects.get()
    assert (training.volunteer, training.organisation, training.recorded_by) == (member, organisation, org_admin)
    assert str(training.hours) == "3.5"
    assert Award.objects.get().granted_by == "镇政府"
    assert Evaluation.objects.get().rating == "excellent"
    assert AuditEvent.objects.filter(action="create", object_type="volunteers.training").exists()


@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        ("training", {"name": "培训", "hours": "0", "organiser": "县", "date": "TODAY"}, "hours"),
        ("training", {"name": "培训", "hours": "500", "organiser": "县", "date": "TODAY"}, "hours"),
        ("training", {"name": "培训", "hours": "abc", "organiser": "县", "date": "TODAY"}, "hours"),
        ("training", {"name": "培训", "hours": "2", "organiser": "县", "date": "TOMORROW"}, "date"),
        ("award", {"name": "奖", "date": "TOMORROW", "granted_by": "镇"}, "date"),
        ("award", {"name": "奖", "date": "1900-01-01", "granted_by": "镇"}, "date"),
        ("award", {"name": "奖", "date": "not-a-date", "granted_by": "镇"}, "date"),
        ("evaluation", {"rating": "superb", "date": "TODAY"}, "rating"),
        ("evaluation", {"rating": "good", "date": "TOMORROW"}, "date"),
    ],
)
def test_bad_entries_are_refused_and_change_nothing(client, organisation, org_admin, member, kind, values, field):
    today = timezone.localdate()
    dates = {"TODAY": today.isoformat(), "TOMORROW": (today + datetime.timedelta(days=1)).isoformat()}
    values = {k: dates.get(v, v) for k, v in values.items()}
    client.force_login(org_admin)
    response = client.post(_entry_url(organisation, member, kind), {f"{kind}-{k}": v for k, v in values.items()})
    assert response.status_code == 400
    assert response.context["entry_forms"][kind].errors[field]
    assert not (Training.objects.exists() or Award.objects.exists() or Evaluation.objects.exists())


def test_member_cannot_enter_own_award_and_unknown_kind_is_404(client, organisation, member):
    client.force_login(member)
    data = {"award-name": "自封", "award-date": timezone.localdate().isoformat(), "award-granted_by": "我"}
    assert client.post(_entry_url(organisation, member, "award"), data).status_code == 404
    assert client.post(_entry_url(organisation, member, "medal"), data).status_code == 404
    assert not Award.objects.exists()


def test_entries_are_escaped(client, organisation, org_admin, member):
    Award.objects.create(
        volunteer=member,
        organisation=organisation,
        recorded_by=org_admin,
        name="<script>alert(1)</script>",
        date=timezone.localdate(),
        granted_by="<b>镇</b>",
    )
    client.force_login(member)
    page = client.get(reverse("volunteers:dossier")).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<b>镇</b>" not in page


def test_member_list_links_to_records_with_constant_queries(
    client, liaison, organisation, org_admin, item, django_assert_max_num_queries
):
    def grow(n):
        for _i in range(n):
            user = add_member(organisation)
            confirmed_record(liaison, user, item, organisation=organisation, confirmer=org_admin)
            add_entries(organisation, user, org_admin)

    grow(2)
    client.force_login(org_admin)
    url = reverse("volunteers:dossier-members", args=[organisation.pk])
    with django_assert_max_num_queries(20) as small:
        response = client.get(url)
    assert response.status_code == 200
    grow(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    rows = list(response.context["table"].page.object_list)
    assert len(rows) == 9  # the admin and eight members
    assert any(row.record.minutes == 120 and row.record.entries == 3 for row in rows)
    assert (
        reverse("volunteers:dossier-member", args=[organisation.pk, rows[-1].record.user_id])
        in response.content.decode()
    )


def test_member_list_404_for_non_admin(client, organisation, member):
    client.force_login(member)
    assert client.get(reverse("volunteers:dossier-members", args=[organisation.pk])).status_code == 404


def test_own_record_constant_queries(
    client, liaison, member, organisation, org_admin, item, django_assert_max_num_queries
):
    client.force_login(member)
    confirmed_record(liaison, member, item, organisation=organisation, confirmer=org_admin)
    add_entries(organisation, member, org_admin)
    with django_assert_max_num_queries(30) as small:
        client.get(reverse("volunteers:dossier"))
    for n in range(2, 8):
        confirmed_record(liaison, member, item, organisation=organisation, confirmer=org_admin, days=n)
        add_entries(organisation, member, org_admin, suffix=str(n))
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse("volunteers:dossier"))
    assert len(response.context["services"]) == 7


def test_me_page_links_to_the_record(client, member, organisation, org_admin):
    client.force_login(member)
    assert reverse("volunteers:dossier") in client.get(reverse("volunteers:me")).content.decode()
    client.force_login(org_admin)
    assert (
        reverse("volunteers:dossier-members", args=[organisation.pk])
        in client.get(reverse("volunteers:me")).content.decode()
    )


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get(reverse("volunteers:dossier")).status_code == 302


def test_service_list_is_paginated_and_totals_cover_everything(client, liaison, member, item, monkeypatch):
    monkeypatch.setattr(dossier, "SERVICE_PAGE", 2)
    for day in (1, 2, 3):
        confirmed_record(liaison, member, item, days=day)
    client.force_login(member)
    first = client.get(reverse("volunteers:dossier")).context
    assert len(first["services"]) == 2 and first["total_hours"] == "6.0"
    assert first["page_obj"].has_next()
    second = client.get(reverse("volunteers:dossier") + "?page=2").context
    assert len(second["services"]) == 1
    assert client.get(reverse("volunteers:dossier") + "?page=abc").status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(client.get(reverse("volunteers:dossier") + "?export=xlsx").content))
    assert book.worksheets[1].max_row == 4  # header and all three records


def test_someone_without_a_volunteer_profile_sees_an_empty_record(client):
    user = UserFactory(real_name="新用户")
    client.force_login(user)
    response = client.get(reverse("volunteers:dossier"))
    assert response.status_code == 200
    assert response.context["services"] == [] and response.context["total_hours"] == "0.0"
    assert client.get(reverse("volunteers:dossier") + "?export=xlsx").status_code == 200
