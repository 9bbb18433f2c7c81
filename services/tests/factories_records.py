"""Fixtures and builders shared by the service-record tests (imported by test_records_*.py)."""

import datetime

import pytest

from django.core.management import call_command
from django.utils import timezone

from portal.models import Region
from services.catalogue.selectors import categories_ensure
from services.models import ServiceItem
from services.records import actions as record_actions
from services.tests.factories_ledger import ElderFactory
from tests.factories import StaffRoleFactory, UserFactory
from volunteers.models import ActivitySignup, Membership, MembershipStatus
from volunteers.organisations import kinds_ensure
from volunteers.tests.conftest import make_activity, make_organisation, make_profile

VILLAGE = "640422100201"  # 大营村委会
OTHER_VILLAGE_TOWNSHIP = "640422101000"  # 兴隆镇


def at(days_ago: int, hour: int, minute: int = 0) -> datetime.datetime:
    """A local time `days_ago` days back (aware)."""
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def backdate_membership(user, organisation, days: int = 60) -> None:
    when = timezone.now() - datetime.timedelta(days=days)
    Membership.objects.filter(user=user, organisation=organisation).update(created_at=when)


def add_member(organisation, user=None, **kwargs):
    user = user or UserFactory(**kwargs)
    Membership.objects.create(organisation=organisation, user=user, status=MembershipStatus.ACTIVE)
    backdate_membership(user, organisation)
    return user


def other_village() -> Region:
    return Region.objects.filter(level="village", code__startswith="640422101").first()


@pytest.fixture
def item(db):
    category = categories_ensure()[0]
    return ServiceItem.objects.create(category=category, name="助餐送餐", description="送餐上门")


@pytest.fixture
def professional_item(db):
    category = categories_ensure()[1]
    return ServiceItem.objects.create(category=category, name="心理疏导", description="", professional=True)


@pytest.fixture
def org_admin(db):
    return UserFactory(real_name="马会长", phone="13911110001")


@pytest.fixture
def organisation(org_admin):
    kinds_ensure()
    org = make_organisation(admin=org_admin)
    backdate_membership(org_admin, org)
    return org


@pytest.fixture
def member(organisation):
    user = add_member(organisation, real_name="会员甲", phone="13911110002")
    make_profile(user)
    return user


@pytest.fixture
def other_org_admin(db):
    kinds_ensure()
    user = UserFactory(real_name="别的会长", phone="13911110003")
    make_organisation(admin=user, name="兴隆镇志愿服务队", code=OTHER_VILLAGE_TOWNSHIP)
    return user


@pytest.fixture
def elder(db):
    return ElderFactory(name="李奶奶")


@pytest.fixture
def other_elder(db):
    return ElderFactory(name="远处的老人", village=other_village())


@pytest.fixture
def past_activity(organisation, member):
    """An activity held two days ago 09:00–11:00 that the member signed up for (before it)."""
    activity = make_activity(
        organisation=organisation,
        start=at(2, 9),
        end=at(2, 11),
        signup_deadline=at(3, 9),
    )
    ActivitySignup.objects.create(activity=activity, user=member)
    ActivitySignup.objects.filter(activity=activity).update(created_at=at(3, 8))
    return activity


@pytest.fixture
def other_liaison(db):
    user = UserFactory(real_name="别村联络人")
    StaffRoleFactory(user=user, role="village_liaison", region=other_village())
    return user


def record_fields(**overrides) -> dict:
    values = {
        "kind": "volunteer",
        "start": at(1, 9),
        "end": at(1, 11),
        "place": "李奶奶家",
        "content": "打扫院子，陪老人聊天",
    }
    values.update(overrides)
    return values


def record_with_two_admins():
    """A submitted activity record and the two admins of its organisation (for the confirmation races)."""
    if not Region.objects.filter(code="640422100201").exists():  # a transactional test empties the tables
        call_command("load_regions", verbosity=0)
    kinds_ensure()
    item = ServiceItem.objects.create(category=categories_ensure()[0], name="助餐", description="")
    first, second = UserFactory(real_name="会长一"), UserFactory(real_name="会长二")
    organisation = make_organisation(admin=first)
    Membership.objects.create(organisation=organisation, user=second, status="active", is_admin=True)
    backdate_membership(first, organisation)
    backdate_membership(second, organisation)
    giver = add_member(organisation, real_name="会员")
    activity = make_activity(organisation=organisation, start=at(2, 9), end=at(2, 11), signup_deadline=at(3, 9))
    ActivitySignup.objects.create(activity=activity, user=giver)
    ActivitySignup.objects.update(created_at=at(3, 8))
    record = record_actions.record_create(
        actor=giver,
        giver=giver,
        activity=activity,
        service_item=item,
        kind="volunteer",
        start=activity.start,
        end=activity.end,
        place="村部",
        content="助餐",
    )
    return record, first, second
