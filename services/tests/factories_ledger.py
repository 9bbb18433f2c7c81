"""Factories for the ledger: elders with valid resident ID numbers, their families."""

import datetime
import itertools

import factory

from portal.identity import check_digit, keyed_hash
from portal.models import Region
from services.ledger.models import (
    AbilityLevel,
    EconomicStatus,
    Elder,
    FamilyContact,
    LivingArrangement,
)

VILLAGE = "640422100201"  # 大营村委会
_serial = itertools.count(1)


def make_id_number(birth_date: datetime.date, gender: str, *, area: str = "640422", serial: int | None = None) -> str:
    """A valid 18-character ID number: area, birth date, a serial whose last digit is odd for men."""
    n = next(_serial) if serial is None else serial
    seq = n % 100
    sex_digit = (n % 5) * 2 + (1 if gender == "M" else 0)
    first17 = f"{area}{birth_date:%Y%m%d}{seq:02d}{sex_digit}"
    return first17 + check_digit(first17)


class ElderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Elder

    name = factory.Sequence(lambda n: f"老人{n}")
    gender = "F"
    birth_date = datetime.date(1950, 3, 15)
    village = factory.LazyFunction(lambda: Region.objects.get(code=VILLAGE))
    id_number = factory.LazyAttribute(lambda o: make_id_number(o.birth_date, o.gender, area=o.village.code[:6]))
    id_hash = factory.LazyAttribute(lambda o: keyed_hash(o.id_number))
    address = "大营村三组"
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    living_arrangement = LivingArrangement.COUPLE
    ability_level = AbilityLevel.INTACT
    economic_status = EconomicStatus.GENERAL


class FamilyContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FamilyContact

    elder = factory.SubFactory(ElderFactory)
    name = factory.Sequence(lambda n: f"子女{n}")
    relation = "儿子"
    phone = factory.Sequence(lambda n: f"158{n:08d}")
    works_in = "银川市金凤区"
    can_support = True
