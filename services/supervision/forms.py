"""The period and area form of the supervision dashboards. Bad input never breaks the page: the view shows
the form's messages and falls back to the default period (this month)."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import RegionLevel
from services.supervision.figures import CUSTOM, PRESETS, THIS_MONTH, Period, preset_period

EARLIEST = datetime.date(2018, 1, 1)  # the policy's year: nothing in the portal is older
MAX_DAYS = 366 * 3
PERIOD_ORDER = _("The end date is before the start date.")
PERIOD_BOTH = _("Give both a start and an end date.")
PERIOD_TOO_LONG = _("Choose a period of at most three years.")
PERIOD_TOO_EARLY = _("Choose dates from 2018 on.")
PERIOD_FUTURE = _("The period cannot start in the future.")
PERIOD_DEFAULT = _("The dates could not be used; showing this month instead.")

RANKING_LEVELS = [(RegionLevel.VILLAGE, _("Villages")), (RegionLevel.TOWNSHIP, _("Townships"))]


class PeriodForm(forms.Form):
    """A preset (本月/上月/本季度/本年) or a custom from–to range; the area is a separate `region` parameter."""

    preset = forms.ChoiceField(label=_("Period"), choices=list(PRESETS.items()), required=False)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        data = super().clean()
        preset = data.get("preset") or ""
        start, end = data.get("start"), data.get("end")
        if self.errors:
            return data
        if preset == CUSTOM or (not preset and (start or end)):
            data["preset"] = CUSTOM
            if not (start and end):
                raise forms.ValidationError(PERIOD_BOTH, code="period_both")
            if end < start:
                raise forms.ValidationError(PERIOD_ORDER, code="period_order")
            if start < EARLIEST:
                raise forms.ValidationError(PERIOD_TOO_EARLY, code="period_early")
            if start > timezone.localdate():
                raise forms.ValidationError(PERIOD_FUTURE, code="period_future")
            if (end - start).days >= MAX_DAYS:
                raise forms.ValidationError(PERIOD_TOO_LONG, code="period_long")
        return data

    def period(self) -> Period:
        """The chosen period; the default (this month) if nothing or something invalid was given."""
        if not self.is_bound or not self.is_valid():
            return preset_period(THIS_MONTH)
        data = self.cleaned_data
        if data["preset"] == CUSTOM:
            return Period(data["start"], data["end"], CUSTOM)
        return preset_period(data["preset"] or THIS_MONTH)

    def error_messages(self) -> list[str]:
        messages = [str(e) for e in self.non_field_errors()]
        for name in ("preset", "start", "end"):
            messages += [f"{self.fields[name].label}: {e}" for e in self.errors.get(name, [])]
        return messages


class RankingForm(forms.Form):
    level = forms.ChoiceField(label=_("Rank"), choices=RANKING_LEVELS, required=False)

    def level_value(self) -> str:
        if self.is_valid() and self.cleaned_data["level"]:
            return self.cleaned_data["level"]
        return RegionLevel.VILLAGE
