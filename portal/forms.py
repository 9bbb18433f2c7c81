"""Forms of the base app: the extra sign-up field and the SMS password reset."""

from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from .adapter import MobilePhoneField


class SignupExtraForm(forms.Form):
    """Added to allauth's sign-up form: the real name staff and elders will know the person by."""

    real_name = forms.CharField(
        label=_("Real name"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": _("e.g. 王秀兰")}),
    )

    def clean_real_name(self):
        name = " ".join(self.cleaned_data["real_name"].split())
        if any(ch in name for ch in "<>\"'&;/\\{}"):
            raise forms.ValidationError(_("A name cannot contain symbols such as < > \" ' & ; /."))
        return name

    def signup(self, request, user) -> None:
        user.real_name = self.cleaned_data["real_name"]
        user.save(update_fields=["real_name"])


class PhoneResetRequestForm(forms.Form):
    phone = MobilePhoneField()


class PhoneResetConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("SMS code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    password1 = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("New password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ExportReasonForm(forms.Form):
    """Why a bulk export of personal data is needed (GB/T 35273 §7); kept in the audit trail."""

    reason = forms.CharField(
        label=_("Reason for the export"),
        min_length=4,
        max_length=200,
        help_text=_("For example: 2026 annual check of the ledger with the township, as asked by the county."),
        error_messages={
            "required": _("Say why you need this export."),
            "min_length": _("Give a reason of at least %(limit_value)d characters."),
        },
    )

    def clean_reason(self):
        return " ".join(self.cleaned_data["reason"].split())
