# ruff: noqa: F811 — fixtures are re-exported under their own names
"""Builders shared by the volunteer-record tests (imported by test_dossier_*.py)."""

import datetime

import pytest

from django.utils import timezone

from services.records import actions as record_actions
from services.tests.factories_ledger import ElderFactory
from services.tests.factories_records import (  # noqa: F401 — fixtures re-exported
    add_member,
    at,
    elder,
    item,
    member,
    org_admin,
    organisation,
    record_fields,
)
from volunteers.models_record import Award, Evaluation, Training
from volunteers.profiles import profile_set_identity
from volunteers.tests.conftest import make_resident_id

RESIDENT_ID = make_resident_id(datetime.date(1990, 5, 17), male=True)


def confirmed_record(liaison, giver, item, *, organisation=None, confirmer=None, days=1, hour=9, length=2, elder=None):
    """A record the village liaison entered (so the elder link holds) and then confirmed."""

    record = record_actions.record_create(
        actor=liaison,
        giver=giver,
        elder=elder or ElderFactory(),
        organisation=organisation,
        service_item=item,
        **record_fields(start=at(days, hour), end=at(days, hour + length)),
    )
    return record_actions.record_confirm(actor=confirmer or liaison, record=record)


def add_entries(organisation, volunteer, admin, suffix=""):
    today = timezone.localdate()
    common = {"volunteer": volunteer, "organisation": organisation, "recorded_by": admin}
    return (
        Training.objects.create(
            name=f"关爱培训{suffix}", content="探访要点", hours=4, organiser="县民政局", date=today, **common
        ),
        Award.objects.create(name=f"优秀志愿者{suffix}", date=today, granted_by="镇政府", **common),
        Evaluation.objects.create(rating="good", date=today, comment=f"按时上门{suffix}", **common),
    )


@pytest.fixture
def identified_member(member):
    """The member with complete real-name details."""

    profile = member.volunteer_profile
    profile_set_identity(profile=profile, sex="M", birth_date=datetime.date(1990, 5, 17), resident_id=RESIDENT_ID)
    return member
