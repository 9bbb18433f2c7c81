# ruff: noqa: F811 — fixtures imported from factories_records
"""Fixtures of the time-bank tests: the clock on a fixed day, a member's record for an elder, confirmed by the
village liaison (so it deposits), and helpers to build ledgers quickly."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from services.records import actions as record_actions
from services.tests.factories_records import (  # noqa: F401 — fixtures
    elder,
    item,
    member,
    org_admin,
    organisation,
    record_fields,
)

NOW = datetime.datetime(2026, 10, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def submitted(org_admin, member, elder, item, **overrides):
    return record_actions.record_create(
        actor=org_admin,
        giver=member,
        elder=elder,
        organisation=member.memberships.first().organisation,
        service_item=item,
        **record_fields(**overrides),
    )


@pytest.fixture
def confirmed(liaison, org_admin, member, elder, item):
    """A member's two hours with an elder, confirmed by the liaison: 120 minutes in the member's account."""
    record = submitted(org_admin, member, elder, item)
    return record_actions.record_confirm(actor=liaison, record=record)
