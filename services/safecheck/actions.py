"""平安铃 daily safe check-in: enrolment, the daily round (first message, second message, missed days and what
they lead to) and the replies received through the provider's callback.

`run_round(now)` is idempotent (the scheduler runs it every five minutes): a day's first message goes once the
chosen time has passed, the second SAFECHECK_SECOND_AFTER_HOURS later if no "1" came, and the day counts as
missed SAFECHECK_MISSED_AFTER_HOURS after the first. Two missed days in a row make a visit task for the village
liaison (an unanswered contact with a follow-up, as services.care keeps them); three raise an alert
(services.care.alerts.alert_raise). A reply of "1" from the enrolled number answers today's question.
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.identity import keyed_hash
from portal.models import AuditAction, RoleKind, StaffRole
from portal.phone import clean_phone, mask_phone
from portal.scoping import can_write, in_scope
from portal.sms_templates import send_template
from services.care.alerts import alert_raise
from services.care.models import AlertKind, AlertSource, FollowUp, Visit, VisitMethod
from services.safecheck.models import CheckinDay, CheckinEnrolment, CheckinReply

ENROLLER_ROLES = (RoleKind.VILLAGE_LIAISON, RoleKind.TOWNSHIP_OFFICER)
READER_ROLES = (RoleKind.VILLAGE_LIAISON, RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER, RoleKind.SUPERVISOR)
TASK_AFTER = 2  # missed days in a row → a visit task for the liaison
ALERT_AFTER = 3  # → an alert
SAFE_REPLIES = {"1", "１"}

NOT_ENROLLER = _("Only the village liaison or the township officer enrols an elder for the safe check-in.")
NO_NUMBER = _("Give the number that will answer: the elder's or a family member's mobile.")


def may_enrol(user, village_code: str) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return in_scope(user, village_code, roles=ENROLLER_ROLES) and can_write(user)


@transaction.atomic
def enrol(*, actor, elder, phone: str, send_at: datetime.time, request=None) -> CheckinEnrolment:
    """Opt an elder in (or change the number and time); the elder or the family agreed, the liaison records it."""
    if not may_enrol(actor, elder.village_id):
        raise PermissionDenied(NOT_ENROLLER)
    try:
        phone = clean_phone(phone)
    except ValidationError:
        raise ValidationError(NO_NUMBER, code="phone") from None
    if not phone:
        raise ValidationError(NO_NUMBER, code="phone")
    enrolment, created = CheckinEnrolment.objects.update_or_create(
        elder=elder,
        defaults={
            "village_id": elder.village_id,
            "phone": phone,
            "phone_hash": keyed_hash(phone),
            "phone_masked": mask_phone(phone),
            "send_at": send_at,
            "active": True,
            "created_by": actor,
        },
    )
    audit.record(
        AuditAction.CREATE if created else AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=enrolment,
        changes={"phone": enrolment.phone_masked, "send_at": send_at.isoformat(timespec="minutes"), "active": True},
    )
    return enrolment


@transaction.atomic
def withdraw(*, actor, enrolment: CheckinEnrolment, request=None) -> CheckinEnrolment:
    if not may_enrol(actor, enrolment.village_id):
        raise PermissionDenied(NOT_ENROLLER)
    enrolment.active = False
    enrolment.save(update_fields=["active"])
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=enrolment, changes={"active": False})
    return enrolment


# --- the daily round -------------------------------------------------------------------------------


def _hours(name: str, default: int) -> datetime.timedelta:
    return datetime.timedelta(hours=int(getattr(settings, name, default)))


def _misses_in_a_row(enrolment: CheckinEnrolment) -> int:
    count = 0
    for missed, answered in enrolment.days.order_by("-day").values_list("missed", "answered_at")[: ALERT_AFTER + 1]:
        if not missed or answered:
            break
        count += 1
    return count


def _visit_task(enrolment: CheckinEnrolment, day: datetime.date) -> None:
    """An unanswered contact and a follow-up for the liaison: it shows on the liaison's list of follow-ups."""
    elder = enrolment.elder
    liaison = (
        StaffRole.objects.filter(region_id=enrolment.village_id, role=RoleKind.VILLAGE_LIAISON, user__is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    contact = Visit.objects.create(
        elder=elder,
        visitor=None,
        method=VisitMethod.PHONE,
        contact_made=False,
        notes=gettext("平安铃: no answer for %(days)s days in a row.") % {"days": TASK_AFTER},
    )
    FollowUp.objects.create(
        visit=contact,
        action=gettext("Visit: 平安铃 not answered for %(days)s days") % {"days": TASK_AFTER},
        owner=liaison.user if liaison else None,
        due_date=day + datetime.timedelta(days=1),
    )
    if liaison and liaison.user.phone:
        phone = liaison.user.phone
        village = enrolment.village.name
        transaction.on_commit(lambda: send_template(phone, "safecheck_missed", village=village, days=TASK_AFTER))


def _raise_alert(enrolment: CheckinEnrolment) -> None:
    alert_raise(
        actor=None,
        elder=enrolment.elder,
        village=enrolment.village,
        kind=AlertKind.OTHER,
        description=gettext("平安铃: no answer for %(days)s days in a row; nobody has confirmed the elder is safe.")
        % {"days": ALERT_AFTER},
        source=AlertSource.LIAISON,
    )


def run_round(*, now: datetime.datetime | None = None) -> dict:
    """One pass of the daily round; returns what it did (first, second, missed, tasks, alerts)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    done = {"first": 0, "second": 0, "missed": 0, "tasks": 0, "alerts": 0}
    for enrolment in CheckinEnrolment.objects.filter(active=True).select_related("village", "elder"):
        due = timezone.make_aware(datetime.datetime.combine(today, enrolment.send_at))
        if now >= due:
            try:
                with transaction.atomic():
                    CheckinDay.objects.create(enrolment=enrolment, day=today, first_sent_at=now)
                    phone = enrolment.phone
                    transaction.on_commit(lambda phone=phone: send_template(phone, "safecheck_ask"))
                    done["first"] += 1
            except IntegrityError:
                pass  # today's message went already
    open_days = CheckinDay.objects.filter(
        enrolment__active=True, answered_at__isnull=True, missed=False, first_sent_at__isnull=False
    ).select_related("enrolment__village", "enrolment__elder")
    for day in open_days:
        with transaction.atomic():
            locked = CheckinDay.objects.select_for_update().get(pk=day.pk)
            if locked.answered_at or locked.missed:
                continue
            if now >= locked.first_sent_at + _hours("SAFECHECK_MISSED_AFTER_HOURS", 4):
                locked.missed = True
                locked.save(update_fields=["missed"])
                done["missed"] += 1
                misses = _misses_in_a_row(day.enrolment)
                if misses == TASK_AFTER:
                    _visit_task(day.enrolment, locked.day)
                    done["tasks"] += 1
                elif misses == ALERT_AFTER:
                    _raise_alert(day.enrolment)
                    done["alerts"] += 1
            elif locked.second_sent_at is None and now >= locked.first_sent_at + _hours(
                "SAFECHECK_SECOND_AFTER_HOURS", 2
            ):
                locked.second_sent_at = now
                locked.save(update_fields=["second_sent_at"])
                phone = day.enrolment.phone
                transaction.on_commit(lambda phone=phone: send_template(phone, "safecheck_again"))
                done["second"] += 1
    return done


# --- replies ---------------------------------------------------------------------------------------


@transaction.atomic
def receive_reply(*, message_id: str, phone: str, text: str, now: datetime.datetime | None = None) -> bool:
    """Keep a provider's reply once (by its message id); a "1" from an enrolled number answers today's question.
    Returns True if it answered a question. The caller answers every well-signed callback the same way."""
    now = now or timezone.now()
    try:
        number = clean_phone(phone)
    except ValidationError:
        number = ""
    phone_hash = keyed_hash(number) if number else ""
    try:
        with transaction.atomic():
            reply = CheckinReply.objects.create(provider_message_id=message_id[:100], phone_hash=phone_hash)
    except IntegrityError:
        return False  # the same message again: already handled
    if (text or "").strip() not in SAFE_REPLIES or not phone_hash:
        return False
    day = (
        CheckinDay.objects.select_for_update()
        .filter(
            enrolment__phone_hash=phone_hash,
            enrolment__active=True,
            day=timezone.localdate(now),
            answered_at__isnull=True,
        )
        .first()
    )
    if day is None:
        return False
    day.answered_at = now
    day.missed = False
    day.save(update_fields=["answered_at", "missed"])
    reply.day = day
    reply.save(update_fields=["day"])
    return True
