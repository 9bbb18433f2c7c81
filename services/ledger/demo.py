"""Demo ledger: a few dozen realistic elders of 大营村 and a few of its neighbours in 吉强镇.

Idempotent: elders are keyed by their (made-up, valid) ID numbers, so running seed_demo again adds
nothing. Families, agreements and reminders are created only with a new elder.
"""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from portal.identity import check_digit, keyed_hash
from portal.models import Region, User
from services.ledger.models import (
    AbilityLevel,
    CareAgreement,
    DutyMethod,
    DutyReminder,
    EconomicStatus,
    Elder,
    ElderChange,
    ElderChangeKind,
    FamilyContact,
    LeftBehindBasis,
    LivingArrangement,
)

VILLAGE = "640422100201"  # 大营村委会
NEIGHBOURS = ["640422100202", "640422100203", "640422100208"]  # 大滩村、泉儿湾村、马营村
SURNAMES = "马马马马李杨王张海田苏何马杨李王马兰周金".replace("兰", "")
GIVEN_F = [
    "秀英",
    "桂兰",
    "玉兰",
    "凤英",
    "兰英",
    "秀兰",
    "桂英",
    "翠花",
    "金花",
    "梅花",
    "玉梅",
    "淑珍",
    "素珍",
    "海燕",
]
GIVEN_M = [
    "福贵",
    "德福",
    "有才",
    "永福",
    "占山",
    "志明",
    "文斌",
    "国强",
    "建华",
    "进财",
    "成林",
    "万福",
    "学义",
    "明德",
]
CHILD_GIVEN = ["强", "军", "勇", "伟", "杰", "花", "霞", "燕", "娟", "平", "亮", "斌"]
WORK_PLACES = [
    "银川市金凤区 建筑工地",
    "银川市兴庆区 餐馆",
    "石嘴山市大武口区 工厂",
    "福建省福州市 电子厂",
    "新疆昌吉 拾棉花",
    "内蒙古包头市 物流",
    "固原市原州区 工地",
    "陕西省西安市 送外卖",
]
INCOME = ["养老金", "养老金、子女供给", "低保金、养老金", "务农、养老金", "特困供养金", "子女供给、务农"]
HEALTH = ["高血压，常年服药", "糖尿病", "腿脚不便，需拄拐", "身体尚好", "听力下降", "慢性支气管炎", "白内障，视力差"]
DIFFICULTIES = ["冬季取暖困难", "就医路远", "无人照料日常起居", "农活繁重", "房屋老旧漏雨", ""]


def _id_number(area: str, birth: datetime.date, gender: str, n: int) -> str:
    sex_digit = (n % 5) * 2 + (1 if gender == "M" else 0)
    first17 = f"{area}{birth:%Y%m%d}{(n // 5) % 100:02d}{sex_digit}"
    return first17 + check_digit(first17)


def _phone(rng: random.Random, prefix: str = "13") -> str:
    return f"{prefix}{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"


@transaction.atomic
def seed() -> None:
    liaison = User.objects.filter(phone="13900000001").first()
    villages = {r.code: r for r in Region.objects.filter(code__in=[VILLAGE, *NEIGHBOURS])}
    if VILLAGE not in villages:
        return
    plan = [VILLAGE] * 36 + [code for code in NEIGHBOURS for _ in range(3)]
    now = timezone.now()
    for n, code in enumerate(plan, start=1):
        rng = random.Random(n)  # noqa: S311 — demo data; one generator per elder keeps re-runs identical
        village = villages[code]
        gender = "F" if n % 2 else "M"
        age = rng.choice([62, 65, 67, 69, 71, 73, 74, 76, 78, 79, 81, 82, 84, 86, 88, 91])
        birth = datetime.date(2026 - age, rng.randint(1, 12), rng.randint(1, 28))
        number = _id_number("640422", birth, gender, n)
        id_hash = keyed_hash(number)
        if Elder.objects.filter(id_hash=id_hash).exists():
            continue
        surname = SURNAMES[n % len(SURNAMES)]
        name = surname + rng.choice(GIVEN_F if gender == "F" else GIVEN_M)
        economic = rng.choices(
            [
                EconomicStatus.GENERAL,
                EconomicStatus.SUBSISTENCE,
                EconomicStatus.REGISTERED_POOR,
                EconomicStatus.DESTITUTE,
            ],
            weights=[55, 25, 15, 5],
        )[0]
        ability = rng.choices(
            [AbilityLevel.INTACT, AbilityLevel.MILD, AbilityLevel.MODERATE, AbilityLevel.SEVERE, AbilityLevel.TOTAL],
            weights=[50, 25, 12, 9, 4],
        )[0]
        living = rng.choices(
            [LivingArrangement.ALONE, LivingArrangement.COUPLE, LivingArrangement.WITH_GRANDCHILDREN],
            weights=[35, 50, 15],
        )[0]
        children = rng.randint(1, 5)
        group = rng.randint(1, 8)
        last_visit = now - datetime.timedelta(days=rng.choice([1, 3, 6, 9, 15, 24, 40, 75])) if n % 7 else None
        elder = Elder.objects.create(
            name=name,
            gender=gender,
            birth_date=birth,
            id_number=number,
            id_hash=id_hash,
            village=village,
            address=f"{village.name.removesuffix('村委会')}村{group}组{rng.randint(1, 60)}号",
            phone=_phone(rng) if rng.random() < 0.6 else "",
            income_sources=rng.choice(INCOME),
            left_behind_basis=LeftBehindBasis.CHILDREN_AWAY if n % 5 else LeftBehindBasis.NO_CAPABLE_SUPPORTER,
            family_structure=f"子女{children}人，均在外务工"
            + ("；配偶同住" if living == LivingArrangement.COUPLE else ""),
            children_count=children,
            living_arrangement=living,
            health=rng.choice(HEALTH),
            ability_level=ability,
            economic_status=economic,
            care_situation=rng.choice(["邻居偶尔照看", "配偶照料", "侄子每周探望", "生活基本自理", "孙辈放学后帮忙"]),
            difficulties=rng.choice(DIFFICULTIES),
            family_doctor_signed=rng.random() < 0.7,
            fire_safety_needed=rng.random() < 0.3,
            smoke_alarm=rng.random() < 0.4,
            sprinkler=rng.random() < 0.2,
            last_visit_at=last_visit,
            last_home_visit_at=last_visit if last_visit and rng.random() < 0.5 else None,
            created_by=liaison,
        )
        ElderChange.objects.create(
            elder=elder,
            kind=ElderChangeKind.CREATE,
            actor=liaison,
            at=now - datetime.timedelta(days=120),
            changes={"name": [None, name], "village": [None, village.code]},
        )
        contacts = []
        for c in range(rng.randint(0 if n % 9 == 0 else 1, 3)):
            child_gender = rng.choice("MF")
            contact = FamilyContact.objects.create(
                elder=elder,
                name=surname + rng.choice(CHILD_GIVEN),
                relation="儿子" if child_gender == "M" else "女儿",
                phone=_phone(rng, "15") if rng.random() < 0.85 else "",
                works_in=rng.choice(WORK_PLACES),
                can_support=rng.random() < 0.8,
                is_primary=c == 0,
            )
            contacts.append(contact)
        if contacts and n % 5 == 0:
            CareAgreement.objects.create(
                elder=elder,
                supporter=contacts[0],
                carer_name=rng.choice(["马", "李", "杨"]) + rng.choice(["大姐", "二哥", "婶婶"]),
                carer_relation=rng.choice(["侄女", "邻居", "堂兄"]),
                carer_phone=_phone(rng, "18"),
                start_date=datetime.date(2026, rng.randint(1, 6), 1),
                created_by=liaison,
            )
        if contacts and n in (3, 11, 20):  # supporters who needed reminding more than once
            for days in (160, 40) if n != 20 else (60,):
                DutyReminder.objects.create(
                    elder=elder,
                    contact=contacts[0],
                    reminded_at=now - datetime.timedelta(days=days),
                    method=DutyMethod.PHONE,
                    finding="三个月未给老人打电话，未寄生活费",
                    said="按照《老年人权益保障法》，子女应经常看望或者问候老人，请每周给老人打电话、按时寄生活费。",
                    answer="答应每周打电话，春节回家" if days != 40 else "说工作忙，月底寄钱",
                    recorded_by=liaison,
                )
