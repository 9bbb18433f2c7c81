"""The monthly draw of spot checks (抽查): seeded, stratified by township and provider, reproducible.

`population` lists what may be drawn in a region and month — logged visits where contact was made, and
confirmed (or settled) purchased-service records to an elder that were not reversed — each with its stratum:
the township for visits, the township and the provider for records. `sample` draws from each stratum
ceil(share × size) items (at least one from a stratum that has any) with a generator seeded from the draw's
seed and the stratum's name, so the same seed over the same population gives the same sample on any machine.
"""

import datetime
import math
import random
import secrets
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef

from portal.scoping import prefix_range
from services.care.models import Visit
from services.purchasing.rules import month_bounds
from services.records.models import COUNTED_STATUSES, RecordKind, ServiceRecord

VISIT = "visit"
PURCHASED = "purchased"


def default_share() -> Decimal:
    share = Decimal(str(getattr(settings, "SPOTCHECK_SHARE", "0.05")))
    return min(max(share, Decimal("0.0001")), Decimal(1))


def new_seed() -> int:
    return secrets.randbits(48)


def population(prefix: str, month: datetime.date) -> dict[str, list[tuple]]:
    """{stratum: [(kind, pk, elder_id, village_code, organisation_id), …]} sorted by pk inside each stratum."""
    start, end = month_bounds(month)
    low, high = prefix_range(prefix)
    strata: dict[str, list[tuple]] = {}
    visits = (
        Visit.objects.filter(
            contact_made=True, visited_at__gte=start, visited_at__lt=end, elder__village__code__range=(low, high)
        )
        .order_by("pk")
        .values_list("pk", "elder_id", "elder__village_id")
    )
    for pk, elder_id, village in visits:
        strata.setdefault(f"visit:{village[:9]}", []).append((VISIT, pk, elder_id, village, None))
    records = (
        ServiceRecord.objects.filter(
            kind=RecordKind.PURCHASED,
            sign=1,
            status__in=COUNTED_STATUSES,
            elder__isnull=False,
            start__gte=start,
            start__lt=end,
            region__pk__range=(low, high),
        )
        .exclude(Exists(ServiceRecord.objects.filter(reverses=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", "elder_id", "region_id", "organisation_id")
    )
    for pk, elder_id, village, organisation_id in records:
        strata.setdefault(f"purchased:{village[:9]}:{organisation_id}", []).append(
            (PURCHASED, pk, elder_id, village, organisation_id)
        )
    return strata


def sample(strata: dict[str, list[tuple]], *, seed: int, share: Decimal) -> list[tuple]:
    """The drawn items, in stratum-name order; the same seed, share and population give the same list."""
    drawn = []
    for name in sorted(strata):
        items = strata[name]
        size = min(len(items), max(1, math.ceil(Decimal(len(items)) * Decimal(share))))
        generator = random.Random(f"{seed}|{name}")  # noqa: S311 — a reproducible sample, not a secret
        drawn.extend(sorted(generator.sample(items, size), key=lambda item: item[1]))
    return drawn
