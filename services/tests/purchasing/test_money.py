# ruff: noqa: F811 — fixtures imported from factories_purchasing
"""Property-based: a settlement's total equals the sum of its lines, and each line equals the exact sum over
its records (minutes × hourly price / 60, or count × unit price) rounded once to the fen, half up."""

import datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django.db import transaction

from services.purchasing import rules as purchasing_rules
from services.purchasing.models import ContractLine, Unit
from services.tests.factories_purchasing import MONTH, build, local, make_item, make_record, world  # noqa: F401

pytestmark = pytest.mark.django_db

prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("999.99"), places=2)
units = st.sampled_from([Unit.HOUR, Unit.VISIT, Unit.PERSON_TIME])


def half_up_fen(value: Fraction) -> Decimal:
    """Independent reference: round an exact rational number of yuan to the fen, half away from zero."""
    cents = value * 100
    sign = -1 if cents < 0 else 1
    whole, rest = divmod(abs(cents.numerator), cents.denominator)
    if 2 * rest >= cents.denominator:
        whole += 1
    return Decimal(sign * whole) / 100


@given(unit=units, price=prices, minutes=st.integers(-10_000, 100_000), count=st.integers(-500, 5_000))
def test_line_amount_matches_exact_rational_rounding(unit, price, minutes, count):
    exact = Fraction(price) * minutes / 60 if unit == Unit.HOUR else Fraction(price) * count
    assert purchasing_rules.line_amount(unit, price, minutes, count) == half_up_fen(exact)


record_plans = st.lists(
    st.tuples(st.integers(0, 2), st.integers(1, 720)),  # (which item, minutes)
    min_size=0,
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    plan=record_plans,
    item_prices=st.lists(prices, min_size=3, max_size=3),
    item_units=st.lists(units, min_size=3, max_size=3),
)
def test_settlement_total_equals_lines_equals_records(world, plan, item_prices, item_units):
    w = world
    with transaction.atomic():
        items = [make_item(f"测试项目{i}") for i in range(3)]
        ContractLine.objects.filter(contract=w.contract).delete()
        for item, price, unit in zip(items, item_prices, item_units, strict=True):
            ContractLine.objects.create(contract=w.contract, service_item=item, unit=unit, unit_price=price)
        per_item: dict[int, list[int]] = {i: [] for i in range(3)}
        for n, (which, minutes) in enumerate(plan):
            day = MONTH + datetime.timedelta(days=n)  # one record a day: never overlapping, all in October
            make_record(
                organisation=w.organisation,
                giver=w.giver,
                elder=w.elder,
                item=items[which],
                start=local(day, 8),
                minutes=minutes,
            )
            per_item[which].append(minutes)
        settlement = build(w)

        lines = list(settlement.lines.all())
        assert settlement.total == sum((line.amount for line in lines), Decimal("0.00"))
        expected_total = Decimal("0.00")
        for which, minutes_list in per_item.items():
            if not minutes_list:
                continue
            price, unit = item_prices[which], item_units[which]
            exact = sum(
                (Fraction(price) * m / 60 if unit == Unit.HOUR else Fraction(price) for m in minutes_list), Fraction(0)
            )
            line = next(line for line in lines if line.service_item_id == items[which].pk)
            assert line.amount == half_up_fen(exact)
            assert line.amount == line.amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            expected_total += half_up_fen(exact)
        assert settlement.total == expected_total
        assert settlement.billed_count == len(plan)
        transaction.set_rollback(True)
