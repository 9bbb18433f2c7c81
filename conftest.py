"""Role fixtures shared by every app's tests. Regions are loaded once per test database.

PORTAL_TEST_CLOCK (an ISO date-time with its offset) starts the whole run at that moment, the clock ticking
on from there: `make test` runs the suite once more at a shifted date so a test that silently depends on
today's date fails the day it is written.
"""

import datetime
import os

import pytest
import time_machine

from django.core.cache import caches
from django.core.management import call_command

from portal.sms import OutboxSender
from tests.factories import StaffRoleFactory, UserFactory

# Real places (固原市西吉县): two townships, a village in each, so scope edges are tested on real codes.
COUNTY = "640422000000"  # 西吉县
TOWNSHIP = "640422100000"  # 吉强镇
VILLAGE = "640422100201"  # 大营村委会 (in 吉强镇)
OTHER_TOWNSHIP = "640422101000"  # 兴隆镇
OTHER_COUNTY = "640104000000"  # 兴庆区 (银川市)


def pytest_configure(config):
    when = os.environ.get("PORTAL_TEST_CLOCK")
    if when:
        moment = datetime.datetime.fromisoformat(when)
        if moment.tzinfo is None:
            raise pytest.UsageError("PORTAL_TEST_CLOCK needs an offset, e.g. 2028-02-29T23:30:00+08:00")
        time_machine.travel(moment, tick=True).start()


def pytest_report_header(config):
    when = os.environ.get("PORTAL_TEST_CLOCK")
    return f"clock moved to {when} (PORTAL_TEST_CLOCK)" if when else None


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("load_regions", verbosity=0)


@pytest.fixture(autouse=True)
def _clean_outbox_and_cache():
    OutboxSender.outbox.clear()
    for each in caches.all():
        each.clear()
    yield
    OutboxSender.outbox.clear()


@pytest.fixture
def outbox():
    return OutboxSender.outbox


def _staff(role: str, code: str, **user_kwargs):
    from portal.models import Region

    user = UserFactory(**user_kwargs)
    StaffRoleFactory(user=user, role=role, region=Region.objects.get(code=code))
    return user


@pytest.fixture
def liaison(db):
    return _staff("village_liaison", VILLAGE, real_name="马兰花")


@pytest.fixture
def township_officer(db):
    return _staff("township_officer", TOWNSHIP, real_name="杨志强")


@pytest.fixture
def county_officer(db):
    return _staff("county_officer", COUNTY, real_name="李建国")


@pytest.fixture
def supervisor(db):
    return _staff("supervisor", COUNTY, real_name="张慧")


@pytest.fixture
def region_admin(db):
    return _staff("region_admin", COUNTY, real_name="王海燕", is_staff=True)


@pytest.fixture
def volunteer(db):
    return UserFactory(real_name="海小勇")


@pytest.fixture
def home_page(db):
    from cms.demo import ensure_home

    return ensure_home()


@pytest.fixture
def mfa_client(client):
    """A client whose user has an authenticator app, so MFA-required roles reach their pages."""

    def login(user):
        from allauth.mfa.models import Authenticator

        Authenticator.objects.get_or_create(user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "x"}})
        client.force_login(user)
        return client

    return login
