"""Fixtures of the givers' tests: an approved elder association with an admin and a member, an activity."""

import datetime

import pytest

from django.utils import timezone

from portal.identity import check_digit
from portal.models import Region
from tests.factories import UserFactory
from volunteers.models import (
    Activity,
    ActivityStatus,
    Audience,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    VolunteerProfile,
)

VILLAGE = "640422100201"  # 大营村委会, 吉强镇, 西吉县
TOWNSHIP = "640422100000"
OTHER_COUNTY_VILLAGE_PREFIX = "640104"  # 兴庆区
VALID_CREDIT_CODE = "91350100M000100Y43"  # the sample code of GB 32100-2015


def make_resident_id(birth: datetime.date, *, male: bool, area: str = "640422") -> str:
    first17 = f"{area}{birth:%Y%m%d}12{3 if male else 4}"
    return first17 + check_digit(first17)


def region(code: str) -> Region:
    return Region.objects.get(code=code)


def other_county_village() -> Region:
    return Region.objects.filter(level="village", code__startswith=OTHER_COUNTY_VILLAGE_PREFIX).first()


def make_organisation(*, admin, name="大营村老年协会", status=OrganisationStatus.APPROVED, code=VILLAGE, **kwargs):
    organisation = Organisation.objects.create(
        name=name,
        kind=OrganisationKind.objects.get(slug="laonian-xiehui"),
        region=region(code),
        contact_name="马兰花",
        contact_phone="13900000001",
        status=status,
        status_reason=kwargs.pop("status_reason", "" if status in ("pending", "approved") else "原因"),
        **kwargs,
    )
    Membership.objects.create(organisation=organisation, user=admin, status=MembershipStatus.ACTIVE, is_admin=True)
    return organisation


def make_activity(*, organisation, days=3, capacity=10, audience=Audience.VOLUNTEERS, **kwargs):
    start = timezone.now() + datetime.timedelta(days=days)
    values = {
        "organisation": organisation,
        "title": "健康义诊",
        "village": region(VILLAGE),
        "start": start,
        "end": start + datetime.timedelta(hours=2),
        "signup_deadline": start - datetime.timedelta(hours=12),
        "capacity": capacity,
        "audience": audience,
        "status": ActivityStatus.PUBLISHED,
    }
    values.update(kwargs)
    return Activity.objects.create(**values)


def make_profile(user, **kwargs) -> VolunteerProfile:
    kwargs.setdefault("village", region(VILLAGE))
    return VolunteerProfile.objects.create(user=user, **kwargs)


@pytest.fixture
def org_admin(db):
    return UserFactory(real_name="马会长", phone="13911110001")


@pytest.fixture
def organisation(org_admin):
    return make_organisation(admin=org_admin)


@pytest.fixture
def member(organisation):
    user = UserFactory(real_name="会员甲", phone="13911110002")
    Membership.objects.create(organisation=organisation, user=user, status=MembershipStatus.ACTIVE)
    return user


@pytest.fixture
def other_admin(db):
    """The admin of another organisation (in another township)."""
    user = UserFactory(real_name="别的会长", phone="13911110003")
    make_organisation(admin=user, name="兴隆镇志愿服务队", code="640422101000")
    return user


@pytest.fixture
def giver(volunteer):
    make_profile(volunteer)
    return volunteer


@pytest.fixture
def activity(organisation):
    return make_activity(organisation=organisation)
