import re

import pytest

from portal.models import User
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, make_elder
from services.tests.factories_ledger import FamilyContactFactory
from tests.factories import UserFactory

FAMILY_PHONE = "15800001111"
OTHER_PHONE = "15800002222"


def last_code(outbox) -> str:
    assert outbox, "no SMS was sent"
    return re.search(r"(?<!\d)(\d{6})(?!\d)", outbox[-1][1]).group(1)


@pytest.fixture
def elder(db):
    return make_elder(name="王秀兰")


@pytest.fixture
def other_elder(db):
    return make_elder(name="李桂英", village=OTHER_TOWNSHIP_VILLAGE)


@pytest.fixture
def contact(elder):
    return FamilyContactFactory(elder=elder, name="王强", relation="儿子", phone=FAMILY_PHONE, is_primary=True)


@pytest.fixture
def other_contact(other_elder):
    return FamilyContactFactory(elder=other_elder, name="李明", relation="女儿", phone=OTHER_PHONE)


@pytest.fixture
def family_user(contact):
    return UserFactory(phone=FAMILY_PHONE, real_name="", phone_verified=True)


@pytest.fixture
def other_family_user(other_contact):
    return UserFactory(phone=OTHER_PHONE, real_name="", phone_verified=True)


@pytest.fixture
def family_client(client, family_user):
    client.force_login(family_user)
    return client


def user_by_phone(phone):
    return User.objects.filter(phone=phone).first()
