"""Sign-in by SMS code (allauth's login by code) on the phone login, for people without a password.

- The request form answers every well-formed number the same way: rate limit first, then either a code to the
  account's phone, or — for a number no account has — nothing at all (no SMS, same page). Apps above portal may
  provision an account for a number they know (`portal.signals.login_code_unknown_phone`).
- The confirm form adds what allauth's session state cannot hold under concurrency: the attempts on one code are
  counted in the cache atomically, and a right code is claimed once (`cache.add`), so two submissions of the same
  code at the same moment sign in once.
"""

import hashlib

from allauth.account import app_settings
from allauth.account.adapter import get_adapter
from allauth.account.forms import ConfirmLoginCodeForm, RequestLoginCodeForm
from allauth.core import context, ratelimit

from django.core.cache import cache

from .signals import login_code_unknown_phone


class PhoneLoginCodeForm(RequestLoginCodeForm):
    def clean_phone(self) -> str:
        adapter = get_adapter()
        phone = self.cleaned_data["phone"]
        self._user = None
        if not phone:
            return phone
        if not ratelimit.consume(context.request, action="request_login_code", key=phone.lower()):
            raise adapter.validation_error("too_many_login_attempts")
        user = adapter.get_user_by_phone(phone)
        if user is None:
            for _receiver, provided in login_code_unknown_phone.send(sender=self.__class__, phone=phone):
                if provided is not None:
                    user = provided
                    break
        self._user = user if user is not None and user.is_active else None
        return phone


def _code_key(kind: str, expected: str) -> str:
    request = context.request
    stage = getattr(request, "_login_stage", None)
    state = stage.state if stage is not None else {}
    material = f"{state.get('phone', '')}:{state.get('at', '')}:{expected}"
    return f"login-code:{kind}:{hashlib.sha256(material.encode()).hexdigest()}"


class AtomicConfirmLoginCodeForm(ConfirmLoginCodeForm):
    def clean_code(self) -> str:
        adapter = get_adapter()
        if not self.expected_code:
            # an unknown number: no code was sent, nothing can match
            return super().clean_code()
        timeout = app_settings.LOGIN_BY_CODE_TIMEOUT + 60
        attempts_key = _code_key("attempts", self.expected_code)
        cache.add(attempts_key, 0, timeout)
        try:
            attempts = cache.incr(attempts_key)
        except ValueError:  # expired between add and incr
            attempts = 1
        if attempts > app_settings.LOGIN_BY_CODE_MAX_ATTEMPTS:
            raise adapter.validation_error("incorrect_code")
        code = super().clean_code()
        if not cache.add(_code_key("used", self.expected_code), 1, timeout):
            raise adapter.validation_error("incorrect_code")
        return code
