"""Property-based checks of the whole API against its committed schema (schemathesis): whatever is sent,
no server error, and every answer — status, content type, body — is one the schema declares."""

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from django.core import signals
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections

from services.tests.factories_care import make_elder
from tests.factories import StaffRoleFactory, UserFactory
from volunteers.tests.conftest import make_profile

from .conftest import tokens_for

VILLAGE = "640422100201"  # 大营村委会
SCHEMA_FILE = Path(__file__).resolve().parents[1] / "openapi.json"

schema = schemathesis.openapi.from_path(SCHEMA_FILE)
schema.app = WSGIHandler()
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection():
    """A real WSGI handler closes "old" connections at each request's start and end; inside the test's
    transaction that is the test's own connection (PostgreSQL). Django's test client unhooks the same two
    receivers; so does this."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def giver_and_liaison(db):
    from portal.models import Region

    user = UserFactory(real_name="联络人兼志愿者")
    StaffRoleFactory(user=user, role="village_liaison", region=Region.objects.get(code=VILLAGE))
    make_profile(user)
    make_elder(name="王大爷")
    return user


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_conforms_to_its_schema(case, giver_and_liaison):
    caches["default"].clear()  # throttles and sign-in limits: each example starts fresh
    access, _refresh = tokens_for(giver_and_liaison)
    case.call_and_validate(headers={"Authorization": f"Bearer {access}"}, checks=CHECKS)
