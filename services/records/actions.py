"""Writes of service records, each with its actor, audit event and side effects: create (alone or for a group),
edit, confirm, reject, reverse, records from an activity's attendance, a helper added by phone."""

import datetime
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from portal import audit
from portal.models import AuditAction, User
from portal.phone import clean_phone
from services.records import rules as record_rules
from services.records import selectors as record_reads
from services.records.models import (
    RecordKind,
    RecordStatus,
    ServiceRecord,
    minutes_between,
)
from services.timebank import actions as timebank
from volunteers.models import Activity, ActivitySignup, ActivityStatus, Audience, SignupStatus

# --- writes ----------------------------------------------------------------------------------------


def _may_record_for(actor, *, giver, organisation, region) -> bool:
    if actor.pk == giver.pk or actor.is_superuser:
        return True
    if organisation is not None and record_rules.is_admin_of(actor, organisation):
        return record_rules.active_member_since(giver, organisation) is not None
    return record_rules.is_liaison_of(actor, region)


def _build(
    *,
    actor,
    giver,
    kind: str,
    service_item,
    start: datetime.datetime,
    end: datetime.datetime,
    place: str,
    content: str,
    elder=None,
    activity=None,
    organisation=None,
    photo=None,
    group_key=None,
) -> ServiceRecord:
    if activity is not None:
        organisation = activity.organisation
        region = activity.village
    elif elder is not None:
        region = elder.village
    else:
        raise ValidationError(record_rules.ONE_TARGET, code="one_target")
    if not _may_record_for(actor, giver=giver, organisation=organisation, region=region):
        raise PermissionDenied(record_rules.NOT_PROXY)
    return ServiceRecord(
        giver=giver,
        organisation=organisation,
        elder=elder,
        activity=activity,
        region=region,
        service_item=service_item,
        kind=kind,
        start=start,
        end=end,
        place=(place or "").strip(),
        content=(content or "").strip(),
        photo=photo or "",
        recorded_by=actor,
        group_key=group_key,
    )


def _save_new(record: ServiceRecord) -> ServiceRecord:
    record_rules.check_record(record)
    record.full_clean(exclude=["minutes", "recorded_by", "giver"], validate_constraints=False)
    record.save()
    return record


@transaction.atomic
def record_create(*, actor, request=None, **fields) -> ServiceRecord:
    """Log one piece of service: by the giver, or by proxy (organisation admin, village liaison)."""
    elder = fields.get("elder")
    if (
        elder is not None
        and fields["giver"].pk == actor.pk
        and not actor.is_superuser
        and not record_rules.is_liaison_of(actor, elder.village_id)
        and not record_rules.linked_elders(actor).filter(pk=elder.pk).exists()
    ):
        raise ValidationError(record_rules.ELDER_NOT_LINKED, code="elder_not_linked")
    record = _save_new(_build(actor=actor, **fields))
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=record,
        changes={"giver": record.giver_id, "minutes": record.minutes, "kind": record.kind},
    )
    return record


def _split(start: datetime.datetime, end: datetime.datetime, parts: int) -> list[tuple]:
    """Consecutive slots covering [start, end): one helper's time shared among several elders."""
    total = minutes_between(start, end)
    base, extra = divmod(total, parts)
    slots, cursor = [], start
    for i in range(parts):
        length = base + (1 if i < extra else 0)
        slot_end = cursor + datetime.timedelta(minutes=length)
        slots.append((cursor, slot_end))
        cursor = slot_end
    return slots


@transaction.atomic
def record_create_group(
    *,
    actor,
    givers: list,
    elders: list | None = None,
    activity=None,
    kind: str,
    service_item,
    start: datetime.datetime,
    end: datetime.datetime,
    place: str,
    content: str,
    organisation=None,
    request=None,
) -> list[ServiceRecord]:
    """One entry for a group, expanded into one record per person, all or nothing.

    多帮一 (several helpers × one elder or activity): each helper gets the whole time.
    一帮多 (one helper × several elders): the helper's time is split into consecutive slots, one per
    elder, so the helper's total stays exactly the time served.
    """
    elders = list(elders or [])
    givers = list(dict.fromkeys(givers))
    if not givers or (not elders and activity is None):
        raise ValidationError(record_rules.GROUP_EMPTY, code="group_empty")
    if len(givers) > 1 and len(elders) > 1:
        raise ValidationError(record_rules.GROUP_SHAPE, code="group_shape")
    key = uuid.uuid4()
    common = {"kind": kind, "service_item": service_item, "place": place, "content": content, "group_key": key}
    if elders and len(elders) > 1:
        if end <= start:
            raise ValidationError(record_rules.ENDS_BEFORE_START, code="ends_before_start")
        plan = [(givers[0], elder, s, e) for elder, (s, e) in zip(elders, _split(start, end, len(elders)), strict=True)]
    else:
        plan = [(giver, elders[0] if elders else None, start, end) for giver in givers]
    created, errors = [], []
    for giver, elder, s, e in plan:
        record = _build(
            actor=actor,
            giver=giver,
            elder=elder,
            activity=activity if elder is None else None,
            organisation=organisation,
            start=s,
            end=e,
            **common,
        )
        try:
            created.append(_save_new(record))
        except ValidationError as exc:
            who = f"{giver}" + (f" → {elder.name}" if elder is not None and len(elders) > 1 else "")
            errors.extend(
                ValidationError(record_rules.GROUP_ROW, code="group_row", params={"name": who, "message": message})
                for message in exc.messages
            )
    if errors:
        raise ValidationError(errors)
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        object_type="services.servicerecord",
        object_id=str(key),
        object_repr=f"group entry ({len(created)})",
        changes={"records": [r.pk for r in created], "minutes": sum(r.minutes for r in created)},
    )
    return created


@transaction.atomic
def activity_enter_past(
    *,
    actor,
    organisation,
    title: str,
    givers: list,
    service_item,
    start: datetime.datetime,
    end: datetime.datetime,
    place: str,
    reason: str,
    request=None,
) -> Activity:
    """An organisation admin enters an activity after it took place, so its attendance can be recorded.

    Within the logging window and with a reason (services.records.rules.check_past_activity). It is created
    finished, with the helpers who took part signed up as of its start; the reason is kept in its
    description and in the audit trail. The caller records the service against it in the same transaction."""
    if organisation is None or not record_rules.is_admin_of(actor, organisation):
        if organisation is None:
            record_rules.check_past_activity(organisation=None, start=start, end=end, reason=reason)
        raise PermissionDenied(record_rules.PAST_NOT_ADMIN)
    record_rules.check_past_activity(organisation=organisation, start=start, end=end, reason=reason)
    if end <= start:
        raise ValidationError(record_rules.ENDS_BEFORE_START, code="ends_before_start")
    givers = list(dict.fromkeys(givers))
    activity = Activity.objects.create(
        organisation=organisation,
        title=" ".join(title.split())[:100],
        description=gettext("Entered after it took place. Reason: %(reason)s") % {"reason": reason.strip()[:500]},
        village=organisation.region,
        address=(place or "").strip()[:200],
        start=start,
        end=end,
        capacity=max(len(givers), 1),
        signup_deadline=start,
        audience=Audience.VOLUNTEERS,
        service_item=service_item,
        status=ActivityStatus.FINISHED,
        created_by=actor,
    )
    signups = [ActivitySignup(activity=activity, user=giver, attended=True) for giver in givers]
    ActivitySignup.objects.bulk_create(signups)
    # they took part in it: signed up as of its start, so the signup rule of check_record holds
    ActivitySignup.objects.filter(activity=activity).update(created_at=start)
    Activity.objects.filter(pk=activity.pk).update(signup_count=len(givers))
    activity.refresh_from_db()
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=activity,
        changes={"entered_after_the_fact": True, "reason": reason.strip()[:500], "helpers": [g.pk for g in givers]},
    )
    return activity


EDITABLE_FIELDS = ("service_item", "start", "end", "place", "content", "kind")


@transaction.atomic
def record_update(*, actor, record: ServiceRecord, request=None, **fields) -> ServiceRecord:
    """Change a submitted record (by its giver or whoever entered it); confirmed records are locked."""
    record = ServiceRecord.objects.select_for_update().get(pk=record.pk)
    if actor.pk not in (record.giver_id, record.recorded_by_id):
        raise Http404
    if record.status != RecordStatus.SUBMITTED:
        raise ValidationError(record_rules.LOCKED, code="locked")
    before = {f: str(getattr(record, f)) for f in fields if f in EDITABLE_FIELDS}
    for name, value in fields.items():
        if name in EDITABLE_FIELDS:
            setattr(record, name, value)
    record.minutes = minutes_between(record.start, record.end)
    record_rules.check_record(record)
    record.full_clean(exclude=["minutes", "recorded_by", "giver"], validate_constraints=False)
    record.save()
    after = {f: str(getattr(record, f)) for f in before}
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=record,
        changes={f: [before[f], after[f]] for f in before if before[f] != after[f]},
    )
    return record


def _decide(*, actor, record: ServiceRecord, status: str, reason: str = "", request=None) -> ServiceRecord:
    # Lock the row: a second confirmer waits here, then sees the first one's decision.
    locked = ServiceRecord.objects.select_for_update().filter(pk=record.pk).first()
    if locked is None or not record_reads.records_for(actor).filter(pk=record.pk).exists():
        raise Http404
    if locked.giver_id == actor.pk:
        raise PermissionDenied(record_rules.OWN_RECORD)
    if not record_reads.may_confirm(actor, locked):
        raise PermissionDenied(record_rules.NOT_CONFIRMER)
    if locked.status != RecordStatus.SUBMITTED:
        raise ValidationError(
            record_rules.ALREADY_DECIDED, code="already_decided", params={"status": locked.get_status_display()}
        )
    locked.status = status
    locked.reason = reason
    locked.confirmed_by = actor
    locked.confirmed_at = timezone.now()
    if status == RecordStatus.CONFIRMED:
        record_rules.check_record(locked)
    # The conditional UPDATE is the second guard (databases without row locks): only one decision lands.
    changed = ServiceRecord.objects.filter(pk=locked.pk, status=RecordStatus.SUBMITTED).update(
        status=status, reason=reason, confirmed_by=actor, confirmed_at=locked.confirmed_at, updated_at=timezone.now()
    )
    if not changed:
        locked.refresh_from_db()
        raise ValidationError(
            record_rules.ALREADY_DECIDED, code="already_decided", params={"status": locked.get_status_display()}
        )
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=locked,
        changes={"status": [RecordStatus.SUBMITTED, status], **({"reason": reason} if reason else {})},
    )
    if status == RecordStatus.CONFIRMED:
        # mutual aid deposits time in the giver's time-bank account, in this same transaction
        timebank.deposit_for_record(record=locked, actor=actor)
    return locked


@transaction.atomic
def record_confirm(*, actor, record: ServiceRecord, request=None) -> ServiceRecord:
    return _decide(actor=actor, record=record, status=RecordStatus.CONFIRMED, request=request)


@transaction.atomic
def record_reject(*, actor, record: ServiceRecord, reason: str, request=None) -> ServiceRecord:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(record_rules.REASON_REQUIRED, code="reason_required")
    return _decide(actor=actor, record=record, status=RecordStatus.REJECTED, reason=reason[:300], request=request)


def records_confirm_bulk(*, actor, ids: list[int], request=None) -> tuple[list[ServiceRecord], list[str]]:
    """Confirm many records; each one on its own (one that fails does not hold back the others).

    Returns (confirmed, messages about those that were not)."""
    confirmed, problems = [], []
    visible = {r.pk: r for r in record_reads.records_for(actor).filter(pk__in=ids).select_related("giver")}
    for pk in dict.fromkeys(ids):
        record = visible.get(pk)
        if record is None:
            problems.append(str(record_rules.NOT_FOUND % {"pk": pk}))
            continue
        try:
            confirmed.append(record_confirm(actor=actor, record=record, request=request))
        except (ValidationError, PermissionDenied, Http404) as exc:
            text = (
                "；".join(exc.messages)
                if isinstance(exc, ValidationError)
                else str(exc) or str(record_rules.NOT_CONFIRMER)
            )
            problems.append(f"{record.giver} {record_rules._fmt(record.start)}: {text}")
    return confirmed, problems


@transaction.atomic
def record_reverse(*, actor, record: ServiceRecord, reason: str, request=None) -> ServiceRecord:
    """Correct a confirmed or settled record: a reversing entry (sign −1) that keeps both visible."""
    original = ServiceRecord.objects.select_for_update().filter(pk=record.pk).first()
    if original is None or not record_reads.records_for(actor).filter(pk=record.pk).exists():
        raise Http404
    if not record_reads.may_reverse(actor, original):
        raise PermissionDenied(record_rules.NOT_CONFIRMER)
    return write_reversal(actor=actor, original=original, reason=reason, request=request)


def write_reversal(*, actor, original: ServiceRecord, reason: str, request=None) -> ServiceRecord:
    """The reversing entry itself, for a caller that has already locked the original and checked who may
    correct it (record_reverse; a spot-check call-back that found the service did not happen)."""
    now = timezone.now()
    reversal = ServiceRecord(
        giver_id=original.giver_id,
        organisation_id=original.organisation_id,
        elder_id=original.elder_id,
        activity_id=original.activity_id,
        region_id=original.region_id,
        service_item_id=original.service_item_id,
        kind=original.kind,
        start=original.start,
        end=original.end,
        sign=-1,
        place=original.place,
        content=original.content,
        status=RecordStatus.CONFIRMED,
        reason=(reason or "").strip()[:300],
        confirmed_by=actor,
        confirmed_at=now,
        recorded_by=actor,
        reverses=original,
    )
    record_rules.check_record(reversal)
    reversal.save()
    timebank.reverse_for_record(reversal=reversal, actor=actor)  # its deposit, if any, is taken back
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=reversal,
        changes={"reverses": original.pk, "minutes": -original.minutes, "reason": reversal.reason},
    )
    return reversal


@transaction.atomic
def records_from_attendance(*, actor, activity, request=None, signups=None) -> tuple[list[ServiceRecord], list[str]]:
    """Attendance marked on an activity becomes submitted records (one per person who served minutes).

    Idempotent: a person who already has a record for the activity is skipped. Each record passes
    `check_record`; those that do not are skipped and reported (returned messages), the others are kept.
    Call it from volunteers.activities.attendance_mark once the organiser saves attendance, or for one person's
    `signups` when they sign out at the door (volunteers.checkin: their own attendance, still to be confirmed).
    """

    own_sign_out = signups is not None and all(s.user_id == actor.pk for s in signups)
    if not own_sign_out and not record_rules.is_admin_of(actor, activity.organisation) and not actor.is_superuser:
        raise PermissionDenied(record_rules.NOT_PROXY)
    if activity.service_item_id is None:
        return [], [str(record_rules.NO_ACTIVITY_ITEM)]
    done = set(ServiceRecord.objects.filter(activity=activity, sign=1).values_list("giver_id", flat=True))
    created, problems = [], []
    attended = activity.signups.filter(status=SignupStatus.SIGNED_UP, attended=True, minutes__gt=0)
    if signups is not None:
        attended = attended.filter(pk__in=[s.pk for s in signups])
    for signup in attended.select_related("user"):
        # signed in at the door: the record starts then (never before the activity)
        start = max(signup.checked_in_at, activity.start) if signup.checked_in_at else activity.start
        if signup.user_id in done:
            continue
        record = ServiceRecord(
            giver=signup.user,
            organisation=activity.organisation,
            activity=activity,
            region_id=activity.village_id,
            service_item_id=activity.service_item_id,
            kind=RecordKind.VOLUNTEER,
            start=start,
            end=start + datetime.timedelta(minutes=signup.minutes),
            place=activity.place[:200],
            content=activity.title,
            recorded_by=actor,
        )
        try:
            with transaction.atomic():
                record_rules.check_record(record)
                record.save()
        except ValidationError as exc:
            problems.extend(f"{signup.user}: {message}" for message in exc.messages)
            continue
        created.append(record)
    if created:
        audit.record(
            AuditAction.CREATE,
            request=request,
            actor=actor,
            obj=activity,
            changes={"records_from_attendance": [r.pk for r in created]},
        )
    return created, problems


def giver_by_phone(*, actor, phone: str, name: str = "", request=None) -> User:
    """A helper who never signs in, found by mobile number or added (no usable password) by proxy entry."""
    phone = clean_phone(phone)
    user = User.objects.filter(phone=phone).first()
    if user is not None:
        return user
    if not name.strip():
        raise ValidationError(record_rules.PHONE_NEEDS_NAME, code="phone_needs_name")
    user = User.objects.create_user(phone, None, real_name=name.strip()[:50])
    audit.record(AuditAction.CREATE, request=request, actor=actor, obj=user, changes={"proxy_helper": True})
    return user
