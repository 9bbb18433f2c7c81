"""The derived values: age, 高龄 and priority agree between the Python property and the SQL annotation."""

import datetime
import itertools

import pytest

from django.utils import timezone

from services.ledger.models import (
    AbilityLevel,
    EconomicStatus,
    Elder,
    LivingArrangement,
    PriorityLevel,
    age_on,
    birth_cutoff,
)
from services.tests.factories_ledger import ElderFactory, FamilyContactFactory

pytestmark = pytest.mark.django_db


def test_age_counts_birthdays():
    assert age_on(datetime.date(1946, 6, 1), datetime.date(2026, 5, 31)) == 79
    assert age_on(datetime.date(1946, 6, 1), datetime.date(2026, 6, 1)) == 80
    assert birth_cutoff(81, datetime.date(2028, 2, 29)) == datetime.date(1947, 2, 28)
    assert age_on(datetime.date(1947, 2, 28), datetime.date(2028, 2, 29)) == 81


@pytest.mark.parametrize(
    ("economic", "age", "ability", "living", "supported", "expected"),
    [
        (EconomicStatus.SUBSISTENCE, 82, AbilityLevel.INTACT, LivingArrangement.COUPLE, True, PriorityLevel.KEY),
        (EconomicStatus.DESTITUTE, 70, AbilityLevel.SEVERE, LivingArrangement.COUPLE, True, PriorityLevel.KEY),
        (EconomicStatus.GENERAL, 85, AbilityLevel.INTACT, LivingArrangement.COUPLE, True, PriorityLevel.ATTENTION),
        (EconomicStatus.GENERAL, 85, AbilityLevel.INTACT, LivingArrangement.ALONE, True, PriorityLevel.KEY),
        (EconomicStatus.GENERAL, 70, AbilityLevel.INTACT, LivingArrangement.ALONE, True, PriorityLevel.ATTENTION),
        (EconomicStatus.GENERAL, 70, AbilityLevel.INTACT, LivingArrangement.COUPLE, False, PriorityLevel.ATTENTION),
        (EconomicStatus.GENERAL, 70, AbilityLevel.INTACT, LivingArrangement.COUPLE, True, PriorityLevel.NORMAL),
        (
            EconomicStatus.REGISTERED_POOR,
            70,
            AbilityLevel.INTACT,
            LivingArrangement.COUPLE,
            True,
            PriorityLevel.ATTENTION,
        ),
        (EconomicStatus.GENERAL, 70, AbilityLevel.MILD, LivingArrangement.WITH_RELATIVES, False, PriorityLevel.KEY),
    ],
)
def test_priority_rule_same_in_python_and_sql(economic, age, ability, living, supported, expected):
    birth = birth_cutoff(age) - datetime.timedelta(days=3)
    elder = ElderFactory(economic_status=economic, birth_date=birth, ability_level=ability, living_arrangement=living)
    if supported:
        FamilyContactFactory(elder=elder, can_support=True)
    else:
        FamilyContactFactory(elder=elder, can_support=False)
    fresh = Elder.objects.get(pk=elder.pk)
    assert fresh.priority == expected
    annotated = Elder.objects.with_priority().get(pk=elder.pk)
    assert annotated.priority_level == expected
    assert annotated.is_high_age == (age >= 80) == fresh.is_high_age_elder


def test_priority_property_and_annotation_agree_on_every_combination():
    """Every combination of the flags: the rule is defined once, so both paths give the same answer."""
    combos = itertools.product(
        [EconomicStatus.GENERAL, EconomicStatus.DESTITUTE],
        [70, 81],
        [AbilityLevel.INTACT, AbilityLevel.MILD, AbilityLevel.TOTAL],
        [LivingArrangement.ALONE, LivingArrangement.COUPLE],
        [True, False],
    )
    for economic, age, ability, living, supported in combos:
        elder = ElderFactory(
            economic_status=economic,
            birth_date=birth_cutoff(age) - datetime.timedelta(days=1),
            ability_level=ability,
            living_arrangement=living,
        )
        if supported:
            FamilyContactFactory(elder=elder)
    for elder in Elder.objects.with_priority().prefetch_related("family_contacts"):
        plain = Elder.objects.get(pk=elder.pk)
        assert plain.priority == elder.priority_level, (plain.economic_status, plain.ability_level)


def test_unreachable_supporter_counts_as_none():
    elder = ElderFactory(living_arrangement=LivingArrangement.COUPLE)
    FamilyContactFactory(elder=elder, can_support=True, phone="")
    fresh = Elder.objects.get(pk=elder.pk)
    assert not fresh.has_capable_supporter
    assert "no_supporter" in dict(fresh.ledger_flags)
    assert Elder.objects.flagged("no_supporter").filter(pk=elder.pk).exists()


def test_ledger_flags_match_sql():
    disabled = ElderFactory(ability_level=AbilityLevel.SEVERE, living_arrangement=LivingArrangement.ALONE)
    safe = ElderFactory(fire_safety_needed=True, smoke_alarm=True, sprinkler=True, family_doctor_signed=True)
    unsafe = ElderFactory(fire_safety_needed=True, smoke_alarm=True, sprinkler=False)
    FamilyContactFactory(elder=safe)
    for flag in ("no_supporter", "disabled_alone", "no_family_doctor", "no_safety_devices"):
        in_sql = set(Elder.objects.flagged(flag).values_list("pk", flat=True))
        in_python = {e.pk for e in Elder.objects.all() if flag in dict(e.ledger_flags)}
        assert in_sql == in_python, flag
    assert "disabled_alone" in dict(disabled.ledger_flags)
    assert "no_safety_devices" in dict(unsafe.ledger_flags)
    assert Elder.objects.get(pk=safe.pk).ledger_flags == []


def test_id_number_is_encrypted_at_rest():
    from django.db import connection

    elder = ElderFactory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_hash FROM services_elder WHERE id = %s", [elder.pk])
        stored, stored_hash = cursor.fetchone()
    assert elder.id_number not in stored
    assert elder.id_number[6:14] not in stored
    assert len(stored_hash) == 64 and elder.id_number not in stored_hash
    assert Elder.objects.get(pk=elder.pk).id_number == elder.id_number
    assert timezone.now()
