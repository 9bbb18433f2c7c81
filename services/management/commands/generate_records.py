"""Generate service records at scale for benchmarks: `manage.py generate_records --records 2000000`.

Fast: plain bulk_create in batches, no per-row validation (the data is valid by construction: each giver's
records are consecutive non-overlapping slots going back from yesterday). Minutes come from the one
`minutes_between` helper. Generated givers have phones 187xxxxxxxx and never sign in.

`--focus-phone` gives one existing person (the demo volunteer) `--focus-records` of them, and
`--organisation` (a name) makes one organisation hold a large pending list — what the bench pages show.
"""

import datetime
import random
import time

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from portal.models import Region, User
from services.catalogue.selectors import categories_ensure
from services.models import Elder, ServiceItem
from services.records.models import RecordKind, RecordStatus, ServiceRecord, minutes_between
from volunteers.models import Membership, MembershipStatus, Organisation, OrganisationKind, OrganisationStatus
from volunteers.organisations import kinds_ensure

UNUSABLE = "!"  # noqa: S105 — an unusable password hash
PHONE_PREFIX = "187"
SLOTS = ((8, 0), (10, 30), (14, 0), (16, 30))  # four 2-hour slots a day
COLUMNS = (
    "giver_id",
    "organisation_id",
    "elder_id",
    "region_id",
    "service_item_id",
    "kind",
    "start",
    "end",
    "minutes",
    "sign",
    "place",
    "content",
    "photo",
    "status",
    "reason",
    "confirmed_by_id",
    "confirmed_at",
    "recorded_by_id",
    "created_at",
    "updated_at",
)


class Command(BaseCommand):
    help = "Generate service records (bulk, non-overlapping) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--records", type=int, default=100_000)
        parser.add_argument("--per-giver", type=int, default=400)
        parser.add_argument("--county", default="640422")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--focus-phone", default="")
        parser.add_argument("--focus-records", type=int, default=2_000)
        parser.add_argument("--organisation", default="")
        parser.add_argument("--batch", type=int, default=5_000)

    def handle(self, *args, **opts):
        started = time.monotonic()
        rng = random.Random(opts["seed"])  # noqa: S311 — benchmark data, not secrets
        total = opts["records"]
        per_giver = max(1, opts["per_giver"])
        villages = list(
            Region.objects.filter(level="village", code__startswith=opts["county"]).values_list("code", flat=True)
        )
        if not villages:
            self.stderr.write("No villages: run load_regions first.")
            return
        categories = categories_ensure()
        items = list(ServiceItem.objects.filter(professional=False).values_list("pk", flat=True))
        if not items:
            items = [
                ServiceItem.objects.create(category=c, name=f"{c.name}服务", description=c.name).pk
                for c in categories[:4]
            ]
        kinds_ensure()
        organisation = None
        if opts["organisation"]:
            organisation = Organisation.objects.filter(name=opts["organisation"]).first()
        if organisation is None:
            organisation, _ = Organisation.objects.get_or_create(
                name="生成数据志愿服务队",
                defaults={
                    "kind": OrganisationKind.objects.first(),
                    "region_id": villages[0],
                    "contact_name": "生成",
                    "contact_phone": "13900009999",
                    "status": OrganisationStatus.APPROVED,
                },
            )
        # elders: the county's existing ones, else the generated givers serve activities-free elder records
        elders = list(
            Elder.objects.filter(village__code__startswith=opts["county"]).values_list("pk", "village_id")[:5000]
        )
        if not elders:
            self.stderr.write("No elders in the county: run generate_load or seed_demo first.")
            return

        # givers
        focus = User.objects.filter(phone=opts["focus_phone"]).first() if opts["focus_phone"] else None
        focus_count = min(opts["focus_records"], total) if focus else 0
        giver_count = -(-(total - focus_count) // per_giver)
        existing = User.objects.filter(phone__startswith=PHONE_PREFIX).count()
        if existing < giver_count:
            User.objects.bulk_create(
                [
                    User(phone=f"{PHONE_PREFIX}{n:08d}", real_name=f"服务者{n}", password=UNUSABLE)
                    for n in range(existing, giver_count)
                ],
                ignore_conflicts=True,
                batch_size=5000,
            )
        giver_ids = list(
            User.objects.filter(phone__startswith=PHONE_PREFIX)
            .order_by("pk")
            .values_list("pk", flat=True)[:giver_count]
        )
        joined = timezone.now() - datetime.timedelta(days=3 * 365)
        people = giver_ids + ([focus.pk] if focus else [])
        Membership.objects.bulk_create(
            [Membership(organisation=organisation, user_id=pk, status=MembershipStatus.ACTIVE) for pk in people],
            ignore_conflicts=True,
            batch_size=5000,
        )
        Membership.objects.filter(organisation=organisation, user_id__in=people).update(created_at=joined)
        recorder = focus.pk if focus else giver_ids[0]

        adapted: dict = {}

        def adapt(value):  # the same few hundred instants repeat for every giver
            if value not in adapted:
                adapted[value] = connection.ops.adapt_datetimefield_value(value)
            return adapted[value]

        now = adapt(timezone.now())
        today = timezone.localdate()
        tz = timezone.get_current_timezone()
        submitted_window = 10  # the newest days stay submitted: the pending list

        def rows(giver_pk: int, count: int):
            for j in range(count):
                day_back, slot = divmod(j, len(SLOTS))
                day = today - datetime.timedelta(days=1 + day_back)
                hour, minute = SLOTS[slot]
                start = datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
                end = start + datetime.timedelta(minutes=rng.choice((60, 90, 120)))
                elder_pk, village = elders[rng.randrange(len(elders))]
                roll = rng.random()
                if day_back < submitted_window:
                    status, reason = RecordStatus.SUBMITTED, ""
                elif roll < 0.04:
                    status, reason = RecordStatus.REJECTED, "时间不符"
                else:
                    status, reason = RecordStatus.CONFIRMED, ""
                confirmed = status != RecordStatus.SUBMITTED
                yield (
                    giver_pk,
                    organisation.pk,
                    elder_pk,
                    village,
                    items[rng.randrange(len(items))],
                    RecordKind.PURCHASED.value if roll > 0.9 else RecordKind.VOLUNTEER.value,
                    adapt(start),
                    adapt(end),
                    minutes_between(start, end),
                    1,
                    "老人家中",
                    "生活照料、陪伴聊天",
                    "",
                    status.value,
                    reason,
                    recorder if confirmed else None,
                    adapt(end + datetime.timedelta(days=1)) if confirmed else None,
                    recorder,
                    now,
                    now,
                )

        def plan():
            if focus:
                yield from rows(focus.pk, focus_count)
            left = total - focus_count
            for pk in giver_ids:
                if left <= 0:
                    return
                count = min(per_giver, left)
                yield from rows(pk, count)
                left -= count

        # Plain executemany of prepared tuples: the ORM's per-field preparation costs ~2 ms a row.
        table = ServiceRecord._meta.db_table
        qn = connection.ops.quote_name
        sql = (
            f"INSERT INTO {qn(table)} ({', '.join(qn(c) for c in COLUMNS)}) "  # noqa: S608 — names from the model
            f"VALUES ({', '.join(['%s'] * len(COLUMNS))})"
        )
        made, batch = 0, []

        def flush(rows_):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows_)

        for row in plan():
            batch.append(row)
            if len(batch) >= opts["batch"]:
                flush(batch)
                made += len(batch)
                batch = []
        if batch:
            flush(batch)
            made += len(batch)
        seconds = time.monotonic() - started
        per_100k = seconds / max(made, 1) * 100_000
        self.stdout.write(f"{made:,} records in {seconds:.1f} s ({per_100k:.1f} s per 100k)")
