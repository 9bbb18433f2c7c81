import datetime
import threading

import pytest

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import portal.demo
import volunteers.demo
from portal.models import Region
from tests.factories import UserFactory
from volunteers.activities import (
    ALREADY_SIGNED_UP,
    CAPACITY_POSITIVE,
    DEADLINE_PASSED,
    ENDS_BEFORE_START,
    FULL,
    IN_THE_PAST,
    MEMBERS_ONLY,
    VOLUNTEERS_ONLY,
    activities_upcoming,
    activity_signup,
    reminders_send,
)
from volunteers.demo import _index_page
from volunteers.models import (
    Activity,
    ActivitySignup,
    ActivityStatus,
    Audience,
    Membership,
    Organisation,
    OrganisationStatus,
    VolunteerProfile,
)
from volunteers.organisations import kinds_ensure
from volunteers.tests.conftest import VILLAGE, make_activity, make_organisation, make_profile, other_county_village

pytestmark = pytest.mark.django_db


def _local(dt: datetime.datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _activity_data(**overrides):
    start = timezone.now() + datetime.timedelta(days=4)
    data = {
        "kind": "health",
        "title": "健康义诊",
        "description": "量血压",
        "village": VILLAGE,
        "address": "村委会",
        "start": _local(start),
        "end": _local(start + datetime.timedelta(hours=2)),
        "signup_deadline": _local(start - datetime.timedelta(days=1)),
        "capacity": "20",
        "audience": "volunteers",
        "service_item": "",
    }
    data.update(overrides)
    return data


def test_admin_posts_publishes_and_the_public_sees_it(client, organisation, org_admin):
    client.force_login(org_admin)
    response = client.post(reverse("volunteers:activity-create", args=[organisation.pk]), _activity_data())
    activity = Activity.objects.get()
    assert response["Location"] == activity.get_absolute_url()
    assert activity.status == ActivityStatus.DRAFT and activity.created_by == org_admin
    client.logout()
    assert client.get(activity.get_absolute_url()).status_code == 404  # a draft is not public
    client.force_login(org_admin)
    client.post(reverse("volunteers:activity-status", args=[activity.pk]), {"status": "published"})
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED
    client.logout()
    assert "健康义诊" in client.get(reverse("volunteers:activity-list")).content.decode()
    assert [a.pk for a in activities_upcoming()] == [activity.pk]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end": "start"}, "end", ENDS_BEFORE_START),
        ({"start": "past"}, "start", IN_THE_PAST),
        ({"capacity": "0"}, "capacity", CAPACITY_POSITIVE),
        ({"capacity": "-3"}, "capacity", CAPACITY_POSITIVE),
        ({"capacity": "many"}, "capacity", None),
        ({"village": "640422100000"}, "village", None),
        ({"signup_deadline": "after"}, "signup_deadline", None),
    ],
)
def test_bad_activity_input_changes_nothing(client, organisation, org_admin, overrides, field, message):
    data = _activity_data()
    start = timezone.now() + datetime.timedelta(days=4)
    special = {
        "start": _local(start),
        "past": _local(timezone.now() - datetime.timedelta(days=1)),
        "after": _local(start + datetime.timedelta(hours=1)),
    }
    for key, value in overrides.items():
        data[key] = special.get(value, value)
    if overrides.get("start") == "past":
        data["end"] = _local(timezone.now() - datetime.timedelta(hours=20))
        data["signup_deadline"] = _local(timezone.now() - datetime.timedelta(days=2))
    client.force_login(org_admin)
    response = client.post(reverse("volunteers:activity-create", args=[organisation.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    if message:
        assert str(message) in response.content.decode()
    assert not Activity.objects.exists()


@pytest.mark.parametrize("case", ["other_county", "year_9999", "next_year_and_more", "forty_days_long"])
def test_activity_stays_in_its_organisations_county_and_within_a_year(client, organisation, org_admin, case):
    """An activity in another county's village, starting in the year 9999, more than a year ahead or lasting
    weeks is refused with a message naming the limit; nothing is written."""
    start = timezone.now() + datetime.timedelta(days=4)
    data = _activity_data()
    if case == "other_county":
        data["village"] = other_county_village().code
        field, words = "village", "西吉县"
    elif case == "year_9999":
        data.update(start="9999-01-01T09:00", end="9999-01-01T11:00", signup_deadline="9998-12-31T09:00")
        field, words = "start", "366"
    elif case == "next_year_and_more":
        later = start + datetime.timedelta(days=400)
        data.update(
            start=_local(later),
            end=_local(later + datetime.timedelta(hours=2)),
            signup_deadline=_local(later - datetime.timedelta(days=1)),
        )
        field, words = "start", "366"
    else:
        data["end"] = _local(start + datetime.timedelta(days=40))
        field, words = "end", "31"
    client.force_login(org_admin)
    response = client.post(reverse("volunteers:activity-create", args=[organisation.pk]), data)
    assert response.status_code == 200
    assert words in " ".join(response.context["form"].errors[field])
    assert not Activity.objects.exists()


def test_member_who_is_not_admin_cannot_post_edit_or_mark(client, organisation, member, activity):
    client.force_login(member)
    assert (
        client.post(reverse("volunteers:activity-create", args=[organisation.pk]), _activity_data()).status_code == 403
    )
    assert (
        client.post(reverse("volunteers:activity-edit", args=[activity.pk]), _activity_data(title="改")).status_code
        == 403
    )
    assert client.get(reverse("volunteers:activity-attendance", args=[activity.pk])).status_code == 403
    assert (
        client.post(reverse("volunteers:activity-status", args=[activity.pk]), {"status": "cancelled"}).status_code
        == 403
    )
    activity.refresh_from_db()
    assert activity.title == "健康义诊" and activity.status == ActivityStatus.PUBLISHED
    assert Activity.objects.count() == 1


def test_another_organisations_admin_gets_404(client, activity, other_admin):
    client.force_login(other_admin)
    for name in ("activity-edit", "activity-attendance"):
        assert client.get(reverse(f"volunteers:{name}", args=[activity.pk])).status_code == 404
    assert (
        client.post(reverse("volunteers:activity-status", args=[activity.pk]), {"status": "cancelled"}).status_code
        == 404
    )
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.PUBLISHED


def test_sign_up_once_and_withdraw(client, giver, activity):
    client.force_login(giver)
    url = reverse("volunteers:activity-signup", args=[activity.pk])
    client.post(url)
    response = client.post(url, follow=True)
    assert str(ALREADY_SIGNED_UP) in response.content.decode()
    activity.refresh_from_db()
    assert activity.signup_count == 1 and ActivitySignup.objects.count() == 1
    client.post(reverse("volunteers:activity-withdraw", args=[activity.pk]))
    activity.refresh_from_db()
    assert activity.signup_count == 0
    client.post(url)  # may sign up again after withdrawing
    activity.refresh_from_db()
    assert activity.signup_count == 1 and ActivitySignup.objects.count() == 1


def test_anonymous_sign_up_goes_to_sign_in(client, activity):
    response = client.post(reverse("volunteers:activity-signup", args=[activity.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not ActivitySignup.objects.exists()


def test_sign_up_after_deadline_is_refused(client, giver, organisation):
    start = timezone.now() + datetime.timedelta(hours=6)
    activity = make_activity(
        organisation=organisation,
        start=start,
        end=start + datetime.timedelta(hours=1),
        signup_deadline=timezone.now() - datetime.timedelta(minutes=1),
    )
    client.force_login(giver)
    response = client.post(reverse("volunteers:activity-signup", args=[activity.pk]), follow=True)
    assert str(DEADLINE_PASSED) in response.content.decode()
    assert not ActivitySignup.objects.exists()
    activity.refresh_from_db()
    assert activity.signup_count == 0


def test_capacity_is_never_exceeded(organisation):
    activity = make_activity(organisation=organisation, capacity=2, audience=Audience.ELDERS)
    users = [UserFactory() for _ in range(3)]
    activity_signup(user=users[0], activity=activity)
    activity_signup(user=users[1], activity=activity)
    with pytest.raises(ValidationError) as exc:
        activity_signup(user=users[2], activity=activity)
    assert exc.value.messages == [str(FULL)]
    activity.refresh_from_db()
    assert activity.signup_count == 2 and ActivitySignup.objects.count() == 2


def test_audience_rules(organisation, member):
    members_only = make_activity(organisation=organisation, audience=Audience.MEMBERS)
    volunteers_only = make_activity(organisation=organisation, audience=Audience.VOLUNTEERS)
    stranger = UserFactory()
    with pytest.raises(ValidationError) as exc:
        activity_signup(user=stranger, activity=members_only)
    assert exc.value.messages == [str(MEMBERS_ONLY)]
    with pytest.raises(ValidationError) as exc:
        activity_signup(user=stranger, activity=volunteers_only)
    assert exc.value.messages == [str(VOLUNTEERS_ONLY)]
    activity_signup(user=member, activity=members_only)
    make_profile(stranger)
    activity_signup(user=stranger, activity=volunteers_only)
    assert ActivitySignup.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_for_the_last_place():
    """Two people press "sign up" for the last place at the same moment: exactly one gets it."""

    if not Region.objects.filter(code=VILLAGE).exists():  # an earlier transactional test emptied the tables
        call_command("load_regions", verbosity=0)
    kinds_ensure()
    organisation = make_organisation(admin=UserFactory())
    activity = make_activity(organisation=organisation, capacity=1, audience=Audience.ELDERS)
    users = [UserFactory(), UserFactory()]
    clients = []
    for user in users:
        client = Client()
        client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(2, timeout=20)
    outcomes = []

    def press(client):
        try:
            barrier.wait()
            outcomes.append(client.post(reverse("volunteers:activity-signup", args=[activity.pk])).status_code)
        except OperationalError as exc:  # SQLite's in-memory test database refuses a second writer outright
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(outcomes) == 2
    activity.refresh_from_db()
    taken = ActivitySignup.objects.filter(activity=activity, status="signed_up").count()
    assert activity.signup_count == taken <= 1  # never over capacity, and the counter agrees with the rows
    if connection.vendor == "postgresql":
        # the second request waited on the row lock, then was told the activity is full
        assert outcomes == [302, 302] and taken == 1


def test_cancelling_notifies_those_signed_up(
    client, organisation, org_admin, outbox, django_capture_on_commit_callbacks
):
    activity = make_activity(organisation=organisation, audience=Audience.ELDERS)
    people = [UserFactory(phone="13933330001"), UserFactory(phone="13933330002")]
    for person in people:
        activity_signup(user=person, activity=activity)
    client.force_login(org_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("volunteers:activity-status", args=[activity.pk]), {"status": "cancelled"})
    assert response.status_code == 302
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.CANCELLED
    assert sorted(p for p, _m in outbox) == ["13933330001", "13933330002"]
    assert all("已取消" in m and activity.title in m for _p, m in outbox)


def test_attendance_after_the_activity(client, organisation, org_admin, member):
    start = timezone.now() + datetime.timedelta(days=1)
    activity = make_activity(
        organisation=organisation,
        start=start,
        end=start + datetime.timedelta(hours=2),
        signup_deadline=start - datetime.timedelta(hours=1),
        audience=Audience.MEMBERS,
    )
    signup = activity_signup(user=member, activity=activity)
    client.force_login(org_admin)
    # not yet started: refused
    response = client.post(
        reverse("volunteers:activity-attendance", args=[activity.pk]),
        {f"attended_{signup.pk}": "on", f"minutes_{signup.pk}": "120"},
    )
    assert response.status_code == 200
    signup.refresh_from_db()
    assert signup.attended is None
    Activity.objects.filter(pk=activity.pk).update(
        start=timezone.now() - datetime.timedelta(hours=3),
        end=timezone.now() - datetime.timedelta(hours=1),
        signup_deadline=timezone.now() - datetime.timedelta(hours=4),
    )
    url = reverse("volunteers:activity-attendance", args=[activity.pk])
    response = client.post(url, {f"attended_{signup.pk}": "on", f"minutes_{signup.pk}": "999"})
    signup.refresh_from_db()
    assert signup.attended is None  # more minutes than the activity lasted
    client.post(url, {f"attended_{signup.pk}": "on", f"minutes_{signup.pk}": "90"})
    signup.refresh_from_db()
    assert signup.attended is True and signup.minutes == 90
    client.post(reverse("volunteers:activity-status", args=[activity.pk]), {"status": "finished"})
    activity.refresh_from_db()
    assert activity.status == ActivityStatus.FINISHED
    client.force_login(member)
    # 90 minutes at activities read as hours on 我的, like every other total
    assert '<dd class="big-number">1.5</dd>' in client.get(reverse("volunteers:me")).content.decode()


def test_description_with_html_is_harmless(client, organisation):
    activity = make_activity(
        organisation=organisation,
        title="<b>标题</b>",
        description='<script>alert("x")</script><img src=x onerror=alert(1)>',
    )
    body = client.get(activity.get_absolute_url()).content.decode()
    assert "<script>alert" not in body and "<img src=x" not in body and "<b>标题</b>" not in body
    assert "&lt;script&gt;" in body
    listing = client.get(reverse("volunteers:activity-list")).content.decode()
    assert "<b>标题</b>" not in listing


def test_reminders_go_out_once_the_day_before(organisation, outbox):
    tomorrow = timezone.localtime() + datetime.timedelta(days=1)
    start = tomorrow.replace(hour=10, minute=0, second=0, microsecond=0)
    soon = make_activity(
        organisation=organisation,
        start=start,
        end=start + datetime.timedelta(hours=1),
        signup_deadline=timezone.now() + datetime.timedelta(minutes=5),
        audience=Audience.ELDERS,
    )
    later = make_activity(organisation=organisation, days=5, audience=Audience.ELDERS)
    person = UserFactory(phone="13944440001")
    activity_signup(user=person, activity=soon)
    activity_signup(user=person, activity=later)
    call_command("send_activity_reminders", verbosity=0)
    call_command("send_activity_reminders", verbosity=0)
    assert reminders_send() == 0
    assert len(outbox) == 1
    phone, message = outbox[0]
    assert phone == "13944440001" and soon.title in message and "10:00" in message


def test_activity_list_filters_ics_and_query_count(client, organisation, django_assert_max_num_queries):
    for i in range(30):
        make_activity(organisation=organisation, title=f"活动{i}", kind="recreation" if i % 2 else "health")
    far = make_organisation(admin=UserFactory(), name="兴庆区协会", code=other_county_village().code)
    make_activity(organisation=far, title="银川活动", village=far.region)
    make_activity(organisation=organisation, title="草稿活动", status=ActivityStatus.DRAFT)
    pending = make_organisation(admin=UserFactory(), name="待审核", status=OrganisationStatus.PENDING)
    make_activity(organisation=pending, title="未审核组织的活动")
    url = reverse("volunteers:activity-list")
    client.get(url, {"county": "640422000000"})
    with django_assert_max_num_queries(6):
        response = client.get(url, {"county": "640422000000", "township": "640422100000", "kind": "health"})
    assert response.context["table"].paginator.count == 15
    body = client.get(url).content.decode()
    assert "草稿活动" not in body and "未审核组织的活动" not in body
    assert "银川活动" not in client.get(url, {"county": "640422000000"}).content.decode()
    ics = client.get(reverse("volunteers:activity-ics"), {"county": "640422000000", "kind": "health"})
    text = ics.content.decode()
    assert ics["Content-Type"].startswith("text/calendar")
    assert text.startswith("BEGIN:VCALENDAR") and text.count("BEGIN:VEVENT") == 15 and "银川活动" not in text


def test_activity_index_page_and_home(client, home_page, organisation):
    page = _index_page()
    make_activity(organisation=organisation, title="秦腔交流会", kind="recreation")
    make_activity(organisation=organisation, title="义诊", kind="health")
    body = client.get(page.url, {"kind": "recreation"}).content.decode()
    assert "秦腔交流会" in body and "义诊" not in body.split("<main", 1)[1].split("</main>")[0].replace("健康义诊", "")
    assert reverse("volunteers:activity-ics") in body
    upcoming = activities_upcoming(limit=1, region="640422100000")
    assert len(upcoming) == 1 and upcoming[0].title in ("秦腔交流会", "义诊")
    assert activities_upcoming(region="640104000000") == []


def test_demo_seed_is_idempotent(client, home_page):
    for _run in range(2):  # the seeders this topic depends on, twice (the home page is cms's, made once)
        portal.demo.seed()
        volunteers.demo.seed()

    assert VolunteerProfile.objects.filter(user__phone="13900000006").exists()
    assert Organisation.objects.filter(status="approved").values("kind").distinct().count() == 6
    assert Membership.objects.filter(organisation__name="大营村老年协会").count() == 4
    assert len(activities_upcoming()) == 3
    body = client.get(reverse("volunteers:activity-list")).content.decode()
    assert "重阳健康义诊" in body


def test_activity_export_gives_local_times_a_sign_up_sheet_can_use(client, org_admin):
    organisation = make_organisation(admin=org_admin)
    start = datetime.datetime(2030, 12, 2, 9, 0, tzinfo=timezone.get_current_timezone())  # Asia/Shanghai
    make_activity(organisation=organisation, start=start, end=start + datetime.timedelta(hours=2), title="冬季义诊")
    body = client.get(reverse("volunteers:activity-list"), {"_export": "csv"}).content.decode("utf-8-sig")
    assert "2030-12-02 09:00" in body and "2030-12-02 11:00" in body
    assert "+00:00" not in body and "01:00" not in body


def test_a_non_member_is_told_before_pressing_sign_up_for_a_members_only_activity(client, org_admin, volunteer):
    organisation = make_organisation(admin=org_admin)
    activity = make_activity(organisation=organisation, audience=Audience.MEMBERS)
    client.force_login(volunteer)
    page = client.get(reverse("volunteers:activity-detail", args=[activity.pk])).content.decode()
    assert reverse("volunteers:activity-signup", args=[activity.pk]) not in page
    assert reverse("volunteers:organisation-detail", args=[organisation.pk]) in page
    client.force_login(org_admin)  # a member sees the button
    page = client.get(reverse("volunteers:activity-detail", args=[activity.pk])).content.decode()
    assert reverse("volunteers:activity-signup", args=[activity.pk]) in page
