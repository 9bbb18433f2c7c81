"""Service hours: the one validation entry point (`check_record`), the state changes of a service record,
and the totals.

Rules (each a module constant message, each tested with its violation):
- the end is after the start; nothing in the future; at most `RECORDS_MAX_MINUTES` (12 h) per record and
  1440 minutes per giver per calendar day (records counted on the day they start);
- no overlap with another live record of the same giver (rejected records, reversals and reversed
  records do not occupy time);
- logged within `RECORDS_LOG_WORKING_DAYS` (10) working days of the service (民政部《志愿服务记录与证明出具
  办法》第十一条); Saturdays and Sundays do not count, public holidays are not modelled;
- exactly one of elder / activity; a purchased-service record names its organisation;
- the giver is an active member of the organisation at the time of the service; for an activity, signed
  up to it (or one of its organisers), and the service lies within its hours;
- for an elder, the giver must be linked to the elder. Pairings (issue 6) plug in here through the
  setting `RECORDS_ELDER_LINK_CHECK` (a dotted path to `check(record) -> None`, raising ValidationError).
  The default, `liaison_vouches`, requires the record to be entered or confirmed by the village liaison
  of the elder's village: a record a giver logs stays submitted until that liaison confirms it;
- a professional service item needs a qualified social worker;
- a confirmed or settled record is never edited: it is corrected by a reversal (see models/records.py).
"""

import datetime
import uuid
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Substr, TruncMonth
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction, RoleKind, User
from portal.phone import clean_phone
from portal.scoping import can_write, in_scope, scope_queryset
from services.models import Elder
from services.records.models import (
    COUNTED_STATUSES,
    LOCKED_STATUSES,
    RecordKind,
    RecordStatus,
    ServiceRecord,
    minutes_between,
)

# --- messages --------------------------------------------------------------------------------------

ENDS_BEFORE_START = _("The service must end after it starts.")
IN_THE_FUTURE = _("Service cannot be recorded before it has happened.")
TOO_LONG = _("One record can cover at most %(hours)s hours; split longer service into several records.")
DAY_OVER_24H = _("This would make more than 24 hours of service on %(date)s for this person.")
OVERLAPS = _("This person already has a record from %(start)s to %(end)s that overlaps this time.")
TOO_LATE = _("Service must be recorded within %(days)s working days; this was %(late)s working days ago.")
ONE_TARGET = _("A record is for one elder or for one activity, not both and not neither.")
PURCHASED_NEEDS_ORG = _("Purchased service is delivered by an organisation: choose the organisation.")
NOT_MEMBER = _("%(name)s was not a member of %(organisation)s at the time of the service.")
NOT_SIGNED_UP = _("%(name)s had not signed up for this activity.")
OUTSIDE_ACTIVITY = _("The service time must lie within the activity's hours.")
WRONG_ACTIVITY_ORG = _("An activity's service is recorded under the organisation that runs it.")
NOT_VOUCHED = _(
    "Service to an elder must be entered or confirmed by the village liaison of the elder's village "
    "(until pairings are in place)."
)
PROFESSIONAL_ITEM = _("This service item is professional; only a qualified social worker may deliver it.")
LOCKED = _("A confirmed or settled record cannot be changed; correct it with a reversing entry.")
OWN_RECORD = _("You cannot confirm your own service record.")
NOT_CONFIRMER = _("You may not confirm this record: only its organisation's admin or the village liaison may.")
ALREADY_DECIDED = _("Someone else has just confirmed or rejected this record; it is now “%(status)s”.")
REASON_REQUIRED = _("Give the reason, so the giver knows what to change.")
NOT_REVERSIBLE = _("Only a confirmed or settled record can be reversed.")
ALREADY_REVERSED = _("This record has already been reversed.")
REVERSAL_OF_REVERSAL = _("A reversing entry cannot itself be reversed; record the service again instead.")
NOT_PROXY = _("You may record service only for yourself, for members of an organisation you run, or in your village.")
GROUP_SHAPE = _("A group entry is several helpers for one elder, or one helper for several elders — not both.")
GROUP_EMPTY = _("Choose at least one helper and one elder or activity.")
GROUP_ROW = _("%(name)s: %(message)s")
ELDER_NOT_LINKED = _("You can record service only for elders you are paired with.")
PHONE_NEEDS_NAME = _("No account has this mobile number yet; give the helper's name to add them.")
NO_ACTIVITY_ITEM = _("The activity names no service item, so its attendance cannot become service records yet.")
NOT_FOUND = _("Record %(pk)s was not found or is not yours to confirm.")


# --- settings --------------------------------------------------------------------------------------


def max_minutes() -> int:
    return int(getattr(settings, "RECORDS_MAX_MINUTES", 12 * 60))


def log_working_days() -> int:
    return int(getattr(settings, "RECORDS_LOG_WORKING_DAYS", 10))


def activity_slack() -> datetime.timedelta:
    return datetime.timedelta(minutes=int(getattr(settings, "RECORDS_ACTIVITY_SLACK_MINUTES", 60)))


def star_thresholds() -> list[int]:
    """Hours for 1 to 5 stars (一星至五星志愿者)."""
    return [int(h) for h in getattr(settings, "RECORDS_STAR_HOURS", (100, 300, 600, 1000, 1500))]


DAY_MINUTES = 24 * 60


# --- small helpers ---------------------------------------------------------------------------------


def working_days_between(first: datetime.date, last: datetime.date) -> int:
    """Working days after `first` up to and including `last` (Monday–Friday)."""
    if last <= first:
        return 0
    days = (last - first).days
    weeks, rest = divmod(days, 7)
    count = weeks * 5
    weekday = first.weekday()
    for i in range(1, rest + 1):
        if (weekday + i) % 7 < 5:
            count += 1
    return count


def _local(value: datetime.datetime) -> datetime.datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _fmt(value: datetime.datetime) -> str:
    return _local(value).strftime("%Y-%m-%d %H:%M")


def _name(user) -> str:
    return str(user)


def is_liaison_of(user, region) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or region is None:
        return False
    return in_scope(user, region, roles=[RoleKind.VILLAGE_LIAISON]) and can_write(user)


def is_admin_of(user, organisation) -> bool:
    from volunteers.organisations import is_org_admin

    return organisation is not None and is_org_admin(user=user, organisation=organisation)


def active_member_since(user, organisation) -> datetime.datetime | None:
    """When the user became an active member (decision time, or the request when added directly)."""
    from volunteers.models import Membership, MembershipStatus

    membership = (
        Membership.objects.filter(user=user, organisation=organisation, status=MembershipStatus.ACTIVE)
        .only("created_at", "decided_at")
        .first()
    )
    if membership is None:
        return None
    return membership.decided_at or membership.created_at


# --- the elder link (pluggable) ----------------------------------------------------------------


def liaison_vouches(record: ServiceRecord) -> None:
    """Default elder-link rule until pairings exist: the elder's village liaison entered or confirmed it."""
    village = record.elder.village_id
    if is_liaison_of(record.recorded_by, village):
        return
    if record.status in COUNTED_STATUSES and is_liaison_of(record.confirmed_by, village):
        return
    if record.status == RecordStatus.SUBMITTED:
        return  # waiting for the liaison's confirmation
    raise ValidationError(NOT_VOUCHED, code="not_vouched")


def paired_or_liaison_vouches(record: ServiceRecord) -> None:
    """The elder-link rule: the giver was paired with the elder when they served, or the liaison vouches."""
    from services.pairing.lifecycle import is_paired

    if is_paired(record.giver, record.elder_id, at=record.start):
        return
    liaison_vouches(record)


def elders_paired_or_served(user) -> QuerySet:
    """Elders a giver may log for: those paired with them now, and those a liaison already vouched for."""
    from services.models import Pairing
    from services.pairing.models import PairingStatus

    paired = Pairing.objects.filter(giver_user=user, status=PairingStatus.ACTIVE).values("elder_id")
    return Elder.objects.filter(pk__in=paired) | elders_served(user)


def elder_link_check(record: ServiceRecord) -> None:
    path = getattr(settings, "RECORDS_ELDER_LINK_CHECK", "services.records.actions.paired_or_liaison_vouches")
    import_string(path)(record)


def elders_served(user) -> QuerySet:
    """Default for "elders this giver may log service for": elders a liaison has already vouched for."""
    return Elder.objects.filter(
        pk__in=ServiceRecord.objects.filter(giver=user, status__in=COUNTED_STATUSES, elder__isnull=False).values(
            "elder_id"
        )
    )


def linked_elders(user) -> QuerySet:
    """Elders a giver may pick when logging their own service (pairings plug in via RECORDS_LINKED_ELDERS)."""
    path = getattr(settings, "RECORDS_LINKED_ELDERS", "services.records.actions.elders_paired_or_served")
    return import_string(path)(user)


# --- the one validation entry point ----------------------------------------------------------------


def check_record(record: ServiceRecord, *, now: datetime.datetime | None = None) -> None:
    """Validate a record against every rule; raise one ValidationError listing all violations."""
    now = now or timezone.now()
    errors: list[ValidationError] = []

    def fail(message, code, **params):
        errors.append(ValidationError(message, code=code, params=params or None))

    if record.pk:
        stored = ServiceRecord.objects.filter(pk=record.pk).values_list("status", flat=True).first()
        if stored in LOCKED_STATUSES and record.status == stored:
            raise ValidationError(LOCKED, code="locked")

    if record.is_reversal:
        _check_reversal(record)
        return

    if (record.elder_id is None) == (record.activity_id is None):
        fail(ONE_TARGET, "one_target")
    if record.kind == RecordKind.PURCHASED and record.organisation_id is None:
        fail(PURCHASED_NEEDS_ORG, "purchased_needs_org")

    start, end = record.start, record.end
    times_ok = start is not None and end is not None
    if times_ok and end <= start:
        fail(ENDS_BEFORE_START, "ends_before_start")
        times_ok = False
    if times_ok:
        minutes = minutes_between(start, end)
        if end > now:
            fail(IN_THE_FUTURE, "in_the_future")
        if minutes > max_minutes():
            fail(TOO_LONG, "too_long", hours=max_minutes() // 60)
        logged_on = _local(record.created_at or now).date()
        late = working_days_between(_local(end).date(), logged_on)
        if late > log_working_days():
            fail(TOO_LATE, "too_late", days=log_working_days(), late=late)
        others = ServiceRecord.objects.live().filter(giver_id=record.giver_id)
        if record.pk:
            others = others.exclude(pk=record.pk)
        clash = others.filter(start__lt=end, end__gt=start).order_by("start").first()
        if clash:
            fail(OVERLAPS, "overlaps", start=_fmt(clash.start), end=_fmt(clash.end))
        else:
            day = _local(start).date()
            day_start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
            day_end = day_start + datetime.timedelta(days=1)
            same_day = others.filter(start__gte=day_start, start__lt=day_end).aggregate(total=Sum("minutes"))
            if (same_day["total"] or 0) + minutes > DAY_MINUTES:
                fail(DAY_OVER_24H, "day_over_24h", date=day.isoformat())

    giver = record.giver
    if record.organisation_id and times_ok:
        since = active_member_since(giver, record.organisation)
        if since is None or _local(since).date() > _local(start).date():
            fail(NOT_MEMBER, "not_member", name=_name(giver), organisation=record.organisation.name)

    if record.activity_id:
        activity = record.activity
        if record.organisation_id and record.organisation_id != activity.organisation_id:
            fail(WRONG_ACTIVITY_ORG, "wrong_activity_org")
        if times_ok and (start < activity.start - activity_slack() or end > activity.end + activity_slack()):
            fail(OUTSIDE_ACTIVITY, "outside_activity")
        from volunteers.models import ActivitySignup, SignupStatus

        signed_up = ActivitySignup.objects.filter(
            activity=activity, user=giver, status=SignupStatus.SIGNED_UP, created_at__lte=activity.end
        ).exists()
        if not signed_up and not is_admin_of(giver, activity.organisation):
            fail(NOT_SIGNED_UP, "not_signed_up", name=_name(giver))

    if record.elder_id and record.activity_id is None:
        try:
            elder_link_check(record)
        except ValidationError as exc:
            errors.extend(exc.error_list)

    if record.service_item_id and record.service_item.professional:
        profile = getattr(giver, "volunteer_profile", None)
        if profile is None or not profile.is_professional:
            fail(PROFESSIONAL_ITEM, "professional_item")

    if errors:
        raise ValidationError(errors)


def _check_reversal(record: ServiceRecord) -> None:
    original = record.reverses
    if original is None or original.status not in LOCKED_STATUSES:
        raise ValidationError(NOT_REVERSIBLE, code="not_reversible")
    if original.is_reversal:
        raise ValidationError(REVERSAL_OF_REVERSAL, code="reversal_of_reversal")
    if ServiceRecord.objects.filter(reverses=original).exclude(pk=record.pk).exists():
        raise ValidationError(ALREADY_REVERSED, code="already_reversed")
    if not record.reason.strip():
        raise ValidationError(REASON_REQUIRED, code="reason_required")


# --- reads -----------------------------------------------------------------------------------------


def _admin_org_ids(user):
    from volunteers.models import Membership, MembershipStatus

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
    from volunteers.models import Membership, MembershipStatus

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
    if record.organisation_id and is_admin_of(user, record.organisation):
        return active_member_since(record.giver, record.organisation) is not None
    return record.elder_id is not None and is_liaison_of(user, record.region_id)


def may_reverse(user, record: ServiceRecord) -> bool:
    """The recording unit corrects: the organisation's admin or the village liaison, never the giver."""
    if not getattr(user, "is_authenticated", False) or record.giver_id == user.pk:
        return False
    if user.is_superuser:
        return True
    return is_admin_of(user, record.organisation) or is_liaison_of(user, record.region_id)


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


# --- writes ----------------------------------------------------------------------------------------


def _may_record_for(actor, *, giver, organisation, region) -> bool:
    if actor.pk == giver.pk or actor.is_superuser:
        return True
    if organisation is not None and is_admin_of(actor, organisation):
        return active_member_since(giver, organisation) is not None
    return is_liaison_of(actor, region)


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
        raise ValidationError(ONE_TARGET, code="one_target")
    if not _may_record_for(actor, giver=giver, organisation=organisation, region=region):
        raise PermissionDenied(NOT_PROXY)
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
    check_record(record)
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
        and not is_liaison_of(actor, elder.village_id)
        and not linked_elders(actor).filter(pk=elder.pk).exists()
    ):
        raise ValidationError(ELDER_NOT_LINKED, code="elder_not_linked")
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
        raise ValidationError(GROUP_EMPTY, code="group_empty")
    if len(givers) > 1 and len(elders) > 1:
        raise ValidationError(GROUP_SHAPE, code="group_shape")
    key = uuid.uuid4()
    common = {"kind": kind, "service_item": service_item, "place": place, "content": content, "group_key": key}
    if elders and len(elders) > 1:
        if end <= start:
            raise ValidationError(ENDS_BEFORE_START, code="ends_before_start")
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
                ValidationError(GROUP_ROW, code="group_row", params={"name": who, "message": message})
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


EDITABLE_FIELDS = ("service_item", "start", "end", "place", "content", "kind")


@transaction.atomic
def record_update(*, actor, record: ServiceRecord, request=None, **fields) -> ServiceRecord:
    """Change a submitted record (by its giver or whoever entered it); confirmed records are locked."""
    record = ServiceRecord.objects.select_for_update().get(pk=record.pk)
    if actor.pk not in (record.giver_id, record.recorded_by_id):
        raise Http404
    if record.status != RecordStatus.SUBMITTED:
        raise ValidationError(LOCKED, code="locked")
    before = {f: str(getattr(record, f)) for f in fields if f in EDITABLE_FIELDS}
    for name, value in fields.items():
        if name in EDITABLE_FIELDS:
            setattr(record, name, value)
    record.minutes = minutes_between(record.start, record.end)
    check_record(record)
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
    if locked is None or not records_for(actor).filter(pk=record.pk).exists():
        raise Http404
    if locked.giver_id == actor.pk:
        raise PermissionDenied(OWN_RECORD)
    if not may_confirm(actor, locked):
        raise PermissionDenied(NOT_CONFIRMER)
    if locked.status != RecordStatus.SUBMITTED:
        raise ValidationError(ALREADY_DECIDED, code="already_decided", params={"status": locked.get_status_display()})
    locked.status = status
    locked.reason = reason
    locked.confirmed_by = actor
    locked.confirmed_at = timezone.now()
    if status == RecordStatus.CONFIRMED:
        check_record(locked)
    # The conditional UPDATE is the second guard (databases without row locks): only one decision lands.
    changed = ServiceRecord.objects.filter(pk=locked.pk, status=RecordStatus.SUBMITTED).update(
        status=status, reason=reason, confirmed_by=actor, confirmed_at=locked.confirmed_at, updated_at=timezone.now()
    )
    if not changed:
        locked.refresh_from_db()
        raise ValidationError(ALREADY_DECIDED, code="already_decided", params={"status": locked.get_status_display()})
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=locked,
        changes={"status": [RecordStatus.SUBMITTED, status], **({"reason": reason} if reason else {})},
    )
    return locked


@transaction.atomic
def record_confirm(*, actor, record: ServiceRecord, request=None) -> ServiceRecord:
    return _decide(actor=actor, record=record, status=RecordStatus.CONFIRMED, request=request)


@transaction.atomic
def record_reject(*, actor, record: ServiceRecord, reason: str, request=None) -> ServiceRecord:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(REASON_REQUIRED, code="reason_required")
    return _decide(actor=actor, record=record, status=RecordStatus.REJECTED, reason=reason[:300], request=request)


def records_confirm_bulk(*, actor, ids: list[int], request=None) -> tuple[list[ServiceRecord], list[str]]:
    """Confirm many records; each one on its own (one that fails does not hold back the others).

    Returns (confirmed, messages about those that were not)."""
    confirmed, problems = [], []
    visible = {r.pk: r for r in records_for(actor).filter(pk__in=ids).select_related("giver")}
    for pk in dict.fromkeys(ids):
        record = visible.get(pk)
        if record is None:
            problems.append(str(NOT_FOUND % {"pk": pk}))
            continue
        try:
            confirmed.append(record_confirm(actor=actor, record=record, request=request))
        except (ValidationError, PermissionDenied, Http404) as exc:
            text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc) or str(NOT_CONFIRMER)
            problems.append(f"{record.giver} {_fmt(record.start)}: {text}")
    return confirmed, problems


@transaction.atomic
def record_reverse(*, actor, record: ServiceRecord, reason: str, request=None) -> ServiceRecord:
    """Correct a confirmed or settled record: a reversing entry (sign −1) that keeps both visible."""
    original = ServiceRecord.objects.select_for_update().filter(pk=record.pk).first()
    if original is None or not records_for(actor).filter(pk=record.pk).exists():
        raise Http404
    if not may_reverse(actor, original):
        raise PermissionDenied(NOT_CONFIRMER)
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
    check_record(reversal)
    reversal.save()
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=reversal,
        changes={"reverses": original.pk, "minutes": -original.minutes, "reason": reversal.reason},
    )
    return reversal


@transaction.atomic
def records_from_attendance(*, actor, activity, request=None) -> tuple[list[ServiceRecord], list[str]]:
    """Attendance marked on an activity becomes submitted records (one per person who served minutes).

    Idempotent: a person who already has a record for the activity is skipped. Each record passes
    `check_record`; those that do not are skipped and reported (returned messages), the others are kept.
    Call it from volunteers.activities.attendance_mark once the organiser saves attendance.
    """
    from volunteers.models import SignupStatus

    if not is_admin_of(actor, activity.organisation) and not actor.is_superuser:
        raise PermissionDenied(NOT_PROXY)
    if activity.service_item_id is None:
        return [], [str(NO_ACTIVITY_ITEM)]
    done = set(ServiceRecord.objects.filter(activity=activity, sign=1).values_list("giver_id", flat=True))
    created, problems = [], []
    signups = activity.signups.filter(status=SignupStatus.SIGNED_UP, attended=True, minutes__gt=0).select_related(
        "user"
    )
    for signup in signups:
        if signup.user_id in done:
            continue
        record = ServiceRecord(
            giver=signup.user,
            organisation=activity.organisation,
            activity=activity,
            region_id=activity.village_id,
            service_item_id=activity.service_item_id,
            kind=RecordKind.VOLUNTEER,
            start=activity.start,
            end=activity.start + datetime.timedelta(minutes=signup.minutes),
            place=activity.place[:200],
            content=activity.title,
            recorded_by=actor,
        )
        try:
            with transaction.atomic():
                check_record(record)
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
        raise ValidationError(PHONE_NEEDS_NAME, code="phone_needs_name")
    user = User.objects.create_user(phone, None, real_name=name.strip()[:50])
    audit.record(AuditAction.CREATE, request=request, actor=actor, obj=user, changes={"proxy_helper": True})
    return user


# --- totals ----------------------------------------------------------------------------------------


def signed_minutes():
    """Sum of minutes with reversals subtracted: the one total expression."""
    return Coalesce(Sum(F("minutes") * F("sign")), 0)


def star_level(minutes: int) -> int:
    hours = minutes // 60
    return sum(1 for threshold in star_thresholds() if hours >= threshold)


def next_star(minutes: int) -> int | None:
    hours = minutes // 60
    return next((t for t in star_thresholds() if hours < t), None)


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
        year = _local(row["month"]).year if isinstance(row["month"], datetime.datetime) else row["month"].year
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
