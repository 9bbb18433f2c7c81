# ruff: noqa: F811 — fixtures imported from factories_purchasing
"""`manage.py settle` and the demo data of purchasing."""

import io
import json
from decimal import Decimal

import pytest

from django.core.management import call_command
from django.core.management.base import CommandError

from portal import demo as portal_demo
from services.catalogue import demo
from services.ledger import demo as demo_ledger
from services.models import ServiceRecord
from services.purchasing import demo as demo_purchasing
from services.purchasing import selectors as purchasing_reads
from services.purchasing import settlements
from services.purchasing.models import PurchaseContract, Settlement, SettlementStatus
from services.records.models import RecordStatus
from services.tests.factories_care import staff
from services.tests.factories_purchasing import line, local, make_record, world  # noqa: F401
from services.tests.records.test_dossier_demo import seed_all
from volunteers import demo as volunteers_demo

pytestmark = pytest.mark.django_db


def settle(*args) -> dict:
    out = io.StringIO()
    call_command("settle", *args, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_settle_builds_submits_and_approves(world):
    w = world
    import datetime

    make_record(
        organisation=w.organisation,
        giver=w.giver,
        elder=w.elder,
        item=w.clean,
        start=local(datetime.date(2026, 10, 5)),
        minutes=90,
    )
    args = ["--contract", str(w.contract.pk), "--month", "2026-10"]
    built = settle(*args)
    assert (built["status"], built["total"], built["billed"]) == ("draft", "45.00", 1)
    assert settle(*args, "--by", w.admin.phone, "--submit")["status"] == "submitted"
    assert settle(*args)["status"] == "submitted"  # not rebuilt once submitted
    approved = settle(*args, "--by", w.officer.phone, "--approve")
    assert approved["status"] == "approved"
    assert ServiceRecord.objects.get().status == RecordStatus.SETTLED


def test_settle_refuses_bad_input(world):
    w = world
    contract = str(w.contract.pk)
    elsewhere = staff("county_officer", "640104000000", phone="13700000009")
    cases = [
        ["--contract", "999999", "--month", "2026-10"],
        ["--contract", contract, "--month", "2026/10"],
        ["--contract", contract, "--month", "2027-02"],
        ["--contract", contract, "--month", "2026-10", "--approve"],
        ["--contract", contract, "--month", "2026-10", "--by", "123", "--approve"],
        ["--contract", contract, "--month", "2026-10", "--by", elsewhere.phone, "--approve"],
        ["--contract", contract, "--month", "2026-10", "--by", w.officer.phone, "--approve"],  # a draft
        ["--contract", contract, "--month", "2026-10", "--by", w.officer.phone, "--submit"],  # not the provider
    ]
    for args in cases:
        with pytest.raises(CommandError):
            call_command("settle", *args, stdout=io.StringIO())
    assert not Settlement.objects.exclude(status=SettlementStatus.DRAFT).exists()


def test_demo_is_idempotent_and_leaves_october_for_the_officer():
    from django.contrib.auth import get_user_model

    portal_demo.seed()
    demo.seed()
    demo_ledger.seed()
    volunteers_demo.seed()
    demo_purchasing.seed()
    counts = (PurchaseContract.objects.count(), Settlement.objects.count(), ServiceRecord.objects.count())
    demo_purchasing.seed()
    assert (PurchaseContract.objects.count(), Settlement.objects.count(), ServiceRecord.objects.count()) == counts
    october = Settlement.objects.get(month__month=10)
    assert october.status == SettlementStatus.SUBMITTED and october.total > 0
    assert october.total == sum(line.amount for line in october.lines.all())
    assert october.excluded_count > 0  # one elder over the cap, calls the contract does not cover
    officer = get_user_model().objects.get(phone="13900000003")
    settlements.settlement_approve(actor=officer, settlement=october)
    assert (
        purchasing_reads.budget_state(october.contract)["spent"]
        == october.total + Settlement.objects.get(month__month=9).total
    )
    assert Decimal("0") < purchasing_reads.budget_state(october.contract)["spent"] < october.contract.budget


def test_the_demo_gives_no_giver_two_records_at_once():
    """The purchased demo service leaves the givers' own volunteer service (demo_records) its time."""

    seed_all()
    demo_purchasing.seed()
    rows = sorted(ServiceRecord.objects.live().values_list("giver_id", "start", "end"))
    assert ServiceRecord.objects.filter(kind="purchased").exists() and ServiceRecord.objects.filter(kind="volunteer")
    for (giver, _start, end), (next_giver, next_start, _end) in zip(rows, rows[1:], strict=False):
        assert giver != next_giver or end <= next_start, (giver, end, next_start)
