# ruff: noqa: F811 — fixtures imported from factories_records
"""The ledger's invariants under any sequence of operations (hypothesis): Σ balances = Σ deposits − Σ withdrawals,
no balance below zero, every transaction's legs sum to zero, one deposit per record."""

import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count

from services.models import ServiceRecord
from services.records.models import RecordStatus
from services.tests.factories_records import (  # noqa: F401 — fixtures
    at,
    elder,
    item,
    org_admin,
    organisation,
)
from services.timebank import actions as bank
from services.timebank.models import AccountKind, TimeAccount, TimeRequest, TimeTransaction
from services.timebank.selectors import ledger_totals
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PEOPLE = 3

operations = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), st.integers(0, PEOPLE - 1), st.integers(1, 600)),
        st.tuples(st.just("redeposit"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("reverse"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("transfer"), st.integers(0, PEOPLE - 1), st.integers(1, 12)),
        st.tuples(st.just("request"), st.integers(0, PEOPLE - 1), st.integers(1, 12)),
        st.tuples(st.just("cancel"), st.integers(0, 20), st.just(0)),
    ),
    max_size=25,
)


class Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_books_always_balance(ops, org_admin, organisation, elder, item):
    try:
        with transaction.atomic():
            people = [UserFactory() for _ in range(PEOPLE)]
            records: list[ServiceRecord] = []
            for n, (op, who, amount) in enumerate(ops):
                try:
                    with transaction.atomic():
                        run(op, who, amount, n, people, records, org_admin, organisation, elder, item)
                except ValidationError:
                    pass  # refused (insufficient, not open…): must have changed nothing
                check_invariants()
            raise Rollback
    except Rollback:
        pass


def run(op, who, amount, n, people, records, admin, organisation, elder, item):
    if op == "deposit":
        start = at(3, 0) + datetime.timedelta(minutes=700 * n)
        record = ServiceRecord.objects.create(
            giver=people[who],
            elder=elder,
            region=elder.village,
            service_item=item,
            kind="volunteer",
            start=start,
            end=start + datetime.timedelta(minutes=amount),
            place="家中",
            content="帮忙",
            status=RecordStatus.CONFIRMED,
            recorded_by=admin,
        )
        records.append(record)
        bank.deposit_for_record(record=record)
    elif op == "redeposit" and records:
        bank.deposit_for_record(record=records[who % len(records)])
    elif op == "reverse" and records:
        original = records[who % len(records)]
        if ServiceRecord.objects.filter(reverses=original).exists():
            return
        reversal = ServiceRecord.objects.create(
            giver=original.giver,
            elder=elder,
            region=elder.village,
            service_item=item,
            kind="volunteer",
            start=original.start,
            end=original.end,
            sign=-1,
            reverses=original,
            place="家中",
            content="更正",
            status=RecordStatus.CONFIRMED,
            recorded_by=admin,
        )
        bank.reverse_for_record(reversal=reversal)
    elif op == "transfer":
        kin = people[(who + 1) % len(people)]
        bank.transfer_to_kin(actor=people[who], phone=kin.phone, relation="亲属", hours=str(amount / 2))
    elif op == "request":
        bank.time_request_create(
            actor=people[who],
            organisation=organisation,
            beneficiary="",
            service_item=item,
            hours=str(amount / 2),
            description="需要帮忙",
        )
    elif op == "cancel":
        open_requests = list(TimeRequest.objects.order_by("pk"))
        if open_requests:
            target = open_requests[who % len(open_requests)]
            bank.time_request_cancel(actor=target.requester, time_request=target)


def check_invariants():
    totals = ledger_totals()
    assert totals["balances"] == totals["deposits"] - totals["withdrawals"]
    assert not TimeAccount.objects.filter(kind=AccountKind.PERSON, balance__lt=0).exists()
    for account in TimeAccount.objects.all():
        assert account.balance == sum(account.entries.values_list("minutes", flat=True))
    for tx in TimeTransaction.objects.prefetch_related("entries"):
        assert sum(e.minutes for e in tx.entries.all()) == 0
    assert not (
        TimeTransaction.objects.filter(record__isnull=False).values("record").annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert TimeTransaction.objects.filter(kind="deposit").count() <= ServiceRecord.objects.filter(sign=1).count()
