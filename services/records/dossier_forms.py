"""Forms of the volunteer record: training/award/evaluation entry, correction requests and their decision."""

import datetime
import decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.catalogue.selectors import items_published
from services.records import dossier
from volunteers.models import Organisation
from volunteers.models_record import MAX_TRAINING_HOURS, Award, CorrectionTarget, Evaluation, Rating, Training

DATE_WIDGET = forms.DateInput(attrs={"type": "date"})
END_BEFORE_START = _("The service must end after it starts.")
CHOOSE_ENTRY = _("Choose the entry to correct.")


class _EntryForm(forms.ModelForm):
    """Dates not in the future (and not absurdly old); the model's own validators do the rest."""

    def clean_date(self):
        day = self.cleaned_data.get("date")
        try:
            dossier.check_date(day)
        except ValidationError as exc:
            raise ValidationError(exc.error_dict["date"]) from exc
        return day


class TrainingForm(_EntryForm):
    hours = forms.DecimalField(
        label=_("Hours"), min_value=decimal.Decimal("0.5"), max_value=MAX_TRAINING_HOURS, decimal_places=1, max_digits=4
    )

    class Meta:
        model = Training
        fields = ["name", "content", "hours", "organiser", "date"]
        widgets = {"date": DATE_WIDGET, "content": forms.Textarea(attrs={"rows": 3})}


class AwardForm(_EntryForm):
    class Meta:
        model = Award
        fields = ["name", "date", "granted_by"]
        widgets = {"date": DATE_WIDGET}


class EvaluationForm(_EntryForm):
    rating = forms.ChoiceField(label=_("Rating"), choices=Rating.choices, widget=forms.RadioSelect)

    class Meta:
        model = Evaluation
        fields = ["rating", "date", "comment"]
        widgets = {"date": DATE_WIDGET, "comment": forms.Textarea(attrs={"rows": 3})}


ENTRY_FORMS = {"training": TrainingForm, "award": AwardForm, "evaluation": EvaluationForm}


class CorrectionForm(forms.Form):
    """The volunteer's request: which entry (chosen on the record page), what is wrong, what it should be."""

    target = forms.ChoiceField(label=_("What to correct"), choices=CorrectionTarget.choices, widget=forms.HiddenInput)
    entry = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1)
    organisation = forms.ModelChoiceField(
        label=_("Recording unit"),
        queryset=None,
        required=False,
        help_text=_("For personal details: the organisation that should check them."),
    )
    wrong = forms.CharField(label=_("What is wrong"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    should_be = forms.CharField(label=_("What it should be"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["organisation"].queryset = Organisation.objects.filter(
            memberships__user=user, memberships__status="active"
        ).order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("target") and data["target"] != CorrectionTarget.PERSONAL and not data.get("entry"):
            raise ValidationError(CHOOSE_ENTRY, code="choose_entry")
        return data


class DecisionForm(forms.Form):
    """Refuse needs a reason; accept may carry a note for the volunteer."""

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept and correct")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason or note for the volunteer"), max_length=300, required=False, widget=forms.TextInput
    )


class RecordCorrectionForm(forms.Form):
    """The corrected service entry (prefilled from the original); untick "happened" to only cancel the hours."""

    happened = forms.BooleanField(
        label=_("The service did happen: record the corrected entry"), required=False, initial=True
    )
    service_item = forms.ModelChoiceField(label=_("Service item"), queryset=items_published())
    day = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    start_time = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end_time = forms.TimeField(label=_("To"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    place = forms.CharField(label=_("Place"), max_length=200)
    content = forms.CharField(label=_("What was done"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    @classmethod
    def initial_from(cls, record) -> dict:
        start, end = timezone.localtime(record.start), timezone.localtime(record.end)
        return {
            "happened": True,
            "service_item": record.service_item_id,
            "day": start.date(),
            "start_time": start.time().replace(second=0, microsecond=0),
            "end_time": end.time().replace(second=0, microsecond=0),
            "place": record.place,
            "content": record.content,
        }

    def clean(self):
        data = super().clean()
        if all(data.get(k) for k in ("day", "start_time", "end_time")) and data["end_time"] <= data["start_time"]:
            raise ValidationError(END_BEFORE_START, code="end_before_start")
        return data

    def changes(self) -> dict | None:
        """None when the service did not happen (only the reversal is written)."""
        data = self.cleaned_data
        if not data.get("happened"):
            return None

        def at(time):
            return timezone.make_aware(datetime.datetime.combine(data["day"], time))

        return {
            "service_item": data["service_item"],
            "start": at(data["start_time"]),
            "end": at(data["end_time"]),
            "place": data["place"].strip(),
            "content": data["content"].strip(),
        }
