"""One deposit per record, even when two confirmations race (run it on PostgreSQL: each participant has its own
connection and they are released together; on SQLite they come one after the other)."""

import pytest

from django.db import transaction

from services.models import ServiceRecord
from services.records import actions as record_actions
from services.tests.factories_records import record_with_two_admins
from services.timebank import actions as bank
from services.timebank.models import TimeAccount, TimeTransaction
from tests.races import race


@pytest.mark.django_db(transaction=True)
def test_two_confirmations_racing_deposit_once():
    record, first, second = record_with_two_admins()

    def press(admin):
        record_actions.record_confirm(actor=admin, record=ServiceRecord(pk=record.pk))
        return "confirmed"

    assert race(press, [first, second]) == ["already_decided", "confirmed"]
    assert TimeTransaction.objects.filter(record=record).count() == 1
    assert TimeAccount.objects.get(user=record.giver).balance == 120


@pytest.mark.django_db(transaction=True)
def test_two_deposits_of_one_record_racing_past_the_record_lock():
    """Without the confirmation's row lock, the unique constraint alone keeps the deposit single."""
    record, first, _ = record_with_two_admins()
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
