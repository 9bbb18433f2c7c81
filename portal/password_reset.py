"""Password reset by SMS code.

allauth resets passwords by email only, and most of our users have no email. The flow: enter the
mobile number → a 6-digit code goes out by SMS (rate-limited per number and per IP with allauth's
limits) → enter the code with a new password.

The code lives hashed in the database (`PasswordResetCode`), expires, allows three tries and is spent
on first use. Every try is counted before the code is compared, by one conditional UPDATE, so parallel
requests cannot try more codes than the limit; tries are also counted per phone and per client address
(atomic cache counters). A known and an unknown number get the same answer, so the form cannot tell
who has an account.
"""

import datetime
import hashlib
import hmac
import secrets

from allauth.core import ratelimit

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import audit
from .forms import PhoneResetConfirmForm, PhoneResetRequestForm
from .models import AuditAction, PasswordResetCode, User
from .sms_templates import send_template

SESSION_KEY = "portal_password_reset"
CODE_TTL_SECONDS = 10 * 60
MAX_ATTEMPTS = 3  # per code
MAX_ATTEMPTS_PER_PHONE = 6  # per hour, over all codes sent to the number
MAX_ATTEMPTS_PER_IP = 10  # per hour, over all numbers
ATTEMPT_WINDOW_SECONDS = 3600

CODE_SENT = gettext_lazy(
    "If an account uses this mobile number, a code has been sent to it by SMS. It is valid for 10 minutes."
)
TOO_MANY_REQUESTS = gettext_lazy("Too many codes requested for this number. Wait ten minutes and try again.")
CODE_GONE = gettext_lazy("This code has expired or was already used. Request a new one.")
CODE_WRONG = gettext_lazy("The code is not correct. Check the SMS and try again.")
CODE_LOCKED = gettext_lazy("Wrong code entered too many times. Request a new one.")
TOO_MANY_ATTEMPTS = gettext_lazy("Too many codes tried. Wait an hour and try again.")


def _digest(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def _now() -> datetime.datetime:
    return timezone.now()


def count_attempt(key: str, limit: int, window: int = ATTEMPT_WINDOW_SECONDS) -> bool:
    """Count one attempt under `key`; False once more than `limit` were made within `window` seconds.

    `cache.add` then `cache.incr` is atomic on Redis and on the in-process cache, so parallel requests
    cannot read the same count.
    """
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key) <= limit
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return True


def request_code(request):
    form = PhoneResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        if not ratelimit.consume(request, action="reset_password", key=phone):
            form.add_error(None, TOO_MANY_REQUESTS)
        else:
            user = User.objects.filter(phone=phone, is_active=True).first()
            state = {"phone": phone, "code": None}
            if user is not None:
                code = f"{secrets.randbelow(10**6):06d}"
                PasswordResetCode.objects.filter(user=user, used_at__isnull=True).update(used_at=_now())
                reset = PasswordResetCode.objects.create(
                    user=user, digest=_digest(code), expires_at=_now() + datetime.timedelta(seconds=CODE_TTL_SECONDS)
                )
                state["code"] = reset.pk
                send_template(phone, "password_reset", code=code)
            request.session[SESSION_KEY] = state
            messages.info(request, CODE_SENT)
            return redirect("account_reset_password_code")
    return render(request, "account/password_reset_phone.html", {"form": form})


def _try_code(request, state: dict, code: str) -> tuple[PasswordResetCode | None, str | None]:
    """Count the try, then compare. Returns (the spent code, None) or (None, the error message)."""
    ip = audit.client_ip(request) or "-"
    if not count_attempt(f"portal:reset-try:ip:{ip}", MAX_ATTEMPTS_PER_IP):
        return None, TOO_MANY_ATTEMPTS
    if not count_attempt(f"portal:reset-try:phone:{state.get('phone')}", MAX_ATTEMPTS_PER_PHONE):
        return None, TOO_MANY_ATTEMPTS
    if state.get("code") is None:
        # An unknown number: answer exactly as a wrong code for a known one would.
        state["tries"] = state.get("tries", 0) + 1
        request.session[SESSION_KEY] = state
        return None, (CODE_LOCKED if state["tries"] >= MAX_ATTEMPTS else CODE_WRONG)
    live = PasswordResetCode.objects.filter(pk=state.get("code"), used_at__isnull=True, expires_at__gt=_now())
    # One atomic step per try: the row is locked by the UPDATE until the request commits.
    if not live.filter(attempts__lt=MAX_ATTEMPTS).update(attempts=F("attempts") + 1):
        return None, (CODE_LOCKED if live.exists() else CODE_GONE)
    reset = live.select_related("user").first()
    if reset is None:
        return None, CODE_GONE
    if not hmac.compare_digest(reset.digest, _digest(code)):
        return None, (CODE_LOCKED if reset.attempts >= MAX_ATTEMPTS else CODE_WRONG)
    if not live.filter(pk=reset.pk).update(used_at=_now()):
        return None, CODE_GONE
    return reset, None


def confirm_code(request):
    state = request.session.get(SESSION_KEY)
    pending = PasswordResetCode.objects.filter(pk=state.get("code")).select_related("user").first() if state else None
    form = PhoneResetConfirmForm(request.POST or None, user=pending.user if pending else None)
    if request.method == "POST" and form.is_valid():
        if not state:
            form.add_error("code", CODE_GONE)
        else:
            reset, error = _try_code(request, state, form.cleaned_data["code"])
            if error is not None:
                if error in (CODE_LOCKED, CODE_GONE):
                    request.session.pop(SESSION_KEY, None)
                form.add_error("code", error)
            else:
                request.session.pop(SESSION_KEY, None)
                user = reset.user
                with transaction.atomic():
                    user.set_password(form.cleaned_data["password1"])
                    user.save(update_fields=["password"])
                    audit.record(
                        AuditAction.CHANGE, request=request, actor=user, obj=user, changes={"password": "reset by SMS"}
                    )
                messages.success(request, _("Your password has been changed. Sign in with the new password."))
                return redirect("account_login")
    return render(request, "account/password_reset_phone_code.html", {"form": form, "has_state": bool(state)})
