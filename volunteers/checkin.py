"""Sign-in at the door of an activity (扫码签到): a kiosk shows a code that changes every 30 seconds.

The QR code carries a token signed with django.core.signing, bound to the activity and to a 30-second window;
the 6-digit code (for phones without a camera) is an HMAC of the same two. A code stays good for the window it
was shown in and the next one (so a code read at the 29th second still works), then it has expired. Each
sign-up remembers the last window it used: the same code cannot be used twice (a replay), so signing out needs
a later code than signing in. Signing out puts the times into attendance, and attendance becomes a submitted
service record through the existing path (the `attendance_marked` signal)."""

import datetime
import math
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction
from volunteers.activities import _may_join
from volunteers.models import Activity, ActivitySignup, ActivityStatus, SignupStatus
from volunteers.signals import attendance_marked

WINDOW_SECONDS = 30
SALT = "volunteers.checkin"
OPENS_BEFORE = datetime.timedelta(hours=1)  # sign-in opens an hour before the start
CLOSES_AFTER = datetime.timedelta(hours=1)  # sign-out closes an hour after the end

BAD_CODE = _("This code is not valid. Scan the code on the screen at the door again, or type its 6 digits.")
EXPIRED = _("This code has expired (codes change every 30 seconds). Scan or type the code now on the screen.")
OTHER_ACTIVITY = _("This code belongs to another activity.")
REPLAY = _("This code has already been used. Wait for the next code on the screen (in under 30 seconds).")
NOT_OPEN = _("Sign-in is open from an hour before the activity until it ends; sign-out until an hour after.")
NOT_SIGNED_UP = _("You have not signed up for this activity, and it does not take walk-ins.")
ALREADY_IN = _("You have already signed in at %(time)s.")
OUT_BEFORE_IN = _("You have not signed in yet: sign in first.")
ALREADY_OUT = _("You have already signed out at %(time)s.")
LOCATION_NEEDED = _("This activity checks where you sign in: allow your phone to share its location and try again.")
TOO_FAR = _("You seem to be %(distance)s m from the activity; sign in at the door (within %(max)s m).")
FULL = _("Sorry, this activity is full.")

IN, OUT = "in", "out"


def current_window(now: datetime.datetime | None = None) -> int:
    return int((now or timezone.now()).timestamp() // WINDOW_SECONDS)


def seconds_left(now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    return WINDOW_SECONDS - int(now.timestamp() % WINDOW_SECONDS)


def token_for(activity_pk: int, window: int) -> str:
    return signing.dumps({"a": activity_pk, "w": window}, salt=SALT)


def digits_for(activity_pk: int, window: int) -> str:
    digest = salted_hmac(SALT, f"{activity_pk}:{window}", algorithm="sha256").digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def kiosk_codes(activity: Activity, now: datetime.datetime | None = None) -> dict:
    window = current_window(now)
    return {
        "token": token_for(activity.pk, window),
        "digits": digits_for(activity.pk, window),
        "seconds_left": seconds_left(now),
    }


def window_of(*, activity: Activity, token: str = "", digits: str = "", now=None) -> int:
    """The window a presented code belongs to, or a ValidationError saying why it is refused."""
    window = current_window(now)
    if token:
        try:
            payload = signing.loads(token, salt=SALT)
            used, activity_pk = int(payload["w"]), int(payload["a"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise ValidationError(BAD_CODE, code="bad_code") from None
        if activity_pk != activity.pk:
            raise ValidationError(OTHER_ACTIVITY, code="other_activity")
        if used > window:
            raise ValidationError(BAD_CODE, code="bad_code")
        if used < window - 1:
            raise ValidationError(EXPIRED, code="expired")
        return used
    digits = "".join(str(digits or "").split())
    if len(digits) != 6 or not digits.isdigit():
        raise ValidationError(BAD_CODE, code="bad_code")
    for candidate in (window, window - 1):
        if constant_time_compare(digits, digits_for(activity.pk, candidate)):
            return candidate
    # a code of the last ten minutes: say it expired rather than that it is wrong
    if any(constant_time_compare(digits, digits_for(activity.pk, window - k)) for k in range(2, 21)):
        raise ValidationError(EXPIRED, code="expired")
    raise ValidationError(BAD_CODE, code="bad_code")


def distance_metres(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine) on a sphere of the Earth's mean radius."""
    phi1, phi2 = math.radians(float(lat1)), math.radians(float(lat2))
    dphi, dlmb = phi2 - phi1, math.radians(float(lon2) - float(lon1))
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


def max_distance() -> int:
    """VOLUNTEERS_CHECKIN_MAX_METRES: 0 turns the location check off (the default)."""
    return int(getattr(settings, "VOLUNTEERS_CHECKIN_MAX_METRES", 0) or 0)


def _check_location(activity: Activity, latitude, longitude) -> None:
    limit = max_distance()
    if not limit or activity.latitude is None or activity.longitude is None:
        return
    try:
        lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidOperation
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(LOCATION_NEEDED, code="location_needed") from None
    distance = distance_metres(lat, lon, activity.latitude, activity.longitude)
    if distance > limit:
        raise ValidationError(TOO_FAR, code="too_far", params={"distance": int(distance), "max": limit})


def _hhmm(value: datetime.datetime) -> str:
    return f"{timezone.localtime(value):%H:%M}"


def served_minutes(activity: Activity, signed_in: datetime.datetime, signed_out: datetime.datetime) -> int:
    """The minutes between sign-in and sign-out that fall within the activity (whole minutes)."""
    start, end = max(signed_in, activity.start), min(signed_out, activity.end)
    return max(int((end - start).total_seconds() // 60), 0)


def _walk_in(*, user, activity: Activity, existing: ActivitySignup | None) -> ActivitySignup:
    _may_join(user, activity)
    taken = Activity.objects.filter(pk=activity.pk, signup_count__lt=F("capacity")).update(
        signup_count=F("signup_count") + 1
    )
    if not taken:
        raise ValidationError(FULL, code="full")
    if existing is not None:
        existing.status = SignupStatus.SIGNED_UP
        existing.save(update_fields=["status"])
        return existing
    return ActivitySignup.objects.create(activity=activity, user=user)


@transaction.atomic
def checkin(
    *,
    user,
    activity: Activity,
    action: str,
    token: str = "",
    digits: str = "",
    latitude=None,
    longitude=None,
    request=None,
) -> ActivitySignup:
    """Sign in (`action="in"`) or out (`"out"`) with the code on the kiosk; all refusals change nothing."""
    now = timezone.now()
    activity = Activity.objects.select_for_update().select_related("organisation").get(pk=activity.pk)
    window = window_of(activity=activity, token=token, digits=digits, now=now)
    statuses = (ActivityStatus.PUBLISHED,) if action == IN else (ActivityStatus.PUBLISHED, ActivityStatus.FINISHED)
    opens, closes = (
        activity.start - OPENS_BEFORE,
        activity.end + (CLOSES_AFTER if action == OUT else datetime.timedelta()),
    )
    if activity.status not in statuses or not opens <= now <= closes:
        raise ValidationError(NOT_OPEN, code="not_open")
    _check_location(activity, latitude, longitude)
    signup = ActivitySignup.objects.select_for_update().filter(activity=activity, user=user).first()
    if signup is None or signup.status != SignupStatus.SIGNED_UP:
        if action != IN or not activity.walk_ins:
            raise ValidationError(NOT_SIGNED_UP, code="not_signed_up")
        signup = _walk_in(user=user, activity=activity, existing=signup)
    if signup.code_window is not None and window <= signup.code_window:
        raise ValidationError(REPLAY, code="replay")
    if action == IN:
        if signup.checked_in_at is not None:
            raise ValidationError(ALREADY_IN, code="already_in", params={"time": _hhmm(signup.checked_in_at)})
        signup.checked_in_at = now
        fields = ["checked_in_at", "code_window"]
    else:
        if signup.checked_in_at is None:
            raise ValidationError(OUT_BEFORE_IN, code="out_before_in")
        if signup.checked_out_at is not None:
            raise ValidationError(ALREADY_OUT, code="already_out", params={"time": _hhmm(signup.checked_out_at)})
        signup.checked_out_at = now
        signup.attended = True
        signup.minutes = served_minutes(activity, signup.checked_in_at, now)
        fields = ["checked_out_at", "code_window", "attended", "minutes"]
    signup.code_window = window
    signup.save(update_fields=fields)
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=user,
        obj=activity,
        changes={"checkin": action, "signup": signup.pk, **({"minutes": signup.minutes} if action == OUT else {})},
    )
    if action == OUT and signup.minutes:
        # the times are attendance; services.records turns this one person's attendance into a submitted record
        attendance_marked.send(sender=Activity, actor=user, activity=activity, request=request, signups=[signup])
    return signup


def checked_in_count(activity: Activity) -> tuple[int, int]:
    signups = activity.signups.filter(status=SignupStatus.SIGNED_UP)
    return (
        signups.filter(checked_in_at__isnull=False).count(),
        signups.filter(checked_out_at__isnull=False).count(),
    )
