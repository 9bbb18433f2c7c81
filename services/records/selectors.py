"""Reads of service records: who sees which records, who may confirm or reverse one, and the totals (the one
signed-minutes expression: reversals subtract)."""

import datetime
from collections import defaultdict

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Substr, TruncMonth
from django.http import Http404
from django.utils import timezone

from portal.models import RoleKind
from portal.scoping import can_write, scope_queryset
from services.records import rules as record_rules
from services.records.models import (
    RecordKind,
    RecordStatus,
    ServiceRecord,
)
from volunteers.models import Membership, MembershipStatus

# --- reads -----------------------------------------------------------------------------------------


def _admin_org_ids(user):
    return Membership.objects.filter(user=user, is_admin=True, status=MembershipStatus.ACTIVE).values("organisation_id")


def records_for(user) -> QuerySet:
    """Records the user may see: their own, those they entered, their organisations', and those in scope."""
    if not getattr(user, "is_authenticated", False):
        return ServiceRecord.objects.none()
    base = ServiceRecord.objects.all()
    own = base.filter(Q(giver=user) | Q(recorded_by=user) | Q(organisation_id__in=_admin_org_ids(user)))
    return own | scope_queryset(user, base, region_field="region")


def records_confirmable_by(user) -> QuerySet:
    """Submitted records this user may confirm: members' records of organisations they run, and service to
    elders of the villages where they are the liaison. Never their own."""

    if not getattr(user, "is_authenticated", False):
        return ServiceRecord.objects.none()
    base = ServiceRecord.objects.filter(status=RecordStatus.SUBMITTED).exclude(giver=user)
    if user.is_superuser:
        return base
    member = Membership.objects.filter(
        organisation_id=OuterRef("organisation_id"), user_id=OuterRef("giver_id"), status=MembershipStatus.ACTIVE
    )
    by_org = base.filter(organisation_id__in=_admin_org_ids(user)).filter(Exists(member))
    if not can_write(user):
        return by_org
    by_village = scope_queryset(
        user, base.filter(elder__isnull=False), region_field="region", roles=[RoleKind.VILLAGE_LIAISON]
    )
    return by_org | by_village


def may_confirm(user, record: ServiceRecord) -> bool:
    if not getattr(user, "is_authenticated", False) or record.giver_id == user.pk:
        return False
    if user.is_superuser:
        return True
    if record.organisation_id and record_rules.is_admin_of(user, record.organisation):
        return record_rules.active_member_since(record.giver, record.organisation) is not None
    return record.elder_id is not None and record_rules.is_liaison_of(user, record.region_id)


def may_reverse(user, record: ServiceRecord) -> bool:
    """The recording unit corrects: the organisation's admin or the village liaison, never the giver."""
    if not getattr(user, "is_authenticated", False) or record.giver_id == user.pk:
        return False
    if user.is_superuser:
        return True
    return record_rules.is_admin_of(user, record.organisation) or record_rules.is_liaison_of(user, record.region_id)


def record_visible(*, user, pk: int) -> ServiceRecord:
    record = records_for(user).select_related(*DETAIL_RELATED).filter(pk=pk).first()
    if record is None:
        raise Http404
    return record


DETAIL_RELATED = (
    "giver",
    "recorded_by",
    "confirmed_by",
    "organisation",
    "elder",
    "activity",
    "region",
    "service_item__category",
    "reverses",
)


# --- totals ----------------------------------------------------------------------------------------


def signed_minutes():
    """Sum of minutes with reversals subtracted: the one total expression."""
    return Coalesce(Sum(F("minutes") * F("sign")), 0)


def star_level(minutes: int) -> int:
    hours = minutes // 60
    return sum(1 for threshold in record_rules.star_thresholds() if hours >= threshold)


def next_star(minutes: int) -> int | None:
    hours = minutes // 60
    return next((t for t in record_rules.star_thresholds() if hours < t), None)


def giver_totals(*, user) -> dict:
    """A giver's counted minutes: per ledger, by month, by year and by service category (three queries)."""
    counted = ServiceRecord.objects.counted().filter(giver=user)
    by_month = list(
        counted.annotate(month=TruncMonth("start"))
        .values("kind", "month")
        .annotate(minutes=signed_minutes())
        .order_by("-month", "kind")
    )
    by_year: dict = defaultdict(lambda: defaultdict(int))
    totals: dict = defaultdict(int)
    for row in by_month:
        year = (
            record_rules._local(row["month"]).year if isinstance(row["month"], datetime.datetime) else row["month"].year
        )
        by_year[year][row["kind"]] += row["minutes"]
        totals[row["kind"]] += row["minutes"]
    by_category = list(
        counted.values("kind", "service_item__category__name")
        .annotate(minutes=signed_minutes())
        .order_by("kind", "-minutes")
    )
    pending = ServiceRecord.objects.filter(giver=user, status=RecordStatus.SUBMITTED).aggregate(m=signed_minutes())["m"]
    volunteer = totals.get(RecordKind.VOLUNTEER, 0)
    return {
        "volunteer_minutes": volunteer,
        "purchased_minutes": totals.get(RecordKind.PURCHASED, 0),
        "pending_minutes": pending,
        "by_month": by_month,
        "by_year": sorted(((y, dict(k)) for y, k in by_year.items()), reverse=True),
        "by_category": by_category,
        "stars": star_level(volunteer),
        "next_star": next_star(volunteer),
    }


def organisation_totals(*, organisation) -> list[dict]:
    """An organisation's counted minutes per ledger and month."""
    return list(
        ServiceRecord.objects.counted()
        .filter(organisation=organisation)
        .annotate(month=TruncMonth("start"))
        .values("kind", "month")
        .annotate(minutes=signed_minutes())
        .order_by("-month", "kind")
    )


def county_monthly_totals(*, user, year: int | None = None, kind: str | None = None) -> QuerySet:
    """Counted minutes per county (6-digit code prefix), month and ledger, in the user's scope: one query."""
    qs = scope_queryset(user, ServiceRecord.objects.counted(), region_field="region")
    if year:
        tz = timezone.get_current_timezone()
        qs = qs.filter(
            start__gte=datetime.datetime(year, 1, 1, tzinfo=tz), start__lt=datetime.datetime(year + 1, 1, 1, tzinfo=tz)
        )
    if kind:
        qs = qs.filter(kind=kind)
    return (
        qs.annotate(county=Substr("region_id", 1, 6), month=TruncMonth("start"))
        .values("county", "month", "kind")
        .annotate(minutes=signed_minutes())
        .order_by("county", "month", "kind")
    )


def certificate_records(*, user, start: datetime.date, end: datetime.date) -> QuerySet:
    """Confirmed volunteer records (and their reversals) of a giver, by service date within [start, end]."""
    first = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    last = timezone.make_aware(datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min))
    return (
        ServiceRecord.objects.counted()
        .filter(giver=user, kind=RecordKind.VOLUNTEER, start__gte=first, start__lt=last)
        .select_related("service_item__category", "organisation", "region", "activity", "confirmed_by")
        .order_by("start", "pk")
    )
