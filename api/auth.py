"""Signing a client in: mobile number + SMS code → a short-lived access token and a refresh token.

The code follows portal.password_reset: six digits, kept as a keyed digest, valid ten minutes, three
tries, spent on first use. The tries are counted by one conditional UPDATE, so parallel guesses cannot
get more than three. Tokens are random, shown once, stored as digests in `ClientSession`; a refresh
replaces both (the old refresh token stops working), and revoking a session ends it at once.
"""

import datetime
import hashlib
import hmac
import secrets

from ninja.security import HttpBearer

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.audit import client_ip
from portal.middleware import mfa_required
from portal.models import AuditAction, User
from portal.phone import clean_phone
from portal.sms import send_sms

from . import ratelimit
from .models import ClientSession, SignInCode

CODE_TTL = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 3

TOO_MANY_CODES = _("Too many codes requested. Wait ten minutes and try again.")
TOO_MANY_TRIES = _("Too many sign-in attempts from here. Wait ten minutes and try again.")
CODE_GONE = _("This code has expired or was already used. Request a new one.")
CODE_WRONG = _("The code is not correct. Check the SMS and try again.")
CODE_LOCKED = _("Wrong code entered too many times. Request a new one.")
MFA_ROLE = _("Your role requires two-factor sign-in, which this client does not offer. Use the portal in a browser.")
REFRESH_INVALID = _("The refresh token is not valid: it has expired, was revoked or was already used. Sign in again.")


class SignInRefused(Exception):
    """A sign-in step refused: `message` (translated), `status` and `field` for the error body."""

    def __init__(self, message, *, status: int = 400, code: str = "invalid", field: str | None = None):
        super().__init__(str(message))
        self.message, self.status, self.code, self.field = message, status, code, field


def _digest(value: str) -> str:
    return hmac.new(f"api:{settings.SECRET_KEY}".encode(), value.encode(), hashlib.sha256).hexdigest()


def access_ttl() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(getattr(settings, "API_ACCESS_TOKEN_SECONDS", 15 * 60)))


def refresh_ttl() -> datetime.timedelta:
    return datetime.timedelta(days=int(getattr(settings, "API_REFRESH_TOKEN_DAYS", 30)))


# --- the SMS code ------------------------------------------------------------------------------------


def code_request(*, phone: str, request=None) -> None:
    """Send a sign-in code. An unknown or inactive number gets the same answer and no SMS, so the API
    does not tell who has an account."""
    phone = clean_phone(phone)
    ip = client_ip(request) or "unknown"
    if not ratelimit.allow("code_ip", ip) or not ratelimit.allow("code_phone", phone):
        raise SignInRefused(TOO_MANY_CODES, status=429, code="rate_limited")
    if not User.objects.filter(phone=phone, is_active=True).exists():
        return
    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    with transaction.atomic():
        # A new code replaces any earlier one still open.
        SignInCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=now)
        SignInCode.objects.create(phone=phone, digest=_digest(code), expires_at=now + CODE_TTL)
        message = gettext("Your sign-in code is %(code)s, valid for 10 minutes. Do not tell anyone.") % {"code": code}
        transaction.on_commit(lambda: send_sms(phone, message))


def code_exchange(*, phone: str, code: str, client_name: str = "", request=None) -> tuple[ClientSession, str, str]:
    """Check the code and open a client session; returns (session, access token, refresh token).

    Not one transaction: a wrong try must stay counted when the refusal is raised."""
    phone = clean_phone(phone)
    if not ratelimit.allow("token_ip", client_ip(request) or "unknown"):
        raise SignInRefused(TOO_MANY_TRIES, status=429, code="rate_limited")
    now = timezone.now()
    pending = SignInCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now).order_by("-pk").first()
    if pending is None:
        raise SignInRefused(CODE_GONE, code="code_gone", field="code")
    # One try is taken by a conditional UPDATE: parallel guesses cannot pass the limit.
    taken = SignInCode.objects.filter(pk=pending.pk, used_at__isnull=True, attempts__lt=MAX_ATTEMPTS).update(
        attempts=F("attempts") + 1
    )
    if not taken:
        raise SignInRefused(CODE_LOCKED, code="code_locked", field="code")
    if not hmac.compare_digest(pending.digest, _digest((code or "").strip())):
        if pending.attempts + 1 >= MAX_ATTEMPTS:
            SignInCode.objects.filter(pk=pending.pk).update(used_at=now)
            raise SignInRefused(CODE_LOCKED, code="code_locked", field="code")
        raise SignInRefused(CODE_WRONG, code="code_wrong", field="code")
    if not SignInCode.objects.filter(pk=pending.pk, used_at__isnull=True).update(used_at=now):
        raise SignInRefused(CODE_GONE, code="code_gone", field="code")
    user = User.objects.filter(phone=phone, is_active=True).first()
    if user is None:
        raise SignInRefused(CODE_GONE, code="code_gone", field="code")
    if mfa_required(user):
        raise SignInRefused(MFA_ROLE, status=403, code="mfa_required")
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with transaction.atomic():
        session = _open_session(user, access=access, refresh=refresh, client_name=client_name, now=now, request=request)
    return session, access, refresh


def _open_session(user, *, access, refresh, client_name, now, request) -> ClientSession:
    session = ClientSession.objects.create(
        user=user,
        client_name=(client_name or "").strip()[:60],
        access_digest=_digest(access),
        access_expires_at=now + access_ttl(),
        refresh_digest=_digest(refresh),
        refresh_expires_at=now + refresh_ttl(),
        created_at=now,
        ip_address=client_ip(request),
    )
    if not user.phone_verified:
        User.objects.filter(pk=user.pk).update(phone_verified=True)
    audit.record(AuditAction.LOGIN, request=request, actor=user, obj=session, changes={"via": "api"})
    return session


@transaction.atomic
def session_refresh(*, refresh_token: str, request=None) -> tuple[ClientSession, str, str]:
    """New access and refresh tokens for a live session; the old refresh token is spent."""
    if not ratelimit.allow("token_ip", client_ip(request) or "unknown"):
        raise SignInRefused(TOO_MANY_TRIES, status=429, code="rate_limited")
    now = timezone.now()
    old = _digest(refresh_token or "")
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    rotated = ClientSession.objects.filter(
        refresh_digest=old, revoked_at__isnull=True, refresh_expires_at__gt=now, user__is_active=True
    ).update(
        refresh_digest=_digest(refresh),
        access_digest=_digest(access),
        access_expires_at=now + access_ttl(),
        last_used_at=now,
    )
    if not rotated:
        raise SignInRefused(REFRESH_INVALID, status=401, code="refresh_invalid", field="refresh_token")
    session = ClientSession.objects.get(refresh_digest=_digest(refresh))
    return session, access, refresh


def session_revoke(*, actor, session: ClientSession, request=None) -> bool:
    """End a session (the owner's own only). Returns False if it was already revoked."""
    if session.user_id != actor.pk:
        return False
    ended = ClientSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if ended:
        audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=session, changes={"revoked": True})
    return bool(ended)


def sessions_of(user):
    """A person's client sessions that can still be used, newest first."""
    return ClientSession.objects.filter(user=user, revoked_at__isnull=True, refresh_expires_at__gt=timezone.now())


# --- the bearer check on every private endpoint -------------------------------------------------------


class AccessToken(HttpBearer):
    """`Authorization: Bearer <access token>`: the session must be live and its user active."""

    def authenticate(self, request, token):
        now = timezone.now()
        session = (
            ClientSession.objects.select_related("user")
            .filter(access_digest=_digest(token), revoked_at__isnull=True, access_expires_at__gt=now)
            .first()
        )
        if session is None or not session.user.is_active:
            return None
        if session.last_used_at is None or now - session.last_used_at > datetime.timedelta(minutes=1):
            ClientSession.objects.filter(pk=session.pk).update(last_used_at=now)
        request.user = session.user
        request.api_session = session
        return session.user
