"""Mutual-aid activities (互助活动): reads and state changes."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.http import Http404
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction, Region, RegionLevel
from portal.sms import send_sms
from volunteers.models import (
    Activity,
    ActivitySignup,
    ActivityStatus,
    Audience,
    MembershipStatus,
    Organisation,
    OrganisationStatus,
    SignupStatus,
    VolunteerProfile,
)
from volunteers.organisations import is_org_admin, organisation_for_admin
from volunteers.signals import attendance_marked

ENDS_BEFORE_START = _("The activity must end after it starts.")
IN_THE_PAST = _("The activity cannot start in the past.")
DEADLINE_AFTER_START = _("The sign-up deadline must be before the activity starts.")
CAPACITY_POSITIVE = _("The number of places must be at least 1.")
CAPACITY_BELOW_SIGNUPS = _("%(count)s people have already signed up; places cannot be fewer.")
NOT_A_VILLAGE = _("Choose the village where the activity takes place.")
VILLAGE_OUTSIDE_AREA = _("The village must be in the organisation's own county (%(area)s).")
TOO_FAR_AHEAD = _("An activity can be posted at most %(days)s days ahead.")
TOO_LONG = _("One activity lasts at most %(days)s days; post longer work as several activities.")
ORG_NOT_APPROVED = _("Only an approved organisation can publish activities.")
PROFESSIONAL_ITEM = _("This service item is professional; choose another or ask a qualified social worker.")
BAD_TRANSITION = _("This activity cannot go from “%(from)s” to “%(to)s”.")
NOT_EDITABLE = _("A finished or cancelled activity can no longer be changed.")
NOT_OPEN = _("This activity is not open for sign-up.")
DEADLINE_PASSED = _("The sign-up deadline has passed.")
ALREADY_SIGNED_UP = _("You have already signed up for this activity.")
FULL = _("Sorry, this activity is full.")
NOT_SIGNED_UP = _("You have not signed up for this activity.")
MEMBERS_ONLY = _("Only members of the organisation can sign up for this activity.")
VOLUNTEERS_ONLY = _("Only registered volunteers can sign up; complete your volunteer profile first.")
NOT_STARTED = _("Attendance can be marked once the activity has started.")
BAD_MINUTES = _("Minutes served must be between 0 and the length of the activity.")

TRANSITIONS = {
    ActivityStatus.DRAFT: {ActivityStatus.PUBLISHED, ActivityStatus.CANCELLED},
    ActivityStatus.PUBLISHED: {ActivityStatus.FINISHED, ActivityStatus.CANCELLED},
    ActivityStatus.FINISHED: set(),
    ActivityStatus.CANCELLED: set(),
}


# --- reads ----------------------------------------------------------------------------------------


def activities_public() -> QuerySet[Activity]:
    """Published activities of approved organisations, with what a list shows, soonest first."""
    return (
        Activity.objects.filter(status=ActivityStatus.PUBLISHED, organisation__status=OrganisationStatus.APPROVED)
        .select_related("organisation", "village__parent__parent")
        .order_by("start", "pk")
    )


def activities_upcoming(*, limit: int = 5, region=None):
    """Upcoming published activities, soonest first; `region` (a Region or code) narrows to its subtree."""
    queryset = activities_public().filter(end__gte=timezone.now())
    if region is not None:
        code = region if isinstance(region, str) else region.code
        prefix = Region(code=code, level=_level_of(code)).prefix
        queryset = queryset.filter(village__code__startswith=prefix)
    return list(queryset[:limit]) if limit else queryset


def _level_of(code: str) -> str:
    if code[2:] == "0" * 10:
        return RegionLevel.PROVINCE
    if code[4:] == "0" * 8:
        return RegionLevel.CITY
    if code[6:] == "0" * 6:
        return RegionLevel.COUNTY
    if code[9:] == "000":
        return RegionLevel.TOWNSHIP
    return RegionLevel.VILLAGE


def activity_visible(*, user, pk: int) -> Activity:
    """An activity as its page shows it: drafts only to the organisation's admins."""
    activity = (
        Activity.objects.select_related("organisation__kind", "village__parent__parent", "service_item")
        .filter(pk=pk)
        .first()
    )
    if activity is None:
        raise Http404
    public = activity.status != ActivityStatus.DRAFT and activity.organisation.status == OrganisationStatus.APPROVED
    if not public and not is_org_admin(user=user, organisation=activity.organisation):
        raise Http404
    return activity


def activity_for_admin(*, user, pk: int) -> Activity:
    """The activity if `user` administers its organisation (another organisation's admin gets 404)."""

    activity = Activity.objects.select_related("organisation", "village__parent__parent").filter(pk=pk).first()
    if activity is None:
        raise Http404
    organisation_for_admin(user=user, pk=activity.organisation_id)
    return activity


# --- writes: the organiser ------------------------------------------------------------------------


MAX_DAYS_AHEAD = 366
MAX_DAYS_LONG = 31


def _home_area(organisation: Organisation) -> Region:
    """The county an organisation works in (its own region when that is larger, e.g. a city's team)."""
    region = organisation.region
    while region.level in (RegionLevel.VILLAGE, RegionLevel.TOWNSHIP) and region.parent_id:
        region = region.parent
    return region


def _check_fields(
    *, organisation, village, start, end, capacity, signup_deadline, service_item, signed_up: int = 0, new=True
):
    errors = {}
    if village is None or village.level != RegionLevel.VILLAGE:
        errors["village"] = NOT_A_VILLAGE
    else:
        area = _home_area(organisation)
        if not area.contains(village):
            errors["village"] = ValidationError(VILLAGE_OUTSIDE_AREA, params={"area": area.name})
    if start and end and end <= start:
        errors["end"] = ENDS_BEFORE_START
    elif start and end and end - start > datetime.timedelta(days=MAX_DAYS_LONG):
        errors["end"] = ValidationError(TOO_LONG, params={"days": MAX_DAYS_LONG})
    if new and start and start <= timezone.now():
        errors["start"] = IN_THE_PAST
    elif new and start and start > timezone.now() + datetime.timedelta(days=MAX_DAYS_AHEAD):
        errors["start"] = ValidationError(TOO_FAR_AHEAD, params={"days": MAX_DAYS_AHEAD})
    if start and signup_deadline and signup_deadline > start:
        errors["signup_deadline"] = DEADLINE_AFTER_START
    if capacity is None or capacity < 1:
        errors["capacity"] = CAPACITY_POSITIVE
    elif capacity < signed_up:
        errors["capacity"] = ValidationError(CAPACITY_BELOW_SIGNUPS, params={"count": signed_up})
    if service_item is not None and service_item.professional:
        errors["service_item"] = PROFESSIONAL_ITEM
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def activity_create(
    *,
    actor,
    organisation: Organisation,
    kind: str,
    title: str,
    village: Region,
    start: datetime.datetime,
    end: datetime.datetime,
    capacity: int,
    signup_deadline: datetime.datetime,
    audience: str,
    description: str = "",
    address: str = "",
    service_item=None,
    walk_ins: bool = False,
    latitude=None,
    longitude=None,
    request=None,
) -> Activity:
    """An organisation admin posts an activity; it starts as a draft."""
    if not is_org_admin(user=actor, organisation=organisation):
        raise Http404
    _check_fields(
        organisation=organisation,
        village=village,
        start=start,
        end=end,
        capacity=capacity,
        signup_deadline=signup_deadline,
        service_item=service_item,
    )
    activity = Activity(
        organisation=organisation,
        kind=kind,
        title=" ".join(title.split()),
        description=description.strip(),
        village=village,
        address=address.strip(),
        start=start,
        end=end,
        capacity=capacity,
        signup_deadline=signup_deadline,
        audience=audience,
        service_item=service_item,
        walk_ins=walk_ins,
        latitude=latitude,
        longitude=longitude,
        created_by=actor,
    )
    activity.full_clean()
    activity.save()
    audit.record(AuditAction.CREATE, request=request, actor=actor, obj=activity)
    return activity


EDITABLE_FIELDS = (
    "kind",
    "title",
    "description",
    "village",
    "address",
    "start",
    "end",
    "capacity",
    "signup_deadline",
    "audience",
    "service_item",
    "walk_ins",
    "latitude",
    "longitude",
)


@transaction.atomic
def activity_update(*, actor, activity: Activity, request=None, **fields) -> Activity:
    if not is_org_admin(user=actor, organisation=activity.organisation):
        raise Http404
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.status in (ActivityStatus.FINISHED, ActivityStatus.CANCELLED):
        raise ValidationError(NOT_EDITABLE, code="not_editable")
    unknown = set(fields) - set(EDITABLE_FIELDS)
    assert not unknown, unknown
    merged = {name: fields.get(name, getattr(activity, name)) for name in EDITABLE_FIELDS}
    _check_fields(
        organisation=activity.organisation,
        village=merged["village"],
        start=merged["start"],
        end=merged["end"],
        capacity=merged["capacity"],
        signup_deadline=merged["signup_deadline"],
        service_item=merged["service_item"],
        signed_up=activity.signup_count,
        new=merged["start"] != activity.start,
    )
    changes = {}
    for name, value in merged.items():
        if getattr(activity, name) != value:
            changes[name] = str(value)[:100]
            setattr(activity, name, value)
    activity.title = " ".join(activity.title.split())
    activity.full_clean()
    activity.save()
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=activity, changes=changes)
    return activity


@transaction.atomic
def activity_change_status(*, actor, activity: Activity, status: str, request=None) -> Activity:
    """Publish, finish or cancel. Cancelling tells everyone signed up by SMS."""
    if not is_org_admin(user=actor, organisation=activity.organisation):
        raise Http404
    activity = Activity.objects.select_for_update().select_related("organisation").get(pk=activity.pk)
    current, target = ActivityStatus(activity.status), ActivityStatus(status)
    if target not in TRANSITIONS[current]:
        raise ValidationError(BAD_TRANSITION, code="bad_transition", params={"from": current.label, "to": target.label})
    if target == ActivityStatus.PUBLISHED:
        if activity.organisation.status != OrganisationStatus.APPROVED:
            raise ValidationError(ORG_NOT_APPROVED, code="org_not_approved")
        if activity.start <= timezone.now():
            raise ValidationError(IN_THE_PAST, code="in_the_past")
    if target == ActivityStatus.FINISHED and activity.start > timezone.now():
        raise ValidationError(NOT_STARTED, code="not_started")
    activity.status = target
    activity.save(update_fields=["status", "updated_at"])
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=activity, changes={"status": [current, target]})
    if target == ActivityStatus.CANCELLED:
        signups = activity.signups.filter(status=SignupStatus.SIGNED_UP).select_related("user")
        phones = [s.user.phone for s in signups]
        with translation.override(settings.LANGUAGE_CODE):
            when = date_format(timezone.localtime(activity.start), "DATE_FORMAT")
        when = f"{when} {timezone.localtime(activity.start):%H:%M}"
        with translation.override(settings.LANGUAGE_CODE):  # SMS go out in the site's language
            message = gettext("The activity “%(title)s” on %(when)s has been cancelled. Sorry for the trouble.") % {
                "title": activity.title,
                "when": when,
            }
        transaction.on_commit(lambda: [send_sms(phone, message) for phone in phones])
    return activity


@transaction.atomic
def attendance_mark(*, actor, activity: Activity, marks: dict[int, tuple[bool, int | None]], request=None) -> int:
    """Mark who came and how many minutes each served: {signup id: (attended, minutes)}. Returns rows changed."""
    if not is_org_admin(user=actor, organisation=activity.organisation):
        raise Http404
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if activity.status == ActivityStatus.CANCELLED or activity.start > timezone.now():
        raise ValidationError(NOT_STARTED, code="not_started")
    for attended, minutes in marks.values():
        if attended and (minutes is None or not 0 <= minutes <= activity.minutes):
            raise ValidationError(BAD_MINUTES, code="bad_minutes")
    signups = {s.pk: s for s in activity.signups.filter(pk__in=marks, status=SignupStatus.SIGNED_UP)}
    changed = 0
    for pk, (attended, minutes) in marks.items():
        signup = signups.get(pk)
        if signup is None:
            continue
        signup.attended = attended
        signup.minutes = minutes if attended else 0
        signup.save(update_fields=["attended", "minutes"])
        changed += 1
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=activity, changes={"attendance": changed})
    # Attendance is service: services.records turns it into submitted service records (idempotent).
    attendance_marked.send(sender=Activity, actor=actor, activity=activity, request=request)
    return changed


# --- writes: the participant ----------------------------------------------------------------------


def _may_join(user, activity: Activity) -> None:
    if activity.audience == Audience.MEMBERS:
        if not activity.organisation.memberships.filter(user=user, status=MembershipStatus.ACTIVE).exists():
            raise ValidationError(MEMBERS_ONLY, code="members_only")
    elif activity.audience == Audience.VOLUNTEERS:
        member = activity.organisation.memberships.filter(user=user, status=MembershipStatus.ACTIVE).exists()
        if not member and not VolunteerProfile.objects.filter(user=user).exists():
            raise ValidationError(VOLUNTEERS_ONLY, code="volunteers_only")


def join_refusal(user, activity: Activity) -> str | None:
    """Why `user` may not sign up for `activity` (members only, volunteers only), or None: the detail page
    says so before the button is pressed."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        _may_join(user, activity)
    except ValidationError as error:
        return error.messages[0]
    return None


@transaction.atomic
def activity_signup(*, user, activity: Activity, request=None) -> ActivitySignup:
    """Take a place. The seat is taken by one conditional UPDATE on the activity row, so under any
    concurrency the count never passes capacity; a second sign-up by the same person is refused."""
    activity = Activity.objects.select_for_update().select_related("organisation").get(pk=activity.pk)
    now = timezone.now()
    if activity.status != ActivityStatus.PUBLISHED or activity.organisation.status != OrganisationStatus.APPROVED:
        raise ValidationError(NOT_OPEN, code="not_open")
    if now > activity.signup_deadline:
        raise ValidationError(DEADLINE_PASSED, code="deadline_passed")
    _may_join(user, activity)
    existing = ActivitySignup.objects.select_for_update().filter(activity=activity, user=user).first()
    if existing and existing.status == SignupStatus.SIGNED_UP:
        raise ValidationError(ALREADY_SIGNED_UP, code="already_signed_up")
    taken = Activity.objects.filter(pk=activity.pk, signup_count__lt=F("capacity")).update(
        signup_count=F("signup_count") + 1
    )
    if not taken:
        raise ValidationError(FULL, code="full")
    try:
        with transaction.atomic():
            if existing:
                existing.status = SignupStatus.SIGNED_UP
                existing.reminded_at = None
                existing.save(update_fields=["status", "reminded_at"])
                signup = existing
            else:
                signup = ActivitySignup.objects.create(activity=activity, user=user)
    except IntegrityError as exc:
        raise ValidationError(ALREADY_SIGNED_UP, code="already_signed_up") from exc
    audit.record(AuditAction.CREATE, request=request, actor=user, obj=signup)
    return signup


@transaction.atomic
def activity_withdraw(*, user, activity: Activity, request=None) -> ActivitySignup:
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if timezone.now() > activity.signup_deadline:
        raise ValidationError(DEADLINE_PASSED, code="deadline_passed")
    signup = (
        ActivitySignup.objects.select_for_update()
        .filter(activity=activity, user=user, status=SignupStatus.SIGNED_UP)
        .first()
    )
    if signup is None:
        raise ValidationError(NOT_SIGNED_UP, code="not_signed_up")
    signup.status = SignupStatus.WITHDRAWN
    signup.save(update_fields=["status"])
    Activity.objects.filter(pk=activity.pk, signup_count__gt=0).update(signup_count=F("signup_count") - 1)
    audit.record(AuditAction.CHANGE, request=request, actor=user, obj=signup, changes={"status": "withdrawn"})
    return signup


def reminders_send(*, now: datetime.datetime | None = None) -> int:
    """Text everyone signed up for a published activity starting tomorrow (local date). Idempotent: a
    sign-up is claimed by setting `reminded_at` in one conditional UPDATE before its message goes out."""
    now = now or timezone.now()
    tomorrow = timezone.localtime(now).date() + datetime.timedelta(days=1)
    start_from = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time.min))
    start_to = start_from + datetime.timedelta(days=1)
    pending = ActivitySignup.objects.filter(
        status=SignupStatus.SIGNED_UP,
        reminded_at__isnull=True,
        activity__status=ActivityStatus.PUBLISHED,
        activity__start__gte=start_from,
        activity__start__lt=start_to,
    ).select_related("activity__village", "user")
    sent = 0
    for signup in pending:
        claimed = ActivitySignup.objects.filter(pk=signup.pk, reminded_at__isnull=True).update(reminded_at=now)
        if not claimed:
            continue
        activity = signup.activity
        with translation.override(settings.LANGUAGE_CODE):
            message = gettext("Reminder: “%(title)s” is tomorrow at %(time)s, %(place)s.") % {
                "title": activity.title,
                "time": timezone.localtime(activity.start).strftime("%H:%M"),
                "place": activity.place,
            }
        send_sms(signup.user.phone, message)
        sent += 1
    return sent
