"""Closing one's own account (PIPL art. 47): the person is signed out for good and their details erased; what
they did stays on record under an anonymous name (service records, the hours they gave, certificates already
issued — a certificate verifies from its own snapshot)."""

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import audit
from .models import AuditAction, StaffRole, User
from .signals import account_closing

CONFIRM_WORD = "注销"
WRONG_PASSWORD = _("The password is not right.")
WRONG_WORD = _("Type the word %(word)s to confirm.")
STAFF_CANNOT_CLOSE = _("You hold a staff role; ask your region administrator to revoke it before closing your account.")
CLOSED_NAME = _("Closed account")


def closed_phone(user: User) -> str:
    """A unique stand-in for the phone: 11 characters, starting with 0, so it is never a valid mobile number."""
    return f"0{user.pk:010d}"


@transaction.atomic
def account_close(*, user: User, request=None) -> User:
    if StaffRole.objects.filter(user=user).exists():
        raise forms.ValidationError(STAFF_CANNOT_CLOSE, code="staff")
    user = User.objects.select_for_update().get(pk=user.pk)
    account_closing.send(sender=User, user=user, request=request)
    audit.record(AuditAction.DELETE, request=request, actor=user, obj=user, changes={"account_closed": True})
    user.real_name = str(CLOSED_NAME)
    user.email = ""
    user.phone = closed_phone(user)
    user.phone_verified = False
    user.is_active = False
    user.set_unusable_password()
    user.save()
    user.authenticator_set.all().delete()
    # Every session of the account ends by itself: a session carries a hash of the password, which changed,
    # and an inactive user is refused by the authentication backend.
    return user


class CloseAccountForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    confirm = forms.CharField(label=_("Type 注销 to confirm"), max_length=10)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(WRONG_PASSWORD, code="wrong_password")
        return password

    def clean_confirm(self):
        word = self.cleaned_data["confirm"].strip()
        if word != CONFIRM_WORD:
            raise forms.ValidationError(WRONG_WORD, code="wrong_word", params={"word": CONFIRM_WORD})
        return word


@login_required
@require_http_methods(["GET", "POST"])
def close_account(request):
    form = CloseAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            account_close(user=request.user, request=request)
        except forms.ValidationError as exc:
            form.add_error(None, exc)
        else:
            logout(request)
            messages.success(request, _("Your account is closed. Thank you for the care you gave."))
            return redirect("/")
    return render(request, "portal/account_close.html", {"form": form}, status=400 if form.errors else 200)
