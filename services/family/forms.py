"""Forms of the family portal: phone-first, few fields, dates the Chinese way."""

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.adapter import MobilePhoneField
from services.family.models import FamilyContactKind

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class FamilyForm(forms.Form):
    """Labels end with their own punctuation in Chinese: no ":" after them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ContactReportForm(FamilyForm):
    kind = forms.ChoiceField(
        label=_("How did you keep in touch?"), choices=FamilyContactKind.choices, widget=forms.RadioSelect
    )
    contact_date = forms.DateField(label=_("Date"), widget=DATE_WIDGET)


class WhereaboutsForm(FamilyForm):
    city = forms.CharField(label=_("City where you are now"), max_length=50)
    employer = forms.CharField(label=_("Employer or work"), max_length=100, required=False)
    since = forms.DateField(label=_("Since when"), required=False, widget=DATE_WIDGET)
    phone = MobilePhoneField(label=_("New mobile number (if changed)"), required=False)


class DecideForm(FamilyForm):
    decision = forms.ChoiceField(choices=[("confirm", _("Confirm")), ("reject", _("Not confirmed"))])


class AgreementForm(FamilyForm):
    carer_name = forms.CharField(label=_("Entrusted person's name"), max_length=50)
    carer_relation = forms.CharField(label=_("Relation to the elder"), max_length=20, required=False)
    carer_phone = MobilePhoneField(label=_("Entrusted person's mobile number"))
    duties = forms.CharField(
        label=_("Duties"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("e.g. look in every day, cook, take them to the clinic, call me at once if anything happens"),
    )
    start_date = forms.DateField(label=_("From"), widget=DATE_WIDGET)
    end_date = forms.DateField(label=_("Until"), widget=DATE_WIDGET)


class AcceptForm(FamilyForm):
    phone = MobilePhoneField()
    code = forms.CharField(
        label=_("SMS code"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
