"""Forms of the spot checks: a call-back result, the month to draw."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from services.purchasing.rules import parse_month
from services.spotchecks.actions import NO_ANSWER
from services.spotchecks.models import SpotCheckOutcome

RESULT_CHOICES = [
    (SpotCheckOutcome.CONFIRMED, _("Confirmed: the service happened as logged")),
    (SpotCheckOutcome.PARTLY, _("Partly: less than was logged")),
    (SpotCheckOutcome.NOT_HAPPENED, _("Did not happen")),
    (NO_ANSWER, _("Nobody answered (try again later)")),
]


class ResultForm(forms.Form):
    result = forms.ChoiceField(
        label=_("What did the call-back find?"), choices=RESULT_CHOICES, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("What the elder or family said"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed for “partly” and “did not happen”."),
    )


class DrawForm(forms.Form):
    month = forms.CharField(
        label=_("Month"), max_length=7, widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"})
    )

    def clean_month(self):
        try:
            return parse_month(self.cleaned_data["month"])
        except ValidationError:
            raise forms.ValidationError(_("Give the month as YYYY-MM."), code="month") from None
