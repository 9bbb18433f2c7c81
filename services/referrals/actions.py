"""Writes of the referrals: refer (from an alert or a visit), acknowledge, record the outcome, escalate the
overdue ones. Each is audited; SMS go after the commit."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from portal import audit
from portal.formatting import cn_datetime
from portal.models import AuditAction, Region, RoleKind, StaffRole
from portal.sms_templates import send_template
from services.care.models import Alert, Visit
from services.referrals import rules
from services.referrals.models import DEADLINE_DAYS, Referral, ReferralKind, ReferralStatus

TOWNSHIP, COUNTY = "township", "county"


def _receiving_region(village_code: str, level: str) -> Region:
    if level == TOWNSHIP:
        return Region.objects.get(code=village_code[:9] + "000")
    if level == COUNTY:
        return Region.objects.get(code=village_code[:6] + "000000")
    raise ValidationError(rules.BAD_LEVEL, code="level")


def _tell(phones, key: str, **values) -> None:
    for phone in sorted({p for p in phones if p}):
        transaction.on_commit(lambda phone=phone: send_template(phone, key, **values))


def _department_phones(region_code: str) -> list[str]:
    return list(
        StaffRole.objects.filter(region_id=region_code, role=RoleKind.DEPARTMENT, user__is_active=True).values_list(
            "user__phone", flat=True
        )
    )


@transaction.atomic
def refer(
    *,
    actor,
    kind: str,
    reason: str,
    level: str = TOWNSHIP,
    alert: Alert | None = None,
    visit: Visit | None = None,
    request=None,
) -> Referral:
    source = alert or visit
    elder = getattr(source, "elder", None)
    if source is None or elder is None:
        raise ValidationError(rules.NO_SOURCE, code="source")
    if not rules.may_refer(actor, elder.village_id):
        raise PermissionDenied(rules.NOT_REFERRER)
    if kind not in ReferralKind.values:
        raise ValidationError(rules.BAD_LEVEL, code="kind")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(rules.REASON_REQUIRED, code="reason")
    receiving = _receiving_region(elder.village_id, level)
    referral = Referral.objects.create(
        elder=elder,
        village_id=elder.village_id,
        department_region=receiving,
        kind=kind,
        alert=alert,
        visit=visit if alert is None else None,
        reason=reason[:1000],
        deadline=timezone.now() + datetime.timedelta(days=DEADLINE_DAYS[ReferralKind(kind)]),
        created_by=actor,
    )
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=referral,
        changes={
            "kind": kind,
            "to": receiving.code,
            "alert": getattr(alert, "pk", None),
            "visit": getattr(visit, "pk", None),
        },
    )
    _tell(
        _department_phones(receiving.code),
        "referral_new",
        village=elder.village.name,
        kind=str(referral.get_kind_display()),
        deadline=cn_datetime(referral.deadline),
    )
    return referral


def _locked(referral: Referral) -> Referral:
    return Referral.objects.select_for_update().get(pk=referral.pk)


@transaction.atomic
def acknowledge(*, actor, referral: Referral, request=None) -> Referral:
    locked = _locked(referral)
    if not rules.is_receiver(actor, locked):
        raise PermissionDenied(rules.NOT_DEPARTMENT)
    if locked.status != ReferralStatus.SENT:
        raise ValidationError(rules.WRONG_STEP, code="step", params={"status": locked.get_status_display()})
    locked.status = ReferralStatus.ACKNOWLEDGED
    locked.acknowledged_by = actor
    locked.acknowledged_at = timezone.now()
    locked.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    audit.record(
        AuditAction.CHANGE, request=request, actor=actor, obj=locked, changes={"status": ["sent", "acknowledged"]}
    )
    return locked


@transaction.atomic
def record_outcome(*, actor, referral: Referral, outcome: str, request=None) -> Referral:
    locked = _locked(referral)
    if not rules.is_receiver(actor, locked):
        raise PermissionDenied(rules.NOT_DEPARTMENT)
    if locked.status == ReferralStatus.DONE:
        raise ValidationError(rules.WRONG_STEP, code="step", params={"status": locked.get_status_display()})
    outcome = (outcome or "").strip()
    if not outcome:
        raise ValidationError(rules.OUTCOME_REQUIRED, code="outcome")
    now = timezone.now()
    before = locked.status
    if locked.acknowledged_at is None:
        locked.acknowledged_by, locked.acknowledged_at = actor, now
    locked.status = ReferralStatus.DONE
    locked.outcome = outcome[:1000]
    locked.done_at = now
    locked.save()
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=locked, changes={"status": [before, "done"]})
    return locked


def escalate_overdue(*, now: datetime.datetime | None = None) -> int:
    """Referrals past their deadline without an outcome, not yet escalated: the township and county officers
    over the village are told, once. Returns how many were escalated."""
    now = now or timezone.now()
    done = 0
    due = Referral.objects.filter(escalated_at__isnull=True, deadline__lt=now).exclude(status=ReferralStatus.DONE)
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            referral = Referral.objects.select_for_update().select_related("village").get(pk=pk)
            if referral.escalated_at is not None or referral.status == ReferralStatus.DONE:
                continue
            referral.escalated_at = now
            referral.save(update_fields=["escalated_at"])
            code = referral.village_id
            phones = StaffRole.objects.filter(
                user__is_active=True,
                role__in=(RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER),
                region_id__in=(code[:9] + "000", code[:6] + "000000"),
            ).values_list("user__phone", flat=True)
            _tell(
                list(phones) + _department_phones(referral.department_region_id),
                "referral_overdue",
                village=referral.village.name,
                kind=str(referral.get_kind_display()),
            )
            audit.record(AuditAction.CHANGE, obj=referral, changes={"escalated": now.isoformat(timespec="minutes")})
            done += 1
    return done
