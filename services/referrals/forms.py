"""Forms of the referrals."""

from django import forms
from django.utils.translation import gettext_lazy as _

from services.referrals.actions import COUNTY, TOWNSHIP
from services.referrals.models import ReferralKind


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(label=_("Refer to"), choices=ReferralKind.choices, widget=forms.RadioSelect)
    level = forms.ChoiceField(
        label=_("Which unit"),
        choices=[(TOWNSHIP, _("The township's unit")), (COUNTY, _("The county's unit"))],
        initial=TOWNSHIP,
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("What the receiving unit should know"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4})
    )


class OutcomeForm(forms.Form):
    outcome = forms.CharField(label=_("What the unit did"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))
