"""The rules of a service record: the messages, the settings, who may record for whom, and `check_record`, the one
validation entry point every write goes through.

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
- for an elder, the giver must be linked to the elder (`RECORDS_ELDER_LINK_CHECK`, a dotted path to
  `check(record) -> None`; the default, `paired_or_liaison_vouches`, accepts a paired giver and otherwise
  leaves the record for the village liaison to confirm);
- a professional service item needs a qualified social worker;
- a confirmed or settled record is never edited: it is corrected by a reversal (see records/models.py)."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from portal.models import RoleKind
from portal.scoping import can_write, in_scope
from services.models import Elder, Pairing
from services.pairing.models import PairingStatus
from services.pairing.selectors import is_paired
from services.records.models import (
    COUNTED_STATUSES,
    LOCKED_STATUSES,
    RecordKind,
    RecordStatus,
    ServiceRecord,
    minutes_between,
)
from volunteers.models import ActivitySignup, Membership, MembershipStatus, SignupStatus
from volunteers.organisations import is_org_admin

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
PAST_REASON_REQUIRED = _("Say why this activity is entered after it took place.")
PAST_NOT_ENDED = _("An activity entered after it took place must already have ended.")
PAST_NEEDS_ORG = _("Choose the organisation that held the activity.")
PAST_NOT_ADMIN = _("Only an admin of the organisation can enter its past activities.")


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
    return organisation is not None and is_org_admin(user=user, organisation=organisation)


def active_member_since(user, organisation) -> datetime.datetime | None:
    """Since when an active member's service counts for the organisation: the day she asked to join.

    Accepting a member vouches for her since her request (a volunteer often serves before the admin gets
    round to accepting her); service before the request is not the organisation's."""

    membership = (
        Membership.objects.filter(user=user, organisation=organisation, status=MembershipStatus.ACTIVE)
        .only("created_at", "decided_at")
        .first()
    )
    if membership is None:
        return None
    return min(filter(None, [membership.created_at, membership.decided_at]))


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

    if is_paired(record.giver, record.elder_id, at=record.start):
        return
    liaison_vouches(record)


def elders_paired_or_served(user) -> QuerySet:
    """Elders a giver may log for herself: those paired with her now; those paired with an organisation she
    is an active member of (service for her organisation, vouched by the liaison afterwards); and those a
    liaison already vouched for."""

    paired = Pairing.objects.filter(giver_user=user, status=PairingStatus.ACTIVE).values("elder_id")
    via_organisation = Pairing.objects.filter(
        giver_organisation__memberships__user=user,
        giver_organisation__memberships__status=MembershipStatus.ACTIVE,
        status=PairingStatus.ACTIVE,
    ).values("elder_id")
    return Elder.objects.filter(pk__in=paired) | Elder.objects.filter(pk__in=via_organisation) | elders_served(user)


def check_past_activity(
    *, organisation, start: datetime.datetime, end: datetime.datetime, reason: str, now: datetime.datetime | None = None
) -> None:
    """An organisation enters an activity after it took place (attendance recorded after the fact): it must
    have ended, within `RECORDS_LOG_WORKING_DAYS` working days, and the reason is said."""
    now = now or timezone.now()
    errors: dict[str, list] = {}
    if organisation is None:
        errors.setdefault("organisation", []).append(ValidationError(PAST_NEEDS_ORG, code="past_needs_org"))
    if not (reason or "").strip():
        errors.setdefault("late_reason", []).append(ValidationError(PAST_REASON_REQUIRED, code="past_reason"))
    if end > now:
        errors.setdefault("end_time", []).append(ValidationError(PAST_NOT_ENDED, code="past_not_ended"))
    late = working_days_between(_local(end).date(), _local(now).date())
    if late > log_working_days():
        errors.setdefault("day", []).append(
            ValidationError(TOO_LATE, code="too_late", params={"days": log_working_days(), "late": late})
        )
    if errors:
        raise ValidationError(errors)


def elder_link_check(record: ServiceRecord) -> None:
    path = getattr(settings, "RECORDS_ELDER_LINK_CHECK", "services.records.rules.paired_or_liaison_vouches")
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
    path = getattr(settings, "RECORDS_LINKED_ELDERS", "services.records.rules.elders_paired_or_served")
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
