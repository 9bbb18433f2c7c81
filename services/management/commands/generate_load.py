"""python manage.py generate_load --elders N [--seed S]

Generated elders spread over Ningxia's rural villages (村委会, weighted so some villages are large),
with valid ID numbers, a family contact for most, then visits and alerts from services.care.load.
Elders through one executemany per batch, contacts through bulk_create: 100,000 elders take about a
minute on SQLite on a laptop.
"""

import datetime
import random
import time

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from portal.identity import check_digit, keyed_hash
from portal.models import Region, RegionLevel
from services.care.load import generate
from services.care.state import rebuild
from services.ledger.imports import _insert_elders
from services.ledger.models import (
    AbilityLevel,
    EconomicStatus,
    Elder,
    FamilyContact,
    LivingArrangement,
)

SURNAMES = "马李杨王张海田苏何周金刘陈赵黄吴冯韩丁罗"
_GIVEN = "秀英桂兰玉兰凤英福贵德福有才永福占山志明文斌国强建华进财成林万福学义明德翠花金花"
GIVEN = [_GIVEN[i : i + 2] for i in range(0, len(_GIVEN), 2)]
BATCH = 2000


class Command(BaseCommand):
    help = "Generate N elders (with families, visits and alerts) for load tests and benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--elders", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args, elders: int, seed: int, **options):
        started = time.perf_counter()
        rng = random.Random(seed)  # noqa: S311 — load data, not security
        villages = list(
            Region.objects.filter(level=RegionLevel.VILLAGE, name__endswith="村委会").values_list("code", flat=True)
        ) or list(Region.objects.filter(level=RegionLevel.VILLAGE).values_list("code", flat=True))
        weights = [rng.choice((1, 1, 2, 3, 5)) for _ in villages]
        taken = set(Elder.objects.values_list("id_hash", flat=True))
        serials: dict[tuple, int] = {}
        today = timezone.localdate()
        now = timezone.now()
        created_ids: list[int] = []
        with transaction.atomic():
            remaining = elders
            while remaining > 0:
                size = min(BATCH, remaining)
                batch = []
                for village in rng.choices(villages, weights=weights, k=size):
                    gender = rng.choice("MF")
                    age = min(99, 60 + int(rng.expovariate(1 / 11)))
                    # born in the year before (today.year - age): whatever the day, the elder is `age` or one
                    # year older today, never younger than 60
                    birth = today.replace(year=today.year - age - 1, month=rng.randint(1, 12), day=rng.randint(1, 28))
                    area = village[:6]
                    while True:
                        key = (area, birth, gender)
                        n = serials.get(key, 0)
                        serials[key] = n + 1
                        if n >= 500:  # this day is full: move one day
                            birth -= datetime.timedelta(days=1)
                            continue
                        first17 = f"{area}{birth:%Y%m%d}{n // 5:02d}{(n % 5) * 2 + (gender == 'M')}"
                        number = first17 + check_digit(first17)
                        id_hash = keyed_hash(number)
                        if id_hash not in taken:
                            taken.add(id_hash)
                            break
                    last_visit = (
                        now - datetime.timedelta(days=rng.randint(0, 90), hours=rng.randint(0, 23))
                        if rng.random() < 0.9
                        else None
                    )
                    batch.append(
                        Elder(
                            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                            gender=gender,
                            birth_date=birth,
                            id_number=number,
                            id_hash=id_hash,
                            village_id=village,
                            address=f"{rng.randint(1, 9)}组{rng.randint(1, 80)}号",
                            phone=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
                            if rng.random() < 0.6
                            else "",
                            children_count=rng.randint(1, 5),
                            living_arrangement=rng.choices(
                                [
                                    LivingArrangement.ALONE,
                                    LivingArrangement.COUPLE,
                                    LivingArrangement.WITH_GRANDCHILDREN,
                                ],
                                weights=[35, 50, 15],
                            )[0],
                            ability_level=rng.choices(list(AbilityLevel.values), weights=[50, 25, 12, 9, 4])[0],
                            economic_status=rng.choices(list(EconomicStatus.values), weights=[5, 25, 15, 55])[0],
                            family_doctor_signed=rng.random() < 0.7,
                            last_visit_at=last_visit,
                            last_home_visit_at=last_visit if last_visit and rng.random() < 0.4 else None,
                        )
                    )
                new_ids = _insert_elders(batch, now=now)  # executemany: the ORM's per-field work is the cost
                ids = [new_ids[e.id_hash] for e in batch]
                created_ids.extend(ids)
                FamilyContact.objects.bulk_create(
                    [
                        FamilyContact(
                            elder_id=pk,
                            name=rng.choice(SURNAMES) + rng.choice("强军勇伟杰花霞燕娟平"),
                            relation=rng.choice(("儿子", "女儿", "儿媳")),
                            phone=f"15{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
                            if rng.random() < 0.85
                            else "",
                            works_in=rng.choice(("银川市", "石嘴山市", "固原市", "西安市", "福州市")),
                            can_support=rng.random() < 0.8,
                            is_primary=True,
                        )
                        for pk in ids
                        if rng.random() < 0.8
                    ],
                    batch_size=BATCH,
                )
                remaining -= size
        elder_seconds = time.perf_counter() - started

        counts = generate(elder_ids=created_ids, seed=seed) or {}
        if created_ids:  # bulk inserts bypass the domain functions: compute the stored state (set-based)
            rebuild(elders=Elder.objects.filter(pk__gte=min(created_ids), pk__lte=max(created_ids)))
        total = time.perf_counter() - started
        extra = ", ".join(f"{k}: {v}" for k, v in counts.items())
        self.stdout.write(
            f"Generated {len(created_ids)} elders in {elder_seconds:.1f} s"
            + (f"; {extra}" if extra else "")
            + f" (total {total:.1f} s)."
        )
