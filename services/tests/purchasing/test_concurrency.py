"""Two officers press "approve" on the same settlement at the same moment: one wins, the other is told.

On PostgreSQL each thread has its own connection and the second waits on the row locks (the contract,
then the settlement) and then sees the first approval. SQLite's in-memory test database refuses a second
writer, so there the two come one after the other, both holding the settlement as they saw it (submitted).
"""

import datetime

import pytest

from django.core.management import call_command

from portal.models import Region
from services.models import ServiceRecord
from services.purchasing import settlements
from services.purchasing.models import Settlement, SettlementStatus
from services.records.models import RecordStatus
from services.tests.factories_care import make_elder, staff
from services.tests.factories_purchasing import (
    add_member,
    line,
    local,
    make_contract,
    make_item,
    make_provider,
    make_record,
)
from tests.races import race


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_one_wins_one_is_told():
    if not Region.objects.filter(code="640422100201").exists():  # a transactional test empties the tables
        call_command("load_regions", verbosity=0)
    first, second = staff("county_officer", "640422000000"), staff("county_officer", "640422000000")
    organisation, admin = make_provider()
    giver = add_member(organisation, real_name="马小梅")
    item = make_item()
    contract = make_contract(organisation=organisation, officer=first, lines=[line(item, "30")])
    elder = make_elder()
    for day in range(1, 4):
        make_record(
            organisation=organisation, giver=giver, elder=elder, item=item, start=local(datetime.date(2026, 10, day))
        )
    settlement = settlements.settlement_build(actor=admin, contract=contract, month=datetime.date(2026, 10, 1))
    settlements.settlement_submit(actor=admin, settlement=settlement)

    def press(officer):
        settlements.settlement_approve(actor=officer, settlement=Settlement(pk=settlement.pk, contract_id=contract.pk))
        return "approved"

    outcomes = race(press, [first, second])
    assert outcomes == ["approved", "not_submitted"]
    stored = Settlement.objects.get(pk=settlement.pk)
    assert stored.status == SettlementStatus.APPROVED and stored.approved_by in (first, second)
    assert ServiceRecord.objects.filter(status=RecordStatus.SETTLED).count() == 3
