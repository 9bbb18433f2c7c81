"""allauth wiring: the phone number lives on portal.User, codes go out through portal.sms."""

import datetime
import time

from allauth.account import app_settings as account_settings
from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator

from django import forms
from django.utils.translation import gettext_lazy

from .audit import client_ip
from .models import User
from .phone import INVALID_PHONE, clean_phone, normalise_phone
from .signals import login_destination
from .sms_templates import send_template


class MobilePhoneField(forms.CharField):
    """Accepts the ways people type a mainland mobile number and returns the 11-digit form."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label", gettext_lazy("Mobile number"))
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "type": "tel",
                    "autocomplete": "tel",
                    "inputmode": "numeric",
                    "placeholder": gettext_lazy("11-digit mobile number"),
                    "maxlength": "20",
                }
            ),
        )
        kwargs.setdefault("error_messages", {"invalid_phone": INVALID_PHONE})
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        try:
            return clean_phone(value)
        except forms.ValidationError as exc:
            raise forms.ValidationError(INVALID_PHONE, code="invalid_phone") from exc


class AccountAdapter(DefaultAccountAdapter):
    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """No second password prompt when an officer sets up the authenticator app (and sees its recovery
        codes) right after signing in (issue 16, item 5): the sign-in itself, within
        ACCOUNT_REAUTHENTICATION_TIMEOUT, is recent enough. A second factor that existed before this sign-in
        (changing or removing it later) still asks for the password again."""
        request = getattr(self, "request", None)
        user = getattr(request, "user", None)
        if app == "allauth.mfa" and user is not None and user.is_authenticated:
            records = get_authentication_records(request, user)
            at = records[-1].get("at", 0) if records else 0
            if (
                time.time() - at < account_settings.REAUTHENTICATION_TIMEOUT
                and not Authenticator.objects.filter(
                    user=user, created_at__lt=datetime.datetime.fromtimestamp(at, tz=datetime.UTC)
                ).exists()
            ):
                return False
        return super().is_reauthentication_required(app=app, **kwargs)

    def phone_form_field(self, **kwargs):
        # allauth labels it "Phone" (电话号码) on some forms; one name everywhere: 手机号码
        kwargs["label"] = gettext_lazy("Mobile number")
        return MobilePhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        return clean_phone(phone)

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.phone = normalise_phone(phone)
        user.phone_verified = verified
        if user.pk:
            user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user):
        if not user.phone:
            return None
        return user.phone, user.phone_verified

    def set_phone_verified(self, user, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str):
        return User.objects.filter(phone=normalise_phone(phone)).first()

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        send_template(phone, "verification", code=code)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Failed sign-ins count per number *and* client address: a stranger who types a named person's
        number five times wrong locks out only themselves, never the owner signing in from elsewhere.
        (allauth's per-IP limit of 10 a minute still holds across numbers.)"""

        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{client_ip(request) or '-'}"

    def get_login_redirect_url(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            for _receiver, url in login_destination.send(sender=self.__class__, request=request, user=user):
                if url:
                    return url
        return super().get_login_redirect_url(request)

    def populate_username(self, request, user) -> None:
        """There is no username: the phone number is the identity."""
