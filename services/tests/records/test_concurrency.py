"""Two confirmers press "confirm" on the same record at the same moment: one wins, the other is told.

Each thread has its own database connection; on PostgreSQL the second one waits on the row lock
(select_for_update) and then sees the first decision. Run it on PostgreSQL with DATABASE_URL set.
"""

import pytest

from services.models import ServiceRecord
from services.records import actions as record_actions
from services.records.models import RecordStatus
from services.tests.factories_records import record_with_two_admins
from tests.races import race


@pytest.mark.django_db(transaction=True)
def test_two_confirmers_at_once_one_wins_one_is_told():
    record, first_admin, second_admin = record_with_two_admins()

    def press(admin):
        record_actions.record_confirm(actor=admin, record=ServiceRecord(pk=record.pk))
        return "confirmed"

    outcomes = race(press, [first_admin, second_admin])
    assert outcomes == ["already_decided", "confirmed"]
    record.refresh_from_db()
    assert record.status == RecordStatus.CONFIRMED
    assert record.confirmed_by in (first_admin, second_admin)
