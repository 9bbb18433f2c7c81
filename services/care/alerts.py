"""Emergency alerts (救助保护): raising, the village → township chain, deadlines and notifications.

reported → acknowledged (village) → escalated (township) → handled → closed. An alert the village can
settle itself may go acknowledged → handled. Every step is an AlertStep (who, when, what was done) and
each status has a deadline for the next step (AlertDeadline per county, or DEFAULT_ALERT_HOURS).
Two people acting on the same alert at once: the step is a conditional UPDATE on the status, so one
wins and the other is told (ALREADY_MOVED) — on any database.
"""

import datetime
import hashlib
import secrets

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.audit import client_ip
from portal.models import AuditAction, Region, RegionLevel, RoleKind, StaffRole
from portal.phone import clean_phone
from portal.scoping import can_write, in_scope, scope_queryset
from portal.sms import send_sms
from services.care.models import (
    DEADLINES_CACHE_KEY,
    DEFAULT_ALERT_HOURS,
    Alert,
    AlertDeadline,
    AlertKind,
    AlertSource,
    AlertStatus,
    AlertStep,
)
from services.care.state import refresh_elders
from services.ledger.models import Elder, ElderStatus

READ_ONLY = _("Your role may only read; it cannot act on alerts.")
OUT_OF_SCOPE = _("This alert is outside your area.")
ALREADY_MOVED = _(
    "Someone else has just moved this alert to “%(status)s”. Nothing of yours was saved; see the trail below."
)
BAD_STEP = _("This step is not possible while the alert is “%(status)s”.")
NOTE_REQUIRED = _("Say briefly what was done.")
TOWNSHIP_STEP = _("An alert escalated to the township is handled and closed by the township or county.")
NOT_A_VILLAGE = _("Choose a village or community, not a township or county.")
DESCRIPTION_REQUIRED = _("Say what happened.")
DESCRIPTION_TOO_LONG = _("Keep the description under 1,000 characters.")
RATE_LIMITED = _(
    "Too many reports were sent from here in a short time. If someone is in danger now, call 110 or 120; "
    "otherwise please try again in an hour."
)
ELDER_VILLAGE_MISMATCH = _("The elder does not live in this village.")

NEXT_STEPS = {
    AlertStatus.REPORTED: (AlertStatus.ACKNOWLEDGED,),
    AlertStatus.ACKNOWLEDGED: (AlertStatus.ESCALATED, AlertStatus.HANDLED),
    AlertStatus.ESCALATED: (AlertStatus.HANDLED,),
    AlertStatus.HANDLED: (AlertStatus.CLOSED,),
    AlertStatus.CLOSED: (),
}
WRITE_ROLES = (RoleKind.VILLAGE_LIAISON, RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER, RoleKind.REGION_ADMIN)
TOWNSHIP_ROLES = (RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER, RoleKind.REGION_ADMIN)
REPLAY_WINDOW = datetime.timedelta(minutes=30)
# public reports: per connection and per phone, within an hour
PUBLIC_LIMIT_PER_IP = 5
PUBLIC_LIMIT_PER_PHONE = 3
PUBLIC_LIMIT_SECONDS = 3600
DESCRIPTION_MAX = 1000


# --- deadlines -------------------------------------------------------------------------------------


def alert_deadlines() -> dict[tuple[str | None, str], int]:
    deadlines = cache.get(DEADLINES_CACHE_KEY)
    if deadlines is None:
        deadlines = {(None, status): hours for status, hours in DEFAULT_ALERT_HOURS.items()}
        for row in AlertDeadline.objects.all():
            deadlines[(row.county_id, row.status)] = row.hours
        cache.set(DEADLINES_CACHE_KEY, deadlines, 3600)
    return deadlines


def deadline_for(*, village_code: str, status: str, start: datetime.datetime) -> datetime.datetime | None:
    if status == AlertStatus.CLOSED:
        return None
    deadlines = alert_deadlines()
    county = village_code[:6] + "000000"
    hours = deadlines.get((county, status)) or deadlines[(None, status)]
    return start + datetime.timedelta(hours=hours)


# --- selectors -------------------------------------------------------------------------------------


def alerts_for(user) -> QuerySet:
    """Alerts of the villages in the user's scope (public reports included: they carry their village)."""
    return scope_queryset(user, Alert.objects.all(), region_field="village")


def open_alerts(queryset: QuerySet) -> QuerySet:
    return queryset.exclude(status=AlertStatus.CLOSED)


def overdue_q(now: datetime.datetime | None = None) -> Q:
    return ~Q(status=AlertStatus.CLOSED) & Q(due_at__lt=now or timezone.now())


def was_escalated(alert: Alert) -> bool:
    return alert.steps.filter(status=AlertStatus.ESCALATED).exists()


def allowed_steps(user, alert: Alert) -> list[str]:
    """The steps this user may take now (empty for read-only roles and out-of-scope users)."""
    if not can_act(user, alert):
        return []
    steps = list(NEXT_STEPS[AlertStatus(alert.status)])
    if township_only(alert) and not township_level(user, alert):
        return []
    return steps


def township_only(alert: Alert) -> bool:
    """Once escalated, the township (or county) takes the remaining steps."""
    return alert.status in (AlertStatus.ESCALATED, AlertStatus.HANDLED) and was_escalated(alert)


def township_level(user, alert: Alert) -> bool:
    return getattr(user, "is_superuser", False) or in_scope(user, alert.village_id, roles=TOWNSHIP_ROLES)


def can_act(user, alert: Alert) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return can_write(user) and in_scope(user, alert.village_id, roles=WRITE_ROLES)


# --- notifications ---------------------------------------------------------------------------------


def _supporter_phones(elder: Elder | None) -> list[str]:
    if elder is None:
        return []
    return sorted({c.phone for c in elder.family_contacts.all() if c.phone})


def _staff_phones(region_code: str, role: str) -> list[str]:
    return sorted(
        set(
            StaffRole.objects.filter(region_id=region_code, role=role, user__is_active=True).values_list(
                "user__phone", flat=True
            )
        )
    )


def _send_later(phones: list[str], message: str) -> None:
    """Send after the transaction commits, so nobody is told about an alert that was rolled back."""
    for phone in phones:
        transaction.on_commit(lambda phone=phone: send_sms(phone, message))


def _notify_raised(alert: Alert) -> None:
    if alert.elder_id:
        _send_later(
            _supporter_phones(alert.elder),
            gettext(
                "An emergency about your family member %(name)s (%(kind)s) was reported to the village committee, "
                "reference %(ref)s. The village will contact you."
            )
            % {"name": alert.elder.name, "kind": alert.get_kind_display(), "ref": alert.reference},
        )
    _send_later(
        _staff_phones(alert.village_id, RoleKind.VILLAGE_LIAISON),
        gettext("New emergency report %(ref)s in your village (%(kind)s). Please acknowledge it in the portal.")
        % {"ref": alert.reference, "kind": alert.get_kind_display()},
    )


def _notify_escalated(alert: Alert) -> None:
    _send_later(
        _staff_phones(alert.village_id[:9] + "000", RoleKind.TOWNSHIP_OFFICER),
        gettext("Emergency %(ref)s (%(kind)s) in %(village)s was escalated to the township. Please act in the portal.")
        % {"ref": alert.reference, "kind": alert.get_kind_display(), "village": alert.village.name},
    )


def _notify_closed(alert: Alert) -> None:
    if alert.elder_id:
        _send_later(
            _supporter_phones(alert.elder),
            gettext("The emergency about %(name)s, reference %(ref)s, has been dealt with and closed.")
            % {"name": alert.elder.name, "ref": alert.reference},
        )


# --- raising ---------------------------------------------------------------------------------------


def _content_hash(*, village_code: str, kind: str, description: str, phone: str, elder_id: int | None) -> str:
    text = "|".join([village_code, kind, "".join(description.split()), phone, str(elder_id or "")])
    return hashlib.sha256(text.encode()).hexdigest()


def _new_reference(now: datetime.datetime) -> str:
    return f"{timezone.localtime(now):%Y%m%d}-{secrets.token_hex(3).upper()}"


@transaction.atomic
def alert_raise(
    *,
    actor=None,
    elder: Elder | None = None,
    village: Region,
    kind: str,
    description: str,
    place: str = "",
    person_name: str = "",
    source: str,
    reporter_phone: str = "",
    request=None,
) -> tuple[Alert, bool]:
    """Raise an alert; returns (alert, created). The same report twice within REPLAY_WINDOW gives the
    first alert back instead of a second one."""
    errors: dict[str, list] = {}
    description = (description or "").strip()
    if not description:
        errors["description"] = [ValidationError(DESCRIPTION_REQUIRED, code="required")]
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = [ValidationError(DESCRIPTION_TOO_LONG, code="too_long")]
    if village is None or village.level != RegionLevel.VILLAGE:
        errors["village"] = [ValidationError(NOT_A_VILLAGE, code="not_village")]
    if kind not in AlertKind.values:
        errors["kind"] = [ValidationError(_("Choose what kind of emergency it is."), code="kind")]
    if source not in AlertSource.values:
        errors["source"] = [ValidationError(_("Say who is reporting."), code="source")]
    if reporter_phone:
        try:
            reporter_phone = clean_phone(reporter_phone)
        except ValidationError as exc:
            errors["reporter_phone"] = [exc]
    if elder is not None and village is not None and elder.village_id != village.code:
        errors["elder"] = [ValidationError(ELDER_VILLAGE_MISMATCH, code="village_mismatch")]
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    content_hash = _content_hash(
        village_code=village.code,
        kind=kind,
        description=description,
        phone=reporter_phone,
        elder_id=elder.pk if elder else None,
    )
    replay = (
        Alert.objects.select_for_update()
        .filter(content_hash=content_hash, created_at__gte=now - REPLAY_WINDOW)
        .order_by("created_at")
        .first()
    )
    if replay is not None:
        return replay, False
    reporter = actor if actor is not None and getattr(actor, "pk", None) else None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                alert = Alert.objects.create(
                    reference=_new_reference(now),
                    elder=elder,
                    village=village,
                    kind=kind,
                    description=description,
                    place=(place or "").strip()[:200],
                    person_name="" if elder else (person_name or "").strip()[:50],
                    source=source,
                    reporter=reporter,
                    reporter_phone=reporter_phone,
                    status=AlertStatus.REPORTED,
                    status_changed_at=now,
                    due_at=deadline_for(village_code=village.code, status=AlertStatus.REPORTED, start=now),
                    content_hash=content_hash,
                    created_at=now,
                )
            break
        except IntegrityError:  # reference collision; vanishingly rare
            continue
    else:  # pragma: no cover
        raise RuntimeError("could not allocate an alert reference")
    AlertStep.objects.create(
        alert=alert,
        status=AlertStatus.REPORTED,
        actor=reporter,
        at=now,
        note="",
        due_at=alert.due_at,
    )
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=reporter,
        obj=alert,
        changes={"kind": kind, "source": source, "village": village.code, "elder": elder.pk if elder else None},
    )
    _notify_raised(alert)
    return alert, True


def match_elder(*, village: Region, name: str) -> Elder | None:
    """The one active elder of this name in the village, if exactly one (public reports)."""
    name = (name or "").strip()
    if not name or village is None:
        return None
    matches = list(Elder.objects.filter(village=village, name=name, status=ElderStatus.ACTIVE)[:2])
    return matches[0] if len(matches) == 1 else None


def public_report_allowed(request, *, phone: str) -> bool:
    """A fixed-window counter in the cache, per connection and per phone; nothing is stored in the database."""
    ip = client_ip(request) or "unknown"
    keys = [
        ("care:report:ip:" + hashlib.sha256(ip.encode()).hexdigest()[:32], PUBLIC_LIMIT_PER_IP),
        ("care:report:phone:" + hashlib.sha256(phone.encode()).hexdigest()[:32], PUBLIC_LIMIT_PER_PHONE),
    ]
    allowed = True
    for key, limit in keys:
        cache.add(key, 0, PUBLIC_LIMIT_SECONDS)
        try:
            count = cache.incr(key)
        except ValueError:
            cache.set(key, 1, PUBLIC_LIMIT_SECONDS)
            count = 1
        if count > limit:
            allowed = False
    return allowed


@transaction.atomic
def alert_report_public(
    *,
    request,
    village: Region,
    kind: str,
    description: str,
    reporter_phone: str,
    place: str = "",
    person_name: str = "",
    relation: str = AlertSource.PUBLIC,
    elder: Elder | None = None,
) -> tuple[Alert, bool]:
    """The public form: match the elder by name in the village when unambiguous, else attach to the village.

    `elder`: a paired volunteer reporting about her own elder (the caller checked the pairing)."""
    if relation not in (AlertSource.PUBLIC, AlertSource.FAMILY, AlertSource.VOLUNTEER):
        relation = AlertSource.PUBLIC
    if elder is not None and elder.village_id != village.pk:
        raise ValidationError({"village": [ValidationError(ELDER_VILLAGE_MISMATCH, code="elder_village")]})
    if elder is None:
        elder = match_elder(village=village, name=person_name)
    actor = request.user if request.user.is_authenticated else None
    return alert_raise(
        actor=actor,
        elder=elder,
        village=village,
        kind=kind,
        description=description,
        place=place,
        person_name=person_name,
        source=relation,
        reporter_phone=reporter_phone,
        # an anonymous reporter's address and browser are not kept, not even in the audit trail
        request=request if actor else None,
    )


# --- the chain -------------------------------------------------------------------------------------


@transaction.atomic
def alert_advance(
    *, actor, alert: Alert, to_status: str, note: str, expected_status: str | None = None, request=None
) -> Alert:
    """Move an alert one step. Raises ValidationError with ALREADY_MOVED if someone else moved it first
    (`expected_status`: the status the person saw when they chose the step, e.g. from the form)."""
    if not can_act(actor, alert):
        raise ValidationError(READ_ONLY if in_scope(actor, alert.village_id) else OUT_OF_SCOPE, code="forbidden")
    note = (note or "").strip()
    if not note and to_status != AlertStatus.ACKNOWLEDGED:
        raise ValidationError({"note": [ValidationError(NOTE_REQUIRED, code="note_required")]})
    from_status = expected_status or alert.status
    if expected_status and alert.status != expected_status:
        raise ValidationError(ALREADY_MOVED, code="already_moved", params={"status": AlertStatus(alert.status).label})
    if to_status not in NEXT_STEPS[AlertStatus(from_status)]:
        current = Alert.objects.filter(pk=alert.pk).values_list("status", flat=True).first()
        if current and current != from_status:
            raise ValidationError(ALREADY_MOVED, code="already_moved", params={"status": AlertStatus(current).label})
        raise ValidationError(BAD_STEP, code="bad_step", params={"status": AlertStatus(from_status).label})
    if township_only(alert) and not township_level(actor, alert):
        raise ValidationError(TOWNSHIP_STEP, code="township_step")
    now = timezone.now()
    due_at = deadline_for(village_code=alert.village_id, status=to_status, start=now)
    moved = Alert.objects.filter(pk=alert.pk, status=from_status).update(
        status=to_status,
        status_changed_at=now,
        due_at=due_at,
        overdue_notified_at=None,
        closed_at=now if to_status == AlertStatus.CLOSED else None,
    )
    if not moved:
        current = Alert.objects.filter(pk=alert.pk).values_list("status", flat=True).first()
        raise ValidationError(
            ALREADY_MOVED, code="already_moved", params={"status": AlertStatus(current or from_status).label}
        )
    AlertStep.objects.create(alert=alert, status=to_status, actor=actor, at=now, note=note[:2000], due_at=due_at)
    if alert.elder_id:  # an open alert calls for a home visit: the elder's due date follows its status
        refresh_elders([alert.elder_id], now=now)
    alert.refresh_from_db()
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=alert,
        changes={"status": [from_status, to_status]},
    )
    if to_status == AlertStatus.ESCALATED:
        _notify_escalated(alert)
    elif to_status == AlertStatus.CLOSED:
        _notify_closed(alert)
    return alert


def alert_acknowledge(*, actor, alert: Alert, note: str = "", request=None) -> Alert:
    return alert_advance(actor=actor, alert=alert, to_status=AlertStatus.ACKNOWLEDGED, note=note, request=request)


def alert_escalate(*, actor, alert: Alert, note: str, request=None) -> Alert:
    return alert_advance(actor=actor, alert=alert, to_status=AlertStatus.ESCALATED, note=note, request=request)


def alert_handle(*, actor, alert: Alert, note: str, request=None) -> Alert:
    return alert_advance(actor=actor, alert=alert, to_status=AlertStatus.HANDLED, note=note, request=request)


def alert_close(*, actor, alert: Alert, note: str, request=None) -> Alert:
    return alert_advance(actor=actor, alert=alert, to_status=AlertStatus.CLOSED, note=note, request=request)


def alerts_notify_overdue(*, now: datetime.datetime | None = None) -> int:
    """Tell the next level up about each alert past its deadline, once per step. Returns how many."""
    now = now or timezone.now()
    count = 0
    overdue = Alert.objects.filter(overdue_q(now), overdue_notified_at__isnull=True).select_related("village")
    for alert in overdue:
        with transaction.atomic():
            if not Alert.objects.filter(pk=alert.pk, overdue_notified_at__isnull=True, status=alert.status).update(
                overdue_notified_at=now
            ):
                continue
            if alert.status == AlertStatus.REPORTED:
                phones = _staff_phones(alert.village_id, RoleKind.VILLAGE_LIAISON) + _staff_phones(
                    alert.village_id[:9] + "000", RoleKind.TOWNSHIP_OFFICER
                )
            elif alert.status == AlertStatus.ESCALATED:
                phones = _staff_phones(alert.village_id[:6] + "000000", RoleKind.COUNTY_OFFICER)
            else:
                phones = _staff_phones(alert.village_id[:9] + "000", RoleKind.TOWNSHIP_OFFICER)
            _send_later(
                sorted(set(phones)),
                gettext("Emergency %(ref)s in %(village)s is overdue (%(status)s). Please act in the portal.")
                % {"ref": alert.reference, "village": alert.village.name, "status": alert.get_status_display()},
            )
            count += 1
    return count
