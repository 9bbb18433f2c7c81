"""Regular visits (定期巡访): recording a visit, follow-ups, and who is due or overdue.

The due date is defined in services.care.due and stored per elder by services.care.state (Elder.next_due_at);
the due list filters and sorts on that indexed column, so its cost does not grow with the area.
"""

import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import transaction
from django.db.models import Case, Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When, Window
from django.db.models.functions import Coalesce
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction, RoleKind, StaffRole, User
from portal.scoping import scope_queryset
from portal.sms import send_sms
from services.care.alerts import alert_raise
from services.care.due import (  # noqa: F401 — the plan and the due-date definition, re-exported for callers
    _DT,
    EPOCH,
    FAR_FUTURE,
    SimpleCase,
    _latest_open_alert,
    plan_for,
    visit_plans,
    with_computed_due_dates,
)
from services.care.models import (
    AlertKind,
    AlertSource,
    DutyKept,
    FollowUp,
    RiskLevel,
    Visit,
    VisitDigest,
    VisitMethod,
)
from services.care.state import refresh_elders
from services.ledger.models import Elder, ElderStatus
from services.ledger.selectors import can_edit, elders_for

READ_ONLY = _("Your role may only read; it cannot record visits.")
ELDER_NOT_ACTIVE = _("This elder is no longer on the active ledger; no visit can be recorded.")
VISIT_IN_FUTURE = _("The visit cannot be in the future.")
VISIT_TOO_OLD = _("The visit is more than 90 days ago; ask the township to correct old records.")
NO_CONTACT_NO_FINDINGS = _(
    "Nobody was reached, so no risk can be assessed; record the findings on a visit where you spoke with the elder."
)
FOLLOW_UP_NEEDS_DUE = _("Give a due date for the follow-up.")
FOLLOW_UP_DUE_PAST = _("The follow-up cannot be due before the visit.")
FOLLOW_UP_ALREADY_DONE = _("This follow-up is already done.")
NEXT_DUE_PAST = _("The next visit cannot be due before this one.")
ALERT_KIND_NEEDED = _("A high risk raises an alert: choose what kind of emergency it is.")
RISK_RAISES_ALERT = (RiskLevel.HIGH,)
MAX_BACKDATE_DAYS = 90


def with_due_dates(queryset: QuerySet, *, now: datetime.datetime | None = None) -> QuerySet:
    """Annotate priority, open_alert_at (the latest open alert since the last home visit), next_due and
    open_follow_ups, reading the stored state (Elder.tier, Elder.next_due_at; see services.care.state):
    filters and sorts use the indexed columns, the two subqueries run only for the rows shown.
    `with_computed_due_dates` is the definition; `due_parts(row)` splits next_due for display.
    """
    open_follow_ups = (
        FollowUp.objects.filter(visit__elder=OuterRef("pk"), done_at__isnull=True)
        .order_by()
        .values("visit__elder")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.with_priority().annotate(
        open_alert_at=Subquery(_latest_open_alert(), output_field=_DT),
        open_follow_ups=Coalesce(Subquery(open_follow_ups, output_field=IntegerField()), Value(0)),
        next_due=F("next_due_at"),
    )


def due_parts(row) -> dict[str, datetime.datetime | None]:
    """contact, home and alert due dates of one annotated row, in Python (for display only)."""
    plan = plan_for(village_code=row.village_id, priority=row.priority_level)
    return {
        "contact": (row.last_visit_at or row.created_at) + datetime.timedelta(days=plan["contact_days"]),
        "home": (row.last_home_visit_at or row.created_at) + datetime.timedelta(days=plan["home_visit_days"]),
        "alert": row.open_alert_at + datetime.timedelta(hours=plan["after_alert_hours"]) if row.open_alert_at else None,
    }


def week_bounds(today: datetime.date | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """Monday 00:00 of this week and of the next, in local time."""
    today = today or timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    start = timezone.make_aware(datetime.datetime.combine(monday, datetime.time.min))
    return start, start + datetime.timedelta(days=7)


DUE_OVERDUE = "overdue"
DUE_THIS_WEEK = "week"
DUE_ALL = "all"


def visits_due(user, *, when: str = DUE_THIS_WEEK, now: datetime.datetime | None = None) -> QuerySet:
    """Active elders in the user's scope, with due dates; `when` limits to overdue or due this week."""
    now = now or timezone.now()
    qs = with_due_dates(elders_for(user).filter(status=ElderStatus.ACTIVE), now=now)
    if when == DUE_OVERDUE:
        qs = qs.filter(next_due_at__lt=now)
    elif when == DUE_THIS_WEEK:
        qs = qs.filter(next_due_at__lt=week_bounds(timezone.localtime(now).date())[1])
    return qs


def with_due_totals(queryset: QuerySet, *, now: datetime.datetime | None = None) -> QuerySet:
    """Add the list's totals to every row (window functions), so the page needs no COUNT query."""
    now = now or timezone.now()
    return queryset.annotate(
        due_total=Window(Count("pk")),
        overdue_total=Window(Sum(Case(When(next_due__lt=now, then=Value(1)), default=Value(0)))),
    )


class WindowCountPaginator(Paginator):
    """Reads the total from the page's own rows (COUNT(*) OVER ()), so a list costs one query, not two.

    The rows must carry the `due_total` (or `count_attr`) window annotation; beyond the last page it
    falls back to Django's count.
    """

    count_attr = "due_total"

    def page(self, number):
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(_("That page number is not an integer")) from exc
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        bottom = (number - 1) * self.per_page
        page_rows = self.object_list[bottom : bottom + self.per_page]
        items = list(getattr(page_rows, "data", page_rows))
        if items:
            self.__dict__["count"] = getattr(items[0], self.count_attr)
        elif number == 1:
            self.__dict__["count"] = 0
        else:
            raise EmptyPage(_("That page contains no results"))
        return self._get_page(page_rows, number, self)


def alerts_window_paginator(attr: str):
    return type("Paginator", (WindowCountPaginator,), {"count_attr": attr})


# --- recording a visit -----------------------------------------------------------------------------


@dataclass
class FollowUpData:
    action: str
    due_date: datetime.date
    owner_name: str = ""


def duty_reminder_url(elder: Elder) -> str | None:
    """The ledger's form for a family-duty reminder, if the ledger provides one."""
    for name in ("services:duty-reminder-create", "services:reminder-create", "services:duty-reminder"):
        try:
            return reverse(name, args=[elder.pk])
        except NoReverseMatch:
            continue
    return None


@transaction.atomic
def visit_record(
    *,
    actor,
    elder: Elder,
    method: str = VisitMethod.PHONE,
    visited_at: datetime.datetime | None = None,
    contact_made: bool = True,
    living_conditions: str = "",
    health: str = "",
    mood: str = "",
    family_duty: str = DutyKept.UNKNOWN,
    safety_risks: str = "",
    notes: str = "",
    risk_level: str = RiskLevel.NONE,
    alert_kind: str = "",
    follow_ups: list[FollowUpData] | tuple = (),
    next_visit_due: datetime.date | None = None,
    request=None,
) -> Visit:
    """Record a visit. When contact was made it moves the elder's last-contact (and home-visit) dates;
    a high risk raises an alert through services.care.alerts."""
    if not can_edit(actor, elder.village_id):
        raise ValidationError(READ_ONLY, code="read_only")
    if elder.status != ElderStatus.ACTIVE:
        raise ValidationError(ELDER_NOT_ACTIVE, code="elder_not_active")
    now = timezone.now()
    visited_at = visited_at or now
    errors: dict[str, list] = {}
    if visited_at > now + datetime.timedelta(minutes=5):
        errors.setdefault("visited_at", []).append(ValidationError(VISIT_IN_FUTURE, code="future"))
    elif visited_at < now - datetime.timedelta(days=MAX_BACKDATE_DAYS):
        errors.setdefault("visited_at", []).append(ValidationError(VISIT_TOO_OLD, code="too_old"))
    if not contact_made and (
        risk_level != RiskLevel.NONE or living_conditions or health or mood or family_duty != DutyKept.UNKNOWN
    ):
        errors.setdefault("contact_made", []).append(ValidationError(NO_CONTACT_NO_FINDINGS, code="no_contact"))
    if contact_made and risk_level in RISK_RAISES_ALERT and alert_kind not in AlertKind.values:
        errors.setdefault("alert_kind", []).append(ValidationError(ALERT_KIND_NEEDED, code="alert_kind"))
    visit_day = timezone.localtime(visited_at).date()
    if next_visit_due is not None and next_visit_due < visit_day:
        errors.setdefault("next_visit_due", []).append(ValidationError(NEXT_DUE_PAST, code="next_due_past"))
    for follow_up in follow_ups:
        if follow_up.due_date is None:
            errors.setdefault("follow_up_due", []).append(ValidationError(FOLLOW_UP_NEEDS_DUE, code="due_needed"))
        elif follow_up.due_date < visit_day:
            errors.setdefault("follow_up_due", []).append(ValidationError(FOLLOW_UP_DUE_PAST, code="due_past"))
    if errors:
        raise ValidationError(errors)

    if next_visit_due is None and contact_made:
        plan = plan_for(village_code=elder.village_id, priority=elder.priority)
        next_visit_due = visit_day + datetime.timedelta(days=plan["contact_days"])
    visit = Visit(
        elder=elder,
        visitor=actor,
        method=method,
        visited_at=visited_at,
        contact_made=contact_made,
        living_conditions=living_conditions,
        health=health,
        mood=mood,
        family_duty=family_duty,
        safety_risks=safety_risks.strip(),
        notes=notes.strip(),
        risk_level=risk_level,
        next_visit_due=next_visit_due,
    )
    visit.full_clean(exclude=["elder", "visitor", "alert"])
    visit.save()
    for follow_up in follow_ups:
        FollowUp.objects.create(
            visit=visit,
            action=follow_up.action.strip()[:200],
            owner=None if follow_up.owner_name else actor,
            owner_name=follow_up.owner_name.strip()[:50],
            due_date=follow_up.due_date,
        )
    if contact_made:
        # Only ever forward, and without touching the ledger's version: a visit is not an edit.
        Elder.objects.filter(Q(last_visit_at__isnull=True) | Q(last_visit_at__lt=visited_at), pk=elder.pk).update(
            last_visit_at=visited_at
        )
        if method == VisitMethod.HOME:
            Elder.objects.filter(
                Q(last_home_visit_at__isnull=True) | Q(last_home_visit_at__lt=visited_at), pk=elder.pk
            ).update(last_home_visit_at=visited_at)
        refresh_elders([elder.pk])
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=visit,
        changes={"method": method, "contact_made": contact_made, "risk_level": risk_level},
    )
    if contact_made and risk_level in RISK_RAISES_ALERT:
        description = "；".join(part for part in (safety_risks.strip(), notes.strip()) if part) or str(
            _("High risk found on a visit.")
        )
        alert, _created = alert_raise(
            actor=actor,
            elder=elder,
            village=elder.village,
            kind=alert_kind,
            description=description,
            source=AlertSource.VISIT,
            request=request,
        )
        visit.alert = alert
        visit.save(update_fields=["alert"])
    return visit


@transaction.atomic
def followup_complete(*, actor, follow_up: FollowUp, note: str = "", request=None) -> FollowUp:
    if not can_edit(actor, follow_up.visit.elder.village_id):
        raise ValidationError(READ_ONLY, code="read_only")
    updated = FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True).update(
        done_at=timezone.now(), done_by=actor, done_note=note.strip()[:200]
    )
    if not updated:
        raise ValidationError(FOLLOW_UP_ALREADY_DONE, code="already_done")
    follow_up.refresh_from_db()
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=follow_up, changes={"done": True})
    return follow_up


# --- selectors -------------------------------------------------------------------------------------


def visits_for(user) -> QuerySet:
    """Visits of the elders the user may see."""

    return scope_queryset(user, Visit.objects.all(), region_field="elder__village")


def follow_ups_for(user) -> QuerySet:
    return scope_queryset(user, FollowUp.objects.all(), region_field="visit__elder__village")


# --- the weekly digest -----------------------------------------------------------------------------

DIGEST_NAMES = 5


def digest_message(user, *, now: datetime.datetime | None = None) -> tuple[str, int, int]:
    """(message, due count, overdue count) for one liaison's area this week."""
    from django.utils.translation import gettext

    now = now or timezone.now()
    due = visits_due(user, when=DUE_THIS_WEEK, now=now).order_by("next_due", "pk")
    totals = due.aggregate(due=Count("pk"), overdue=Sum(Case(When(next_due__lt=now, then=Value(1)), default=Value(0))))
    due_count, overdue_count = totals["due"] or 0, totals["overdue"] or 0
    names = "、".join(due.values_list("name", flat=True)[:DIGEST_NAMES])
    if due_count > DIGEST_NAMES:
        names += gettext(" and others")
    message = gettext(
        "This week %(due)s elders are due a visit, %(overdue)s of them overdue: %(names)s. See the portal for the list."
    ) % {"due": due_count, "overdue": overdue_count, "names": names or "—"}
    return message, due_count, overdue_count


def digest_send_all(*, now: datetime.datetime | None = None, dry_run: bool = False) -> tuple[int, int]:
    """Send this week's digest to every active village liaison who has not had it. Returns (sent, skipped)."""
    from django.db import IntegrityError

    now = now or timezone.now()
    week_start = week_bounds(timezone.localtime(now).date())[0].date()
    user_ids = (
        StaffRole.objects.filter(role=RoleKind.VILLAGE_LIAISON, user__is_active=True)
        .values_list("user_id", flat=True)
        .distinct()
    )
    sent = skipped = 0
    for user in User.objects.filter(pk__in=list(user_ids)).order_by("pk"):
        if VisitDigest.objects.filter(user=user, week_start=week_start).exists():
            skipped += 1
            continue
        message, due_count, overdue_count = digest_message(user, now=now)
        if dry_run:
            continue
        try:
            with transaction.atomic():
                VisitDigest.objects.create(
                    user=user, week_start=week_start, due_count=due_count, overdue_count=overdue_count, sent_at=now
                )
                transaction.on_commit(lambda phone=user.phone, message=message: send_sms(phone, message))
        except IntegrityError:  # another run got there first
            skipped += 1
            continue
        sent += 1
    return sent, skipped
