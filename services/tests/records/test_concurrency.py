"""Two confirmers press "confirm" on the same record at the same moment: one wins, the other is told.

Each thread has its own database connection; on PostgreSQL the second one waits on the row lock
(select_for_update) and then sees the first decision. Run it on PostgreSQL with DATABASE_URL set.
"""

import pytest

from django.core.management import call_command

from portal.models import Region
from services.catalogue.selectors import categories_ensure
from services.models import ServiceItem, ServiceRecord
from services.records import actions as record_actions
from services.records.models import RecordStatus
from services.tests.factories_records import add_member, at, backdate_membership
from tests.factories import UserFactory
from tests.races import race
from volunteers.models import ActivitySignup, Membership
from volunteers.organisations import kinds_ensure
from volunteers.tests.conftest import make_activity, make_organisation


@pytest.mark.django_db(transaction=True)
def test_two_confirmers_at_once_one_wins_one_is_told():
    if not Region.objects.filter(code="640422100201").exists():  # a transactional test empties the tables
        call_command("load_regions", verbosity=0)
    kinds_ensure()
    item = ServiceItem.objects.create(category=categories_ensure()[0], name="助餐", description="")
    first_admin, second_admin = UserFactory(real_name="会长一"), UserFactory(real_name="会长二")
    organisation = make_organisation(admin=first_admin)
    Membership.objects.create(organisation=organisation, user=second_admin, status="active", is_admin=True)
    backdate_membership(first_admin, organisation)
    backdate_membership(second_admin, organisation)
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

    def press(admin):
        record_actions.record_confirm(actor=admin, record=ServiceRecord(pk=record.pk))
        return "confirmed"

    outcomes = race(press, [first_admin, second_admin])
    assert outcomes == ["already_decided", "confirmed"]
    record.refresh_from_db()
    assert record.status == RecordStatus.CONFIRMED
    assert record.confirmed_by in (first_admin, second_admin)
