"""Small builders for the care tests: elders (valid ID numbers), family contacts, users with roles."""

import datetime
import itertools

from django.utils import timezone

from portal.identity import check_digit, keyed_hash
from portal.models import Region
from services.models import Elder, FamilyContact
from tests.factories import StaffRoleFactory, UserFactory

VILLAGE = "640422100201"  # 大营村委会, 吉强镇
SAME_TOWNSHIP_VILLAGE = "640422100002"  # 中街社区, 吉强镇
OTHER_TOWNSHIP_VILLAGE = "640422101200"  # 兴隆村委会, 兴隆镇
_seq = itertools.count(1)


def resident_id(birth: datetime.date, sex: str, seq: int) -> str:
    serial = (seq * 2 + (1 if sex == "M" else 0)) % 1000
    first17 = f"640422{birth:%Y%m%d}{serial:03d}"
    return first17 + check_digit(first17)


def make_elder(*, village: str = VILLAGE, name: str | None = None, age: int = 72, **fields) -> Elder:
    n = next(_seq)
    today = timezone.localdate()
    birth = datetime.date(today.year - age, 3, 1 + n % 27)
    gender = fields.pop("gender", "M" if n % 2 else "F")
    number = resident_id(birth, gender, n)
    defaults = {"economic_status": "general", "ability_level": "intact", "living_arrangement": "couple"}
    defaults.update(fields)
    return Elder.objects.create(
        name=name or f"老人{n}",
        gender=gender,
        birth_date=birth,
        id_number=number,
        id_hash=keyed_hash(number),
        village=Region.objects.get(code=village),
        **defaults,
    )


def make_key_elder(**fields) -> Elder:
    """重点: economically difficult and very old."""
    return make_elder(age=84, economic_status="subsistence", living_arrangement="alone", **fields)


def add_supporter(elder: Elder, *, phone: str = "13812345678", **fields) -> FamilyContact:
    fields.setdefault("name", "马强")
    fields.setdefault("relation", "儿子")
    return FamilyContact.objects.create(elder=elder, phone=phone, can_support=True, **fields)


def staff(role: str, code: str, **user_kwargs):
    user = UserFactory(**user_kwargs)
    StaffRoleFactory(user=user, role=role, region=Region.objects.get(code=code))
    return user
