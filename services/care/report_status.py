"""Where is my report? (报告进展查询): a public reporter sees the state of their report.

The reporter types the reference number from the thanks page and the mobile number they reported with;
if both belong to one report, a 6-digit code is sent to that phone (`portal.sms.send_sms`, after commit).
With the code they see the report's kind, when it was sent, its state and when that last changed — never
the description, the steps' notes or who the elder is. A reference and phone that do not match get the
same answer as a match, so the page tells a stranger nothing.

Limits, all in the database where they matter: at most `MAX_SENDS_PER_HOUR` codes per report, one a
minute; each code is valid `CODE_TTL` and answers at most `MAX_ATTEMPTS` checks (one conditional UPDATE
per check, so concurrent guesses cannot exceed it). Each client address is also limited in the cache.
"""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal.audit import client_ip
from portal.sms import send_sms
from services.care.models import Alert, AlertLookupCode, AlertStatus

MAX_ATTEMPTS = 5
MAX_SENDS_PER_HOUR = 3
RESEND_AFTER = datetime.timedelta(minutes=1)
CODE_TTL = datetime.timedelta(minutes=30)
IP_LIMIT = 20
IP_WINDOW = 10 * 60

CODE_WRONG = _("The code is not correct. Check the SMS and try again.")
CODE_LOCKED = _("This code was tried too many times. Ask for a new code.")
CODE_GONE = _("This code has expired or no code was sent. Ask for a new code.")
TOO_MANY_TRIES = _("Too many tries from this device. Wait ten minutes and try again.")
SENT_TOO_OFTEN = _("A code was sent a moment ago, or too many codes were asked for this report. Wait and try again.")

# What each state means to the person who reported, in plain words.
STATE_EXPLAINED = {
    AlertStatus.REPORTED: _("Received. The village committee has not yet confirmed that it is acting on it."),
    AlertStatus.ACKNOWLEDGED: _("The village committee is dealing with it."),
    AlertStatus.ESCALATED: _("The village asked the township for help; the township is dealing with it."),
    AlertStatus.HANDLED: _("Help was given. The case will be closed after a last check."),
    AlertStatus.CLOSED: _("The case is closed."),
}


def _digest(alert_pk: int, code: str) -> str:
    key = hashlib.sha256(f"alert-lookup:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{alert_pk}:{code}".encode(), hashlib.sha256).hexdigest()


def _ip_allows(request) -> bool:
    if request is None:
        return True
    key = f"alert-lookup:ip:{hashlib.sha256((client_ip(request) or 'unknown').encode()).hexdigest()[:32]}"
    cache.add(key, 0, IP_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, IP_WINDOW)
        count = 1
    return count <= IP_LIMIT


def normalise_reference(reference: str) -> str:
    text = "".join((reference or "").split()).upper()
    return text.replace("－", "-").replace("—", "-").replace("–", "-")


def lookup_code_send(*, reference: str, phone: str, request=None) -> bool:
    """Send a code to `phone` if it reported `reference`. Returns whether one was sent (the page does not say).

    Raises ValidationError only for limits that do not reveal whether the report exists (per device), or
    when the matching report already had its codes (then the reporter is the one asking)."""
    if not _ip_allows(request):
        raise ValidationError(TOO_MANY_TRIES, code="too_many_tries")
    reference = normalise_reference(reference)
    now = timezone.now()
    with transaction.atomic():
        alert = (
            Alert.objects.select_for_update()
            .filter(reference=reference, reporter_phone=phone)
            .exclude(reporter_phone="")
            .first()
        )
        if alert is None:
            return False
        recent = AlertLookupCode.objects.filter(alert=alert, sent_at__gt=now - datetime.timedelta(hours=1))
        last = recent.order_by("-sent_at").first()
        if recent.count() >= MAX_SENDS_PER_HOUR or (last and last.sent_at > now - RESEND_AFTER):
            raise ValidationError(SENT_TOO_OFTEN, code="sent_too_often")
        code = f"{secrets.randbelow(10**6):06d}"
        AlertLookupCode.objects.create(
            alert=alert, code_digest=_digest(alert.pk, code), sent_at=now, expires_at=now + CODE_TTL
        )
        message = gettext(
            "Code %(code)s: to see the state of your report %(reference)s. Valid for %(minutes)s minutes."
        ) % {"code": code, "reference": alert.reference, "minutes": int(CODE_TTL.total_seconds() // 60)}
        transaction.on_commit(lambda: send_sms(phone, message))
    return True


def lookup_code_check(*, reference: str, code: str, request=None) -> Alert:
    """The report whose latest code this is, or ValidationError. Every check spends one of the code's tries."""
    if not _ip_allows(request):
        raise ValidationError(TOO_MANY_TRIES, code="too_many_tries")
    reference = normalise_reference(reference)
    code = "".join((code or "").split())
    now = timezone.now()
    latest = (
        AlertLookupCode.objects.filter(alert__reference=reference, expires_at__gt=now)
        .exclude(code_digest="")
        .order_by("-sent_at")
        .first()
    )
    if latest is None:
        raise ValidationError(CODE_GONE, code="code_gone")
    # one conditional UPDATE: only MAX_ATTEMPTS checks can ever pass this line for a code
    counted = AlertLookupCode.objects.filter(pk=latest.pk, attempts__lt=MAX_ATTEMPTS).update(attempts=F("attempts") + 1)
    if not counted:
        raise ValidationError(CODE_LOCKED, code="code_locked")
    if not hmac.compare_digest(latest.code_digest, _digest(latest.alert_id, code)):
        if latest.attempts + 1 >= MAX_ATTEMPTS:
            raise ValidationError(CODE_LOCKED, code="code_locked")
        raise ValidationError(CODE_WRONG, code="code_wrong")
    return Alert.objects.get(pk=latest.alert_id)


def report_state(alert: Alert) -> dict:
    """What the reporter may see of their report: no description, no notes, no names."""
    return {
        "reference": alert.reference,
        "kind": alert.get_kind_display(),
        "reported_at": alert.created_at,
        "status": alert.get_status_display(),
        "status_code": alert.status,
        "explained": STATE_EXPLAINED[AlertStatus(alert.status)],
        "changed_at": alert.status_changed_at,
        "closed_at": alert.closed_at,
    }
