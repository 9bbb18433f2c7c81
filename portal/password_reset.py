"""Password reset by SMS code.

allauth resets passwords by email only, and most of our users have no email. The flow: enter the
mobile number → a 6-digit code goes out by SMS (rate-limited per number and per IP with allauth's
limits) → enter the code with a new password. The code lives hashed in the session, expires, allows
three tries and is spent on first use, so a replayed code is refused.
"""

import hashlib
import hmac
import secrets
import time

from allauth.core import ratelimit

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import audit
from .forms import PhoneResetConfirmForm, PhoneResetRequestForm
from .models import AuditAction, User
from .sms_templates import send_template

SESSION_KEY = "portal_password_reset"
CODE_TTL_SECONDS = 10 * 60
MAX_ATTEMPTS = 3

UNKNOWN_PHONE = gettext_lazy("No account uses this mobile number. Check the number or sign up.")
TOO_MANY_REQUESTS = gettext_lazy("Too many codes requested for this number. Wait ten minutes and try again.")
CODE_GONE = gettext_lazy("This code has expired or was already used. Request a new one.")
CODE_WRONG = gettext_lazy("The code is not correct. Check the SMS and try again.")
CODE_LOCKED = gettext_lazy("Wrong code entered too many times. Request a new one.")


def _digest(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


def request_code(request):
    form = PhoneResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        phone = form.cleaned_data["phone"]
        user = User.objects.filter(phone=phone, is_active=True).first()
        if not ratelimit.consume(request, action="reset_password", key=phone):
            form.add_error(None, TOO_MANY_REQUESTS)
        elif user is None:
            form.add_error("phone", UNKNOWN_PHONE)
        else:
            code = f"{secrets.randbelow(10**6):06d}"
            request.session[SESSION_KEY] = {
                "user": user.pk,
                "digest": _digest(code),
                "expires": time.time() + CODE_TTL_SECONDS,
                "attempts": 0,
            }
            send_template(phone, "password_reset", code=code)
            messages.info(request, _("A code has been sent to your phone by SMS."))
            return redirect("account_reset_password_code")
    return render(request, "account/password_reset_phone.html", {"form": form})


def confirm_code(request):
    state = request.session.get(SESSION_KEY)
    user = User.objects.filter(pk=state["user"]).first() if state else None
    form = PhoneResetConfirmForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        if not state or user is None or state["expires"] < time.time():
            request.session.pop(SESSION_KEY, None)
            form.add_error("code", CODE_GONE)
        elif not hmac.compare_digest(state["digest"], _digest(form.cleaned_data["code"])):
            state["attempts"] += 1
            if state["attempts"] >= MAX_ATTEMPTS:
                request.session.pop(SESSION_KEY, None)
                form.add_error("code", CODE_LOCKED)
            else:
                request.session[SESSION_KEY] = state
                form.add_error("code", CODE_WRONG)
        else:
            request.session.pop(SESSION_KEY, None)
            with transaction.atomic():
                user.set_password(form.cleaned_data["password1"])
                user.save(update_fields=["password"])
                audit.record(
                    AuditAction.CHANGE, request=request, actor=user, obj=user, changes={"password": "reset by SMS"}
                )
            messages.success(request, _("Your password has been changed. Sign in with the new password."))
            return redirect("account_login")
    return render(request, "account/password_reset_phone_code.html", {"form": form, "has_state": bool(state)})
