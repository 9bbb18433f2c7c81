"""Reads of the family portal. The family scope is one rule: the elders on whose contacts the signed-in user's
verified phone stands — read again on every request, so a contact removed (or its phone changed) loses access at
once. Staff rights give nothing here: a liaison sees elders through the ledger, not as family."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Max, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from portal.models import RoleKind, StaffRole
from portal.scoping import scope_queryset
from services.care.models import OPEN_STATUSES, Alert, Visit
from services.care.visits import with_due_dates
from services.family.models import ChangeStatus, FamilyContactLog, WhereaboutsChange
from services.ledger.models import Elder, ElderStatus, FamilyContact
from services.ledger.selectors import elders_for
from services.pairing.models import Pairing, PairingStatus
from services.records.models import RecordKind, ServiceRecord

NO_CONTACT_DAYS = 30
# who confirms a change of whereabouts: the village's liaison (a township officer over the village may too)
LIAISON_ROLES = (RoleKind.VILLAGE_LIAISON, RoleKind.TOWNSHIP_OFFICER)


def family_phone(user) -> str:
    """The number that admits a user to the family portal: their own, verified by a code."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ""
    return user.phone if user.phone and user.phone_verified else ""


def contacts_for_family(user) -> QuerySet:
    phone = family_phone(user)
    if not phone:
        return FamilyContact.objects.none()
    return FamilyContact.objects.filter(phone=phone, elder__anonymised_at__isnull=True)


def elders_for_family(user) -> QuerySet:
    """Elders whose family contacts include the user's verified phone (never anonymised ones)."""
    phone = family_phone(user)
    if not phone:
        return Elder.objects.none()
    return Elder.objects.filter(
        pk__in=FamilyContact.objects.filter(phone=phone).values("elder_id"), anonymised_at__isnull=True
    )


def is_family(user) -> bool:
    return elders_for_family(user).exists()


def family_elder(user, pk) -> Elder:
    """One elder of the user's family, or 404 — the same for another family's elder and for a missing one."""
    return get_object_or_404(elders_for_family(user).select_related("village__parent"), pk=pk)


def own_contact(user, elder: Elder) -> FamilyContact | None:
    return contacts_for_family(user).filter(elder=elder).order_by("-is_primary", "pk").first()


def month_bounds(today: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = today.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(end, datetime.time.min, tzinfo=tz),
    )


def month_counts(elder: Elder, today: datetime.date) -> dict[str, int]:
    """This month's visits (contact made) and confirmed services, volunteer and purchased apart."""
    start, end = month_bounds(today)
    visits = Visit.objects.filter(elder=elder, contact_made=True, visited_at__gte=start, visited_at__lt=end).count()
    services = (
        ServiceRecord.objects.counted()
        .filter(elder=elder, sign=1, reversal__isnull=True, start__gte=start, start__lt=end)
        .aggregate(
            volunteer=Count("pk", filter=Q(kind=RecordKind.VOLUNTEER)),
            purchased=Count("pk", filter=Q(kind=RecordKind.PURCHASED)),
        )
    )
    return {"visits": visits, "volunteer": services["volunteer"], "purchased": services["purchased"]}


@dataclass
class LastVisit:
    date: datetime.datetime
    method: str
    contact_made: bool
    findings: list[tuple[str, str]] = field(default_factory=list)


def last_visit(elder: Elder) -> LastVisit | None:
    """The last visit in plain words: when, how, whether they reached the elder, and the checked conditions —
    never the staff's notes or the safety-risk text."""
    visit = Visit.objects.filter(elder=elder).order_by("-visited_at", "-pk").first()
    if visit is None:
        return None
    findings = []
    for name in ("living_conditions", "health", "mood"):
        if getattr(visit, name):
            findings.append((str(Visit._meta.get_field(name).verbose_name), getattr(visit, f"get_{name}_display")()))
    return LastVisit(
        date=visit.visited_at, method=visit.get_method_display(), contact_made=visit.contact_made, findings=findings
    )


def next_visit_due(elder: Elder) -> datetime.datetime | None:
    row = with_due_dates(Elder.objects.filter(pk=elder.pk)).values_list("next_due", flat=True).first()
    return row


def open_alerts(elder: Elder) -> list[Alert]:
    return list(Alert.objects.filter(elder=elder, status__in=OPEN_STATUSES).order_by("-created_at")[:10])


def active_pairings(elder: Elder) -> list[Pairing]:
    return list(
        Pairing.objects.filter(elder=elder, status=PairingStatus.ACTIVE).select_related(
            "giver_user", "giver_organisation"
        )
    )


def liaisons(elder: Elder) -> list:
    """The village liaisons of the elder's village: their name and work phone (staff contact, fine to show)."""
    roles = StaffRole.objects.filter(
        role=RoleKind.VILLAGE_LIAISON, region_id=elder.village_id, user__is_active=True
    ).select_related("user")
    return [r.user for r in roles]


def last_family_contact(elder: Elder) -> datetime.date | None:
    return FamilyContactLog.objects.filter(elder=elder).aggregate(last=Max("contact_date"))["last"]


def elder_page(elder: Elder, *, today: datetime.date) -> dict:
    """Everything "我的老人" shows about one elder."""
    return {
        "elder": elder,
        "last_visit": last_visit(elder),
        "next_due": next_visit_due(elder),
        "alerts": open_alerts(elder),
        "month": month_counts(elder, today),
        "pairings": active_pairings(elder),
        "liaisons": liaisons(elder),
        "contact_logs": list(FamilyContactLog.objects.filter(elder=elder).select_related("contact")[:10]),
        "last_family_contact": last_family_contact(elder),
    }


def family_home(user) -> list[dict]:
    """The home page: each elder of the family with the last visit, next due date and open alerts counted."""
    elders = list(
        with_due_dates(elders_for_family(user))
        .select_related("village__parent")
        .annotate(
            open_alert_count=Count("alerts", filter=Q(alerts__status__in=OPEN_STATUSES), distinct=True),
            last_family_at=Max("family_contact_logs__contact_date"),
        )
        .order_by("name", "pk")
    )
    return elders


def pending_changes_for_liaison(user) -> QuerySet:
    """The liaison's queue: changes of whereabouts proposed for elders in the villages they may write."""
    queryset = WhereaboutsChange.objects.filter(status=ChangeStatus.PENDING)
    return (
        scope_queryset(user, queryset, region_field="elder__village", roles=LIAISON_ROLES)
        .select_related("elder__village", "contact")
        .order_by("created_at", "pk")
    )


def family_contact_overview(user, *, today: datetime.date | None = None) -> QuerySet:
    """For the ledger's family-duty page: active elders in the staff member's scope with their family's last
    reported contact and the reports of the last 30 days; those without any in 30 days first."""
    today = today or timezone.localdate()
    since = today - datetime.timedelta(days=NO_CONTACT_DAYS)
    return (
        elders_for(user)
        .filter(status=ElderStatus.ACTIVE)
        .annotate(
            last_family_at=Max("family_contact_logs__contact_date"),
            family_reports=Count("family_contact_logs", filter=Q(family_contact_logs__contact_date__gt=since)),
        )
        .select_related("village__parent")
        .order_by(F("last_family_at").asc(nulls_first=True), "pk")
    )
