"""Forms for visits and alerts. The visit form is built for a phone: big choices, sensible defaults."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.phone import clean_phone
from portal.widgets import RegionChoiceField, RegionPickerWidget
from services.care.models import AlertKind, AlertSource, Condition, DutyKept, Mood, RiskLevel, VisitMethod
from services.care.visits import FollowUpData

HONEYPOT_FILLED = _("Your report could not be sent. Please try again.")
RISK_REQUIRED = _("Choose the risk you assessed, even if it is none.")
YES_NO = [("1", _("Yes, I reached them")), ("0", _("No, nobody answered / not at home"))]


class BigRadio(forms.RadioSelect):
    """Radio buttons drawn as large tappable tiles (static/css/care.css)."""

    def __init__(self, attrs=None, choices=()):
        super().__init__(attrs={"class": "choice-tiles", **(attrs or {})}, choices=choices)


def _local_now() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


class VisitForm(forms.Form):
    method = forms.ChoiceField(label=_("How"), choices=VisitMethod.choices, initial=VisitMethod.PHONE, widget=BigRadio)
    contact_made = forms.TypedChoiceField(
        label=_("Did you reach the elder?"),
        choices=YES_NO,
        coerce=lambda v: v == "1",
        initial="1",
        widget=BigRadio,
    )
    visited_at = forms.DateTimeField(
        label=_("When"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    living_conditions = forms.ChoiceField(
        label=_("Living conditions"), choices=Condition.choices, required=False, widget=BigRadio
    )
    health = forms.ChoiceField(label=_("Health"), choices=Condition.choices, required=False, widget=BigRadio)
    mood = forms.ChoiceField(label=_("Mood"), choices=Mood.choices, required=False, widget=BigRadio)
    family_duty = forms.ChoiceField(
        label=_("Do the children keep their duty of support?"),
        choices=DutyKept.choices,
        initial=DutyKept.UNKNOWN,
        widget=BigRadio,
    )
    # no default: "no risk" is a judgement the visitor makes, not one the form makes for her
    risk_level = forms.ChoiceField(label=_("Risk assessed"), choices=RiskLevel.choices, required=False, widget=BigRadio)
    alert_kind = forms.ChoiceField(
        label=_("If the risk is high: what kind of emergency"),
        choices=[("", "—")] + AlertKind.choices,
        required=False,
        help_text=_("A high risk raises an alert to the village and township at once."),
    )
    safety_risks = forms.CharField(
        label=_("Safety risks seen"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. 灶台无人看管、屋顶漏雨、药品过期"),
    )
    notes = forms.CharField(label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    follow_up_action = forms.CharField(label=_("Follow-up needed"), required=False, max_length=200)
    follow_up_due = forms.DateField(
        label=_("Follow-up due by"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    follow_up_owner = forms.CharField(
        label=_("Who does it"),
        required=False,
        max_length=50,
        help_text=_("Leave empty if you do it yourself; otherwise a name, e.g. 儿子马强 or 村医."),
    )
    next_visit_due = forms.DateField(
        label=_("Next visit due"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty to follow the visit plan for this elder."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("visited_at", _local_now())

    def clean(self):
        data = super().clean()
        if data.get("contact_made") and not data.get("risk_level") and "risk_level" not in self.errors:
            self.add_error("risk_level", RISK_REQUIRED)
        if data.get("follow_up_action") and not data.get("follow_up_due"):
            data["follow_up_due"] = timezone.localdate() + datetime.timedelta(days=7)
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        follow_ups = []
        if d.get("follow_up_action"):
            follow_ups.append(
                FollowUpData(
                    action=d["follow_up_action"], due_date=d["follow_up_due"], owner_name=d.get("follow_up_owner", "")
                )
            )
        return {
            "method": d["method"],
            "visited_at": d["visited_at"],
            "contact_made": d["contact_made"],
            "living_conditions": d.get("living_conditions", ""),
            "health": d.get("health", ""),
            "mood": d.get("mood", ""),
            "family_duty": d.get("family_duty") or DutyKept.UNKNOWN,
            "safety_risks": d.get("safety_risks", ""),
            "notes": d.get("notes", ""),
            "risk_level": d.get("risk_level") or RiskLevel.NONE,
            "alert_kind": d.get("alert_kind", ""),
            "follow_ups": follow_ups,
            "next_visit_due": d.get("next_visit_due"),
        }


class FollowUpDoneForm(forms.Form):
    note = forms.CharField(label=_("What was done about it"), required=False, max_length=200)


class AlertRaiseForm(forms.Form):
    """Staff raising an alert about an elder on the ledger."""

    kind = forms.ChoiceField(
        label=_("What kind of emergency"),
        choices=AlertKind.choices,
        widget=BigRadio(attrs={"class": "choice-tiles two"}),
    )
    description = forms.CharField(label=_("What happened"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4}))
    place = forms.CharField(label=_("Where exactly"), required=False, max_length=200)


class StepwiseRegionPicker(RegionPickerWidget):
    """Without JavaScript, a county or township chosen and sent comes back with its children to pick from
    (the shared widget only reads the village select)."""

    def value_from_datadict(self, data, files, name):
        return data.get(name) or data.get(f"{name}_township") or data.get(f"{name}_county") or None


class AlertReportForm(forms.Form):
    """The public report form: no account, as little as needed to act."""

    village = RegionChoiceField(label=_("Village where it happened"), widget=StepwiseRegionPicker())
    kind = forms.ChoiceField(
        label=_("What kind of emergency"),
        choices=AlertKind.choices,
        widget=BigRadio(attrs={"class": "choice-tiles two"}),
    )
    description = forms.CharField(
        label=_("What happened"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Who needs help, what you saw, since when."),
    )
    place = forms.CharField(
        label=_("Where exactly"), required=False, max_length=200, help_text=_("e.g. 村口小卖部旁、三组马家院子")
    )
    person_name = forms.CharField(label=_("Name of the elder, if you know it"), required=False, max_length=50)
    reporter_phone = forms.CharField(
        label=_("Your mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("Only so that the village can call you back about this report."),
    )
    relation = forms.ChoiceField(
        label=_("You are"),
        choices=[
            (AlertSource.PUBLIC, _("A neighbour or passer-by")),
            (AlertSource.FAMILY, _("A family member")),
            (AlertSource.VOLUNTEER, _("A volunteer")),
        ],
        initial=AlertSource.PUBLIC,
        widget=BigRadio,
    )
    # Honeypot: hidden from people by CSS and aria-hidden; bots fill every field.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def clean_reporter_phone(self):
        return clean_phone(self.cleaned_data.get("reporter_phone"))

    def clean_website(self):
        if self.cleaned_data.get("website"):
            raise forms.ValidationError(HONEYPOT_FILLED, code="honeypot")
        return ""


class ReportLookupForm(forms.Form):
    """Step one of "where is my report": the reference number and the phone the report was sent from."""

    reference = forms.CharField(
        label=_("Reference number"),
        max_length=30,
        help_text=_("Shown after you sent the report, e.g. 20261204-A1B2C3."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    reporter_phone = forms.CharField(
        label=_("The mobile number you reported with"),
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
    )

    def clean_reporter_phone(self):
        return clean_phone(self.cleaned_data.get("reporter_phone"))


class ReportCodeForm(forms.Form):
    """Step two: the code sent by SMS."""

    reference = forms.CharField(widget=forms.HiddenInput, max_length=30)
    code = forms.RegexField(
        label=_("Code from the SMS"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the 6 digits from the SMS.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6"}),
    )


class AlertStepForm(forms.Form):
    to_status = forms.CharField(widget=forms.HiddenInput)
    from_status = forms.CharField(widget=forms.HiddenInput, required=False)
    note = forms.CharField(
        label=_("What was done about it"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
