# ruff: noqa: F811 — fixtures imported from factories_records
"""Issue 16, item 2: what a volunteer may log herself, the empty states, and an organisation entering a past
activity with a reason within the 10-working-day window. The clock is fixed (time_machine)."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from django.urls import reverse

from services.models import ServiceRecord
from services.pairing.models import Pairing, PairingStatus
from services.records import rules as record_rules
from services.records.models import RecordStatus
from services.tests.factories_records import (  # noqa: F401 (fixtures)
    elder,
    item,
    member,
    org_admin,
    organisation,
)
from tests.factories import UserFactory
from volunteers.models import Activity, ActivitySignup, ActivityStatus, Membership, MembershipStatus
from volunteers.tests.conftest import make_activity, make_profile

pytestmark = pytest.mark.django_db

# Thursday 3 December 2026, 15:00 in Ningxia
NOW = datetime.datetime(2026, 12, 3, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def local(day: int, hour: int, month: int = 12) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def own(**overrides) -> dict:
    values = {
        "kind": "volunteer",
        "day": "2026-12-02",
        "start_time": "09:00",
        "end_time": "11:00",
        "place": "李奶奶家",
        "content": "陪老人聊天，打扫院子",
    }
    values.update(overrides)
    return values


# --- a volunteer on her own -----------------------------------------------------------------------------------


def test_a_new_volunteer_is_told_what_to_do_instead_of_empty_pickers(clock, client):
    newcomer = UserFactory(real_name="新志愿者")
    make_profile(newcomer)
    client.force_login(newcomer)
    response = client.get(reverse("volunteers:record-create"))
    html = response.content.decode()
    assert response.context["form"].nothing_to_log
    assert "---------" not in html and '<form method="post" enctype' not in html
    assert reverse("volunteers:activity-list") in html and reverse("volunteers:organisation-list") in html
    # and a post anyway changes nothing
    client.post(reverse("volunteers:record-create"), own())
    assert not ServiceRecord.objects.exists()


def test_an_elder_paired_with_her_organisation_can_be_logged_and_waits_for_the_liaison(
    clock, client, organisation, member, elder, item, liaison
):
    Pairing.objects.create(elder=elder, giver_organisation=organisation, status=PairingStatus.ACTIVE)
    client.force_login(member)
    page = client.get(reverse("volunteers:record-create"))
    form = page.context["form"]
    assert elder in form.fields["elder"].queryset and not form.nothing_to_log
    assert "---------" not in page.content.decode()
    response = client.post(
        reverse("volunteers:record-create"),
        own(elder=elder.pk, organisation=organisation.pk, service_item=item.pk),
    )
    assert response.status_code == 302, response.context["form"].errors
    record = ServiceRecord.objects.get()
    assert record.status == RecordStatus.SUBMITTED and record.organisation == organisation
    # an elder paired with nobody she belongs to is no choice
    other = UserFactory()
    make_profile(other)
    client.force_login(other)
    assert client.get(reverse("volunteers:record-create")).context["form"].nothing_to_log


def test_activities_she_signed_up_for_appear_once_started(clock, client, organisation, member):
    started = make_activity(organisation=organisation, start=local(3, 9), end=local(3, 11), signup_deadline=local(2, 9))
    later = make_activity(organisation=organisation, start=local(4, 9), end=local(4, 11), signup_deadline=local(3, 9))
    for activity in (started, later):
        ActivitySignup.objects.create(activity=activity, user=member)
    client.force_login(member)
    choices = client.get(reverse("volunteers:record-create")).context["form"].fields["activity"].queryset
    assert list(choices) == [started]


def test_service_counts_from_the_day_she_asked_to_join(clock, client, organisation, elder, item):
    volunteer = UserFactory(real_name="新会员")
    make_profile(volunteer)
    Membership.objects.create(organisation=organisation, user=volunteer, status=MembershipStatus.ACTIVE)
    # asked on 30 November, accepted on 3 December
    Membership.objects.filter(user=volunteer).update(created_at=local(30, 8, month=11), decided_at=local(3, 10))
    Pairing.objects.create(elder=elder, giver_user=volunteer, status=PairingStatus.ACTIVE, start_date=NOW.date())
    client.force_login(volunteer)
    response = client.post(
        reverse("volunteers:record-create"),
        own(elder=elder.pk, organisation=organisation.pk, service_item=item.pk, day="2026-12-02"),
    )
    assert response.status_code == 302, response.context["form"].errors
    # before she asked, it is not the organisation's service
    response = client.post(
        reverse("volunteers:record-create"),
        own(elder=elder.pk, organisation=organisation.pk, service_item=item.pk, day="2026-11-27"),
    )
    assert response.status_code == 200
    assert any("不是" in e or "not a member" in e for e in response.context["form"].non_field_errors()), (
        response.context["form"].errors
    )
    assert ServiceRecord.objects.count() == 1


# --- an organisation enters a past activity ---------------------------------------------------------------------


def _past(org, giver, service_item, **overrides) -> dict:
    membership = Membership.objects.get(user=giver, organisation=org)
    values = {
        "kind": "volunteer",
        "organisation": org.pk,
        "givers": [membership.pk],
        "past_title": "重阳节敬老包饺子",
        "late_reason": "活动临时组织，未及时发布",
        "service_item": service_item.pk,
        "day": "2026-12-01",
        "start_time": "09:00",
        "end_time": "11:30",
        "place": "村老年活动中心",
        "content": "包饺子、陪老人聊天",
    }
    values.update(overrides)
    return values


def test_an_organisation_enters_a_past_activity_with_a_reason(clock, client, org_admin, organisation, member, item):
    client.force_login(org_admin)
    response = client.post(reverse("volunteers:record-create-group"), _past(organisation, member, item))
    assert response.status_code == 302, response.context["form"].errors
    activity = Activity.objects.get()
    assert activity.status == ActivityStatus.FINISHED and activity.organisation == organisation
    assert "活动临时组织" in activity.description
    record = ServiceRecord.objects.get()
    assert record.giver == member and record.activity == activity and record.minutes == 150


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"late_reason": ""}, "late_reason", record_rules.PAST_REASON_REQUIRED),
        ({"day": "2026-11-18"}, "day", None),  # 11 working days before 3 December
        ({"day": "2026-12-03", "start_time": "14:00", "end_time": "16:00"}, "end_time", None),  # not over yet
        ({"organisation": ""}, None, None),
    ],
)
def test_a_past_activity_outside_the_rules_changes_nothing(
    clock, client, org_admin, organisation, member, item, overrides, field, message
):
    client.force_login(org_admin)
    response = client.post(reverse("volunteers:record-create-group"), _past(organisation, member, item, **overrides))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors
    if field:
        assert field in form.errors or form.non_field_errors(), form.errors
    if message:
        assert str(message) in form.errors[field]
    assert not Activity.objects.exists() and not ServiceRecord.objects.exists()


def test_the_window_edge_is_ten_working_days(clock, client, org_admin, organisation, member, item):
    client.force_login(org_admin)
    # 19 November (Thursday) is exactly 10 working days before 3 December
    response = client.post(
        reverse("volunteers:record-create-group"), _past(organisation, member, item, day="2026-11-19")
    )
    assert response.status_code == 302, response.context["form"].errors


def test_a_member_cannot_enter_a_past_activity(clock, client, organisation, member, item):
    client.force_login(member)
    assert client.get(reverse("volunteers:record-create-group")).status_code == 403


def test_the_record_page_shows_no_internal_number(clock, client, organisation, member, elder, item):
    Pairing.objects.create(elder=elder, giver_organisation=organisation, status=PairingStatus.ACTIVE)
    client.force_login(member)
    client.post(
        reverse("volunteers:record-create"), own(elder=elder.pk, organisation=organisation.pk, service_item=item.pk)
    )
    record = ServiceRecord.objects.get()
    html = client.get(reverse("volunteers:record-detail", args=[record.pk])).content.decode()
    assert f"#{record.pk}<" not in html and f"#{record.pk} " not in html
    assert "2026年12月2日" in html


def test_a_volunteer_in_no_organisation_cannot_log_purchased_service(clock, client, elder, item):
    volunteer = UserFactory(real_name="个人志愿者")
    make_profile(volunteer)
    Pairing.objects.create(elder=elder, giver_user=volunteer, status=PairingStatus.ACTIVE, start_date=NOW.date())
    client.force_login(volunteer)
    html = client.get(reverse("volunteers:record-create")).content.decode()
    assert 'value="purchased"' not in html
    response = client.post(
        reverse("volunteers:record-create"), own(elder=elder.pk, service_item=item.pk, kind="purchased")
    )
    assert response.status_code == 200 and "kind" in response.context["form"].errors
    assert not ServiceRecord.objects.exists()
    response = client.post(reverse("volunteers:record-create"), own(elder=elder.pk, service_item=item.pk))
    assert response.status_code == 302 and ServiceRecord.objects.get().kind == "volunteer"
