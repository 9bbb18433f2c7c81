"""Supervision dashboards (督促检查): the figures a county or township officer or a supervisor checks over an
area and a period, and the ranking of places by the policy's warning signs.

The policy (宁民发〔2018〕105号 四(四)) asks county and township governments to check the work and act
where 底数不清 (the ledger is not kept up to date), 风险隐患排查不扎实 (visits are not made) or 突发事件处置
不及时 (emergencies are handled late). Those three signs are measured here:

- 底数不清: active elders whose ledger entry was not updated for `SUPERVISION_LEDGER_STALE_DAYS` days
  (default 90), and villages with no elder on the ledger at all;
- 巡访不实: active elders overdue a visit under their visit plan (the same SQL as the visits-due list);
- 处置不及时: open alerts whose next step is overdue.

Speed. Every section is one aggregate query with GROUP BY and conditional aggregation, grouped by village
and rolled up to the area's next level in Python (at most one row per village × priority or kind), so a
county of 100,000 elders is a handful of queries whatever its size. Medians of the alert times: on
PostgreSQL in the database (percentile_cont); on SQLite, which has no percentile function, one query
fetches only the durations column of the period's alerts, already sorted, and the median is taken in
Python — bounded by the number of alerts of one area and period.

Scope: the caller checks that the chosen region is in the user's scope (else 404); every query also goes
through portal.scoping.scope_queryset, so no figure can include a row outside it.
"""

import datetime
import statistics
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Max,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.aggregates import Aggregate
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import PREFIX_LENGTH, Region, RegionLevel, RoleKind
from portal.scoping import prefix_range, scope_prefixes, scope_queryset
from services.care.models import Alert, AlertKind, AlertStatus, AlertStep, Visit, VisitMethod
from services.care.visits import plan_for, with_due_dates
from services.catalogue.models import ServiceItem
from services.family.models import FamilyContactLog
from services.ledger.models import Elder, ElderStatus, PriorityLevel
from services.pairing.models import Pairing, PairingStatus
from services.purchasing.models import SPENT_STATUSES, PurchaseContract, Settlement
from services.purchasing.selectors import spend_by_contract
from services.records.models import COUNTED_STATUSES, RecordKind, ServiceRecord
from services.referrals import selectors as referral_reads
from services.referrals.models import ReferralKind
from services.spotchecks import selectors as spot_reads
from volunteers.models import Organisation

SUPERVISION_ROLES = (
    RoleKind.TOWNSHIP_OFFICER,
    RoleKind.COUNTY_OFFICER,
    RoleKind.SUPERVISOR,
    RoleKind.REGION_ADMIN,
)
DEFAULT_STALE_DAYS = 90

# the level whose regions a dashboard of each level is broken down by
CHILD_LEVEL = {
    RegionLevel.PROVINCE: RegionLevel.CITY,
    RegionLevel.CITY: RegionLevel.COUNTY,
    RegionLevel.COUNTY: RegionLevel.TOWNSHIP,
    RegionLevel.TOWNSHIP: RegionLevel.VILLAGE,
    RegionLevel.VILLAGE: RegionLevel.VILLAGE,
}

SIGN_LEDGER = "ledger"  # 底数不清
SIGN_VISITS = "visits"  # 巡访不实
SIGN_ALERTS = "alerts"  # 处置不及时
SIGN_LABELS = {
    SIGN_LEDGER: _("Ledger not kept up to date"),
    SIGN_VISITS: _("Visits overdue"),
    SIGN_ALERTS: _("Alerts handled late"),
}


def percent(share: float | None) -> str:
    """A share for display: "85%", or "—" when there is nothing to divide by."""
    return "—" if share is None else f"{round(share * 100)}%"


def stale_days() -> int:
    """Days after which an elder's ledger entry counts as not kept up to date (底数不清)."""
    return int(getattr(settings, "SUPERVISION_LEDGER_STALE_DAYS", DEFAULT_STALE_DAYS))


# --- periods ---------------------------------------------------------------------------------------

THIS_MONTH = "this_month"
LAST_MONTH = "last_month"
THIS_QUARTER = "this_quarter"
THIS_YEAR = "this_year"
CUSTOM = "custom"
PRESETS = {
    THIS_MONTH: _("This month"),
    LAST_MONTH: _("Last month"),
    THIS_QUARTER: _("This quarter"),
    THIS_YEAR: _("This year"),
    CUSTOM: _("From – to"),
}


@dataclass(frozen=True)
class Period:
    """A range of whole local days, both ends included."""

    start: datetime.date
    end: datetime.date
    preset: str = CUSTOM

    @property
    def start_at(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.start, datetime.time.min))

    @property
    def end_before(self) -> datetime.datetime:
        """The first moment after the period (exclusive bound)."""
        return timezone.make_aware(datetime.datetime.combine(self.end + datetime.timedelta(days=1), datetime.time.min))

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def elapsed_days(self, today: datetime.date | None = None) -> int:
        """Days of the period up to today: visits can only be due on days that have passed."""
        today = today or timezone.localdate()
        last = min(self.end, today)
        return max(0, (last - self.start).days + 1)

    @property
    def label(self) -> str:
        return str(PRESETS.get(self.preset, PRESETS[CUSTOM]))


def preset_period(preset: str, today: datetime.date | None = None) -> Period:
    today = today or timezone.localdate()
    first = today.replace(day=1)
    if preset == LAST_MONTH:
        end = first - datetime.timedelta(days=1)
        return Period(end.replace(day=1), end, LAST_MONTH)
    if preset == THIS_QUARTER:
        start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        return Period(start, _month_end(start.replace(month=start.month + 2)), THIS_QUARTER)
    if preset == THIS_YEAR:
        return Period(today.replace(month=1, day=1), today.replace(month=12, day=31), THIS_YEAR)
    return Period(first, _month_end(first), THIS_MONTH)


def _month_end(day: datetime.date) -> datetime.date:
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


# --- regions ---------------------------------------------------------------------------------------


def root_regions(user) -> list[Region]:
    """The regions where the user holds a supervision role (all of Ningxia for a superuser), widest first."""
    prefixes = scope_prefixes(user, SUPERVISION_ROLES)
    if prefixes is None:
        return list(Region.objects.filter(level=RegionLevel.PROVINCE).order_by("code"))
    codes = [p.ljust(12, "0") for p in prefixes]
    return sorted(Region.objects.filter(code__in=codes), key=lambda r: (len(r.prefix), r.code))


def child_code(village_code: str, level: str) -> str:
    """The code of the region of `level` that holds a village."""
    return village_code[: PREFIX_LENGTH[level]].ljust(12, "0")


# --- the figures -----------------------------------------------------------------------------------


class Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median in the database."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


class EpochSeconds(Func):
    """Seconds of a PostgreSQL interval."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


@dataclass
class AreaRow:
    """One place (a child area or a village) with its counts; rolled up from village rows."""

    code: str
    name: str = ""
    level: str = ""
    active: int = 0
    key: int = 0
    key_paired: int = 0
    overdue_visits: int = 0
    stale: int = 0
    last_update: datetime.datetime | None = None
    visits_expected: float = 0.0
    visits_done: int = 0
    home_visits: int = 0
    elders_reached: int = 0
    alerts_reported: int = 0
    alerts_open: int = 0
    alerts_overdue: int = 0

    def add(self, other: "AreaRow") -> None:
        for name in (
            "active",
            "key",
            "key_paired",
            "overdue_visits",
            "stale",
            "visits_expected",
            "visits_done",
            "home_visits",
            "elders_reached",
            "alerts_reported",
            "alerts_open",
            "alerts_overdue",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.last_update and (self.last_update is None or other.last_update > self.last_update):
            self.last_update = other.last_update

    @property
    def visits_expected_whole(self) -> int:
        return round(self.visits_expected)

    @property
    def key_paired_share(self) -> float | None:
        return self.key_paired / self.key if self.key else None

    @property
    def overdue_share(self) -> float | None:
        return self.overdue_visits / self.active if self.active else None

    @property
    def stale_share(self) -> float | None:
        return self.stale / self.active if self.active else None

    @property
    def done_share(self) -> float | None:
        return self.visits_done / self.visits_expected if self.visits_expected >= 0.5 else None

    @property
    def key_paired_pct(self) -> str:
        return percent(self.key_paired_share)

    @property
    def done_pct(self) -> str:
        return percent(self.done_share)

    @property
    def overdue_pct(self) -> str:
        return percent(self.overdue_share)

    @property
    def stale_pct(self) -> str:
        return percent(self.stale_share)

    def days_since_update(self, now: datetime.datetime) -> int | None:
        return (now - self.last_update).days if self.last_update else None

    def signs(self, now: datetime.datetime, days: int) -> list[str]:
        """The warning signs this place shows (see the module docstring)."""
        found = []
        since = self.days_since_update(now)
        if self.active == 0 or self.stale or since is None or since >= days:
            found.append(SIGN_LEDGER)
        if self.overdue_visits:
            found.append(SIGN_VISITS)
        if self.alerts_overdue:
            found.append(SIGN_ALERTS)
        return found


@dataclass
class KindRow:
    kind: str
    label: str
    reported: int = 0
    closed: int = 0
    open_now: int = 0
    overdue_now: int = 0
    median_ack_hours: float | None = None
    median_close_hours: float | None = None


@dataclass
class HoursRow:
    key: object
    name: str
    volunteer_minutes: int = 0
    purchased_minutes: int = 0
    records: int = 0

    @property
    def volunteer_hours(self) -> float:
        return round(self.volunteer_minutes / 60, 1)

    @property
    def purchased_hours(self) -> float:
        return round(self.purchased_minutes / 60, 1)

    @property
    def total_hours(self) -> float:
        return round((self.volunteer_minutes + self.purchased_minutes) / 60, 1)


@dataclass
class Dashboard:
    region: Region
    period: Period
    now: datetime.datetime
    stale_days: int
    child_level: str
    total: AreaRow
    areas: list[AreaRow]
    villages: list[AreaRow]
    kinds: list[KindRow]
    categories: list[HoursRow]
    organisations: list[HoursRow]
    spend: dict | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ranking(self) -> list[AreaRow]:
        return rank(self.villages, now=self.now, days=self.stale_days)


def _village_rows(user, prefix: str, *, now: datetime.datetime, period: Period, days: int) -> dict[str, AreaRow]:
    """Elders, visits and alerts per village: three GROUP BY queries."""
    low, high = prefix_range(prefix)
    rows: dict[str, AreaRow] = {}

    def row(code: str) -> AreaRow:
        if code not in rows:
            rows[code] = AreaRow(code=code, level=RegionLevel.VILLAGE)
        return rows[code]

    # 1. elders on the ledger: priority, pairing, overdue visits, staleness, per village × priority.
    # "Active" is a condition of each count, not of the WHERE clause: the area's code range is then the only
    # index condition, so every database reads just the area's elders (SQLite would otherwise walk the
    # status index over all elders of the province; nearly every elder is active anyway).
    active = Q(status=ElderStatus.ACTIVE)
    active_pairing = Pairing.objects.filter(elder=OuterRef("pk"), status=PairingStatus.ACTIVE)
    elders = scope_queryset(user, Elder.objects.filter(village__code__range=(low, high)))
    stale_before = now - datetime.timedelta(days=days)
    elapsed = period.elapsed_days(timezone.localtime(now).date())
    grouped = (
        with_due_dates(elders, now=now)
        .annotate(paired=Exists(active_pairing))
        .values("village_id", "priority_level")
        .annotate(
            n=Count("pk", filter=active),
            paired_n=Count("pk", filter=active & Q(paired=True)),
            overdue=Count("pk", filter=active & Q(next_due__lt=now)),
            stale=Count("pk", filter=active & Q(updated_at__lt=stale_before)),
            last_update=Max("updated_at", filter=active),
        )
        .order_by()
    )
    for g in grouped:
        if not g["n"]:
            continue  # only elders who left the ledger
        r = row(g["village_id"])
        r.active += g["n"]
        r.overdue_visits += g["overdue"]
        r.stale += g["stale"]
        if g["priority_level"] == PriorityLevel.KEY:
            r.key += g["n"]
            r.key_paired += g["paired_n"]
        if g["last_update"] and (r.last_update is None or g["last_update"] > r.last_update):
            r.last_update = g["last_update"]
        # planned contacts in the days of the period so far, under the elder's visit plan
        plan = plan_for(village_code=g["village_id"], priority=g["priority_level"])
        r.visits_expected += g["n"] * elapsed / plan["contact_days"]

    # 2. visits made in the period
    visits = scope_queryset(
        user,
        Visit.objects.filter(
            elder__village__code__range=(low, high), visited_at__gte=period.start_at, visited_at__lt=period.end_before
        ),
        region_field="elder__village",
    )
    contact = Q(contact_made=True)
    for g in (
        visits.values("elder__village_id")
        .annotate(
            done=Count("pk", filter=contact),
            home=Count("pk", filter=contact & Q(method=VisitMethod.HOME)),
            reached=Count("elder_id", filter=contact, distinct=True),
        )
        .order_by()
    ):
        r = row(g["elder__village_id"])
        r.visits_done += g["done"]
        r.home_visits += g["home"]
        r.elders_reached += g["reached"]

    # 3. alerts: reported in the period; open and overdue now (whenever reported)
    in_period = Q(created_at__gte=period.start_at, created_at__lt=period.end_before)
    is_open = ~Q(status=AlertStatus.CLOSED)
    alerts = scope_queryset(user, Alert.objects.filter(village__code__range=(low, high)).filter(in_period | is_open))
    for g in (
        alerts.values("village_id")
        .annotate(
            reported=Count("pk", filter=in_period),
            open_now=Count("pk", filter=is_open),
            overdue=Count("pk", filter=is_open & Q(due_at__lt=now)),
        )
        .order_by()
    ):
        r = row(g["village_id"])
        r.alerts_reported += g["reported"]
        r.alerts_open += g["open_now"]
        r.alerts_overdue += g["overdue"]
    return rows


def alert_kinds(user, prefix: str, *, now: datetime.datetime, period: Period) -> list[KindRow]:
    """Alerts by kind: counts (one query) and the medians of the hours to acknowledge and to close."""
    low, high = prefix_range(prefix)
    in_period = Q(created_at__gte=period.start_at, created_at__lt=period.end_before)
    is_open = ~Q(status=AlertStatus.CLOSED)
    base = scope_queryset(user, Alert.objects.filter(village__code__range=(low, high)))
    rows = {kind: KindRow(kind=kind, label=str(label)) for kind, label in AlertKind.choices}
    for g in (
        base.filter(in_period | is_open)
        .values("kind")
        .annotate(
            reported=Count("pk", filter=in_period),
            closed=Count("pk", filter=in_period & Q(status=AlertStatus.CLOSED)),
            open_now=Count("pk", filter=is_open),
            overdue=Count("pk", filter=is_open & Q(due_at__lt=now)),
        )
        .order_by()
    ):
        r = rows[g["kind"]]
        r.reported, r.closed, r.open_now, r.overdue_now = g["reported"], g["closed"], g["open_now"], g["overdue"]

    period_alerts = base.filter(in_period)
    acks = scope_queryset(
        user,
        AlertStep.objects.filter(
            status=AlertStatus.ACKNOWLEDGED,
            alert__village__code__range=(low, high),
            alert__created_at__gte=period.start_at,
            alert__created_at__lt=period.end_before,
        ),
        region_field="alert__village",
    )
    if connection.vendor == "postgresql":
        for g in period_alerts.values("kind").annotate(m=Median(EpochSeconds(F("closed_at") - F("created_at")))):
            rows[g["kind"]].median_close_hours = _hours(g["m"])
        for g in acks.values("alert__kind").annotate(m=Median(EpochSeconds(F("at") - F("alert__created_at")))):
            rows[g["alert__kind"]].median_ack_hours = _hours(g["m"])
    else:
        # SQLite: no percentile function; fetch the sorted durations column only (one area, one period)
        close = ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField())
        for kind, values in _grouped_sorted(
            period_alerts.filter(closed_at__isnull=False)
            .annotate(d=close)
            .order_by("kind", "d")
            .values_list("kind", "d")
        ).items():
            rows[kind].median_close_hours = _hours(statistics.median(values))
        ack = ExpressionWrapper(F("at") - F("alert__created_at"), output_field=DurationField())
        for kind, values in _grouped_sorted(
            acks.annotate(d=ack).order_by("alert__kind", "d").values_list("alert__kind", "d")
        ).items():
            rows[kind].median_ack_hours = _hours(statistics.median(values))
    return list(rows.values())


def _grouped_sorted(pairs) -> dict[str, list[float]]:
    grouped: dict[str, list[float]] = defaultdict(list)
    for kind, duration in pairs:
        if duration is not None:
            grouped[kind].append(duration.total_seconds())
    return grouped


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 1)


def service_hours(user, prefix: str, *, period: Period) -> tuple[list[HoursRow], list[HoursRow]]:
    """Confirmed and settled hours of the period by service category and by organisation, the volunteer and
    purchased ledgers kept apart (reversals subtract: minutes × sign): one GROUP BY query on the records,
    then the names of the few items and organisations found (two small queries)."""

    low, high = prefix_range(prefix)
    records = scope_queryset(
        user,
        ServiceRecord.objects.filter(
            region__code__range=(low, high),
            status__in=COUNTED_STATUSES,
            start__gte=period.start_at,
            start__lt=period.end_before,
        ),
        region_field="region",
    )
    # grouped on the record's own columns only (no join over the period's rows), names looked up after
    grouped = list(
        records.values("kind", "service_item_id", "organisation_id")
        .annotate(minutes=Sum(F("minutes") * F("sign")), n=Count("pk"))
        .order_by()
    )
    items = {
        pk: (category_id, name, order)
        for pk, category_id, name, order in ServiceItem.objects.filter(
            pk__in={g["service_item_id"] for g in grouped}
        ).values_list("pk", "category_id", "category__name", "category__sort_order")
    }
    org_ids = {g["organisation_id"] for g in grouped if g["organisation_id"]}
    org_names = dict(Organisation.objects.filter(pk__in=org_ids).values_list("pk", "name")) if org_ids else {}
    categories: dict[object, HoursRow] = {}
    organisations: dict[object, HoursRow] = {}
    order: dict[object, int] = {}
    no_org = str(_("No organisation (individual volunteers)"))
    for g in grouped:
        cat_key, cat_name, cat_order = items[g["service_item_id"]]
        org_key = g["organisation_id"]
        order[cat_key] = cat_order or 0
        targets = (
            categories.setdefault(cat_key, HoursRow(key=cat_key, name=cat_name)),
            organisations.setdefault(org_key, HoursRow(key=org_key, name=org_names.get(org_key) or no_org)),
        )
        for target in targets:
            if g["kind"] == RecordKind.PURCHASED:
                target.purchased_minutes += g["minutes"] or 0
            else:
                target.volunteer_minutes += g["minutes"] or 0
            target.records += g["n"]
    by_category = sorted(categories.values(), key=lambda r: (order.get(r.key, 0), r.name))
    by_org = sorted(organisations.values(), key=lambda r: (-(r.volunteer_minutes + r.purchased_minutes), r.name))
    return by_category, by_org


def purchasing_spend(user, prefix: str, *, period: Period) -> dict | None:
    """Purchasing contracts bought by the area (its county or townships) that run in the period: budget,
    spent to date (approved and paid settlements, `services.purchasing.selectors.spend_by_contract`) and spent on the
    months of the period. One query (two correlated subqueries).
    """

    low, high = prefix_range(prefix)
    contracts = scope_queryset(
        user,
        PurchaseContract.objects.filter(region__code__range=(low, high), start__lte=period.end, end__gte=period.start),
        region_field="region",
    )
    in_period = (
        Settlement.objects.filter(
            contract=OuterRef("pk"),
            status__in=SPENT_STATUSES,
            month__gte=period.start.replace(day=1),
            month__lte=period.end,
        )
        .order_by()
        .values("contract")
        .annotate(s=Sum("total"))
        .values("s")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    contracts = (
        spend_by_contract(contracts)
        .annotate(
            spent_period=Coalesce(Subquery(in_period, output_field=money), Value(Decimal("0.00")), output_field=money)
        )
        .select_related("organisation", "region")
        .order_by("region_id", "-start", "pk")
    )
    rows = [
        {
            "pk": c.pk,
            "name": str(c),
            "organisation": c.organisation.name,
            "buyer": c.region.name,
            "start": c.start,
            "end": c.end,
            "budget": c.budget,
            "spent": c.spent,
            "spent_period": c.spent_period,
            "percent": round(100 * c.spent / c.budget) if c.budget else None,
        }
        for c in contracts
    ]
    zero = Decimal("0.00")
    return {
        "rows": rows,
        "budget": sum((r["budget"] for r in rows), zero),
        "spent": sum((r["spent"] for r in rows), zero),
        "spent_period": sum((r["spent_period"] for r in rows), zero),
    }


def _roll_up(villages: dict[str, AreaRow], level: str, names: dict[str, tuple[str, str]]) -> list[AreaRow]:
    """Village rows → rows of the regions of `level` that hold them (every such region listed, even empty)."""
    length = PREFIX_LENGTH[level]
    areas = {code: AreaRow(code=code, name=name, level=lvl) for code, (name, lvl) in names.items() if lvl == level}
    for code, village in villages.items():
        parent = code[:length].ljust(12, "0")
        area = areas.setdefault(parent, AreaRow(code=parent, name=names.get(parent, (parent, level))[0], level=level))
        area.add(village)
    return sorted(areas.values(), key=lambda a: a.code)


def _region_names(prefix: str, levels: set[str]) -> dict[str, tuple[str, str]]:
    low, high = prefix_range(prefix)
    regions = Region.objects.filter(code__range=(low, high), level__in=levels).values_list("code", "name", "level")
    return {code: (name, level) for code, name, level in regions}


@contextmanager
def _without_jit():
    """On PostgreSQL, no JIT compilation for these queries (one transaction, SET LOCAL).

    The priority rule and the due dates make the elder aggregate a large expression with a high cost
    estimate, so PostgreSQL's JIT kicks in and spends seconds compiling a query that runs in a few hundred
    milliseconds (measured on 100,000 elders after ANALYZE: 3 s of JIT for 0.3 s of execution). A site-wide
    `-c jit=off` in the database OPTIONS would make this unnecessary.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def dashboard(user, region: Region, period: Period, *, now: datetime.datetime | None = None) -> Dashboard:
    """All sections of the dashboard of `region` (already checked to be in the user's scope)."""
    with _without_jit():
        return _dashboard(user, region, period, now=now)


def _dashboard(user, region: Region, period: Period, *, now: datetime.datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    days = stale_days()
    prefix = region.prefix
    child_level = CHILD_LEVEL[RegionLevel(region.level)]
    names = _region_names(prefix, {child_level, RegionLevel.VILLAGE})
    village_rows = _village_rows(user, prefix, now=now, period=period, days=days)
    villages = _roll_up(village_rows, RegionLevel.VILLAGE, names)
    areas = villages if child_level == RegionLevel.VILLAGE else _roll_up(village_rows, child_level, names)
    total = AreaRow(code=region.code, name=region.name, level=region.level)
    for village in villages:
        total.add(village)
    categories, organisations = service_hours(user, prefix, period=period)
    return Dashboard(
        region=region,
        period=period,
        now=now,
        stale_days=days,
        child_level=child_level,
        total=total,
        areas=areas,
        villages=villages,
        kinds=alert_kinds(user, prefix, now=now, period=period),
        categories=categories,
        organisations=organisations,
        spend=purchasing_spend(user, prefix, period=period),
    )


# --- the ranking -----------------------------------------------------------------------------------


def rank_key(row: AreaRow, *, now: datetime.datetime, days: int):
    """Where to go first: most warning signs, then overdue alerts (people waiting for help), then the share
    of elders overdue a visit, then the share of stale ledger entries."""
    return (
        -len(row.signs(now, days)),
        -row.alerts_overdue,
        -(row.overdue_share or 0),
        -(row.stale_share if row.active else 1),
        row.code,
    )


def rank(rows: list[AreaRow], *, now: datetime.datetime, days: int) -> list[AreaRow]:
    return sorted(rows, key=lambda r: rank_key(r, now=now, days=days))


def ranking(user, region: Region, *, level: str, now: datetime.datetime | None = None) -> list[AreaRow]:
    """Villages or townships of `region`, ranked by the warning signs; the period does not matter here:
    all three signs are the state of today."""
    now = now or timezone.now()
    days = stale_days()
    prefix = region.prefix
    today = timezone.localdate(now)
    with _without_jit():
        village_rows = _village_rows(user, prefix, now=now, period=Period(today, today), days=days)
    names = _region_names(prefix, {level, RegionLevel.VILLAGE})
    return rank(_roll_up(village_rows, level, names), now=now, days=days)


# --- family contact (家庭尽责) ------------------------------------------------------------------------
# Added beside the figures above, reading the family's own reports (services.family): the share of active
# elders whose family reported a call, video call or visit home in the last FAMILY_CONTACT_DAYS days.

FAMILY_CONTACT_DAYS = 30


@dataclass
class FamilyContactRow:
    code: str
    name: str = ""
    level: str = ""
    active: int = 0
    contacted: int = 0

    @property
    def share(self) -> float | None:
        return self.contacted / self.active if self.active else None

    @property
    def pct(self) -> str:
        return percent(self.share)


def _family_village_counts(user, prefix: str, *, now: datetime.datetime) -> dict[str, tuple[int, int]]:
    """{village code: (active elders, active elders with a family contact reported in the window)}: one query."""
    low, high = prefix_range(prefix)
    since = timezone.localdate(now) - datetime.timedelta(days=FAMILY_CONTACT_DAYS)
    recent = FamilyContactLog.objects.filter(elder=OuterRef("pk"), contact_date__gt=since)
    elders = scope_queryset(user, Elder.objects.filter(village__code__range=(low, high), status=ElderStatus.ACTIVE))
    grouped = (
        elders.annotate(contacted=Exists(recent))
        .values("village_id")
        .annotate(n=Count("pk"), c=Count("pk", filter=Q(contacted=True)))
        .order_by()
    )
    return {g["village_id"]: (g["n"], g["c"]) for g in grouped}


def family_contact_shares(user, region: Region, *, level: str, now: datetime.datetime | None = None):
    """(total row, rows of the areas of `level` under `region`): the share of elders whose family made contact."""
    now = now or timezone.now()
    counts = _family_village_counts(user, region.prefix, now=now)
    names = _region_names(region.prefix, {level})
    length = PREFIX_LENGTH[level]
    areas = {code: FamilyContactRow(code=code, name=name, level=lvl) for code, (name, lvl) in names.items()}
    total = FamilyContactRow(code=region.code, name=region.name, level=region.level)
    for village, (n, c) in counts.items():
        parent = village[:length].ljust(12, "0")
        area = areas.setdefault(parent, FamilyContactRow(code=parent, name=parent, level=level))
        area.active += n
        area.contacted += c
        total.active += n
        total.contacted += c
    return total, sorted(areas.values(), key=lambda a: a.code)


def family_contact_attach(rows: list, user, region: Region, *, level: str, now: datetime.datetime | None = None):
    """Give each ranked row `family_share` (0–1; -1 without elders, so the list sorts) and `family_pct`."""
    _total, areas = family_contact_shares(user, region, level=level, now=now)
    by_code = {a.code: a for a in areas}
    for row in rows:
        area = by_code.get(row.code)
        share = area.share if area else None
        row.family_share = -1 if share is None else share
        row.family_pct = area.pct if area else percent(None)
    return rows


# --- proof that care happened (spot checks, referrals): the fourth warning sign ----------------------------

SIGN_FORMAL = "formal"  # 关爱服务流于形式
SIGN_LABELS[SIGN_FORMAL] = _("Care in name only")
# A place shows 关爱服务流于形式 when fewer than this share of the spot checks reached in the last
# FORMAL_CARE_MONTHS months confirmed that the service happened.
FORMAL_CARE_MIN_CONFIRMED = 0.8
FORMAL_CARE_MONTHS = 3


def _formal_care_since(now: datetime.datetime) -> datetime.date:
    first = timezone.localdate(now).replace(day=1)
    for _month in range(FORMAL_CARE_MONTHS - 1):
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return first


def proof_figures(user, prefix: str, *, period: Period, now: datetime.datetime | None = None) -> dict:
    """Spot checks drawn for the months of the period (share confirmed among those reached) and referrals made
    in the period (open, overdue today, done), in the user's scope under `prefix`."""
    now = now or timezone.now()
    low, high = prefix.ljust(12, "0"), prefix.ljust(12, "9")
    checks = spot_reads.checks_for(user).filter(
        village__code__range=(low, high), draw__month__gte=period.start.replace(day=1), draw__month__lte=period.end
    )
    spot = spot_reads.tally(checks)
    referrals = referral_reads.referrals_for(user).filter(
        village__code__range=(low, high), created_at__gte=period.start_at, created_at__lt=period.end_before
    )
    by_kind = {row["kind"]: row["n"] for row in referrals.values("kind").annotate(n=Count("pk")).order_by("kind")}
    return {
        "spot": spot,
        "spot_confirmed_pct": percent(spot["confirmed"] / spot["reached"]) if spot["reached"] else "—",
        "referrals": referral_reads.counts(referrals, now),
        "referral_kinds": [(label, by_kind.get(value, 0)) for value, label in ReferralKind.choices],
    }


def formal_care_codes(user, prefix: str, *, level: str, now: datetime.datetime | None = None) -> set[str]:
    """Codes of the places of `level` under `prefix` that show 关爱服务流于形式."""
    now = now or timezone.now()
    low, high = prefix.ljust(12, "0"), prefix.ljust(12, "9")
    checks = spot_reads.checks_for(user).filter(
        village__code__range=(low, high), draw__month__gte=_formal_care_since(now)
    )
    totals: dict[str, list[int]] = {}
    for village, (confirmed, reached) in spot_reads.confirmed_share_by_village(checks).items():
        code = child_code(village, level)
        pair = totals.setdefault(code, [0, 0])
        pair[0] += confirmed
        pair[1] += reached
    return {
        code
        for code, (confirmed, reached) in totals.items()
        if reached and confirmed / reached < FORMAL_CARE_MIN_CONFIRMED
    }


def add_formal_care_sign(rows: list, user, region: Region, *, level: str, now: datetime.datetime | None = None) -> None:
    """Give the ranked rows (see views.ranking_rows) the fourth sign where it shows."""
    codes = formal_care_codes(user, region.prefix, level=level, now=now)
    for row in rows:
        if row.code in codes and SIGN_FORMAL not in row.sign_list:
            row.sign_list.append(SIGN_FORMAL)
            row.sign_count = len(row.sign_list)
