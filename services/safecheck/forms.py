"""The enrolment form of 平安铃."""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _


class EnrolForm(forms.Form):
    phone = forms.CharField(
        label=_("Number that answers"),
        max_length=20,
        help_text=_("The elder's mobile or a family member's; a feature phone is fine."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    send_at = forms.TimeField(
        label=_("Daily message at"), initial=datetime.time(9, 0), widget=forms.TimeInput(attrs={"type": "time"})
    )
