"""The demo time bank: `seed_demo` deposits the confirmed demo records once, and the pages show them."""

import pytest

from django.core.management import call_command
from django.urls import reverse

from portal.models import User
from services.records.models import ServiceRecord
from services.timebank.models import TimeAccount, TimeTransaction
from services.timebank.selectors import ledger_totals

pytestmark = pytest.mark.django_db


def test_seed_demo_fills_the_bank_once(client, clock):
    clock.move_to("2026-12-15T10:00:00+08:00")  # the purchasing demo settles October, paid in November
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    giver = User.objects.get(phone="13900000006")
    confirmed = ServiceRecord.objects.filter(giver=giver, status="confirmed", kind="volunteer", sign=1)
    assert confirmed.exists()
    assert TimeTransaction.objects.filter(kind="deposit", record__in=confirmed).count() == confirmed.count()
    assert TimeTransaction.objects.filter(kind="transfer").count() == 1
    totals = ledger_totals()
    assert totals["balances"] == totals["deposits"] - totals["withdrawals"] > 0
    liaison = User.objects.get(phone="13900000001")  # admin of 大营村老年协会, and the kin in the demo
    client.force_login(liaison)
    assert TimeAccount.objects.get(user=liaison).balance == 120
    assert client.get(reverse("volunteers:timebank-members")).status_code == 200
