"""Session rules for staff: idle sign-out, and a second factor for the roles that must have one."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _

from .models import MFA_REQUIRED_ROLES
from .scoping import has_role, is_staff_user

ACTIVITY_KEY = "portal_last_activity"
# Writing the session on every request costs a write; refreshing once a minute is precise enough.
ACTIVITY_RESOLUTION = 60


class StaffIdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and is_staff_user(user):
            now = time.time()
            last = request.session.get(ACTIVITY_KEY)
            if last is not None and now - last > settings.STAFF_IDLE_TIMEOUT:
                logout(request)
                messages.info(request, _("You were signed out after a period of inactivity. Please sign in again."))
                return redirect_to_login(request.get_full_path())
            if last is None or now - last > ACTIVITY_RESOLUTION:
                request.session[ACTIVITY_KEY] = now
        return self.get_response(request)


MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/media/", "/i18n/", "/a11y/", "/favicon")


class RequireMFAMiddleware:
    """County officers and region administrators set up an authenticator app before anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and mfa_required(user)
            and not has_totp(user)
        ):
            messages.warning(
                request, _("Your role requires two-factor sign-in. Set up an authenticator app to continue.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


def mfa_required(user) -> bool:
    return user.is_superuser or has_role(user, *MFA_REQUIRED_ROLES)


def has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class ChosenLanguageMiddleware(LocaleMiddleware):
    """Chinese unless the visitor chose otherwise with the language switch (a cookie).

    Django's LocaleMiddleware also follows the browser's Accept-Language, which would show English to
    a villager whose phone happens to be set to English; here only an explicit choice counts.
    """

    def process_request(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
