"""One deposit per record, even when two confirmations race (run it on PostgreSQL: each participant has its own
connection and they are released together; on SQLite they come one after the other)."""

import pytest

from django.core.management import call_command
from django.db import transaction

from portal.models import Region
from services.catalogue.selectors import categories_ensure
from services.models import ServiceItem, ServiceRecord
from services.records import actions as record_actions
from services.tests.factories_records import add_member, at, backdate_membership
from services.timebank import actions as bank
from services.timebank.models import TimeAccount, TimeTransaction
from tests.factories import UserFactory
from tests.races import race
from volunteers.models import ActivitySignup, Membership
from volunteers.organisations import kinds_ensure
from volunteers.tests.conftest import make_activity, make_organisation


def _record_with_two_admins():
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


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_racing_deposit_once():
    record, first, second = _record_with_two_admins()

    def press(admin):
        record_actions.record_confirm(actor=admin, record=ServiceRecord(pk=record.pk))
        return "confirmed"

    assert race(press, [first, second]) == ["already_decided", "confirmed"]
    assert TimeTransaction.objects.filter(record=record).count() == 1
    assert TimeAccount.objects.get(user=record.giver).balance == 120


@pytest.mark.django_db(transaction=True)
def test_two_deposits_of_one_record_racing_past_the_record_lock():
    """Without the confirmation's row lock, the unique constraint alone keeps the deposit single."""
    record, first, _ = _record_with_two_admins()
    ServiceRecord.objects.filter(pk=record.pk).update(status="confirmed")

    def press(n):
        with transaction.atomic():
            bank.deposit_for_record(
                record=ServiceRecord.objects.select_related("service_item__category").get(pk=record.pk)
            )
        return "done"

    assert race(press, [1, 2]) == ["done", "done"]
    assert TimeTransaction.objects.filter(record=record).count() == 1
    assert TimeAccount.objects.get(user=record.giver).balance == 120
