"""Forms of the givers' pages; they validate input, the functions in profiles/organisations/activities act."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.adapter import MobilePhoneField
from portal.identity import ResidentIdFormField
from portal.models import Region, RegionLevel
from portal.widgets import RegionChoiceField, RegionPickerWidget
from volunteers.models import (
    DAY_TIMES,
    MAX_PAIRED_ELDERS,
    WEEKDAYS,
    ActivityKind,
    Audience,
    GiverKind,
    OrganisationKind,
    OrganisationStatus,
    Qualification,
    Sex,
    skill_categories,
)
from volunteers.organisations import validate_credit_code
from volunteers.profiles import service_items_for

UNSAFE_NAME = _("A name cannot contain symbols such as < > \" ' & ; /.")


class PlacePickerWidget(RegionPickerWidget):
    """The region picker, posting the most precise level chosen.

    Without JavaScript a person picks the county and presses the button; the county (then the township)
    comes back as the value, the field says "choose a village", and the form returns with the next
    level's options filled in. A township-level field (organisations) accepts the township itself.
    """

    def value_from_datadict(self, data, files, name):
        return data.get(name) or data.get(f"{name}_township") or data.get(f"{name}_county") or None


def village_field(**kwargs) -> RegionChoiceField:
    return RegionChoiceField(widget=PlacePickerWidget(), **kwargs)


class ProfileForm(forms.Form):
    """The two-minute sign-up: who I am as a giver, where I live, what I can do and when."""

    kind = forms.ChoiceField(
        label=_("I join as"), choices=GiverKind.choices, initial=GiverKind.VOLUNTEER, widget=forms.RadioSelect
    )
    village = village_field(label=_("Home village"))
    skills = forms.ModelMultipleChoiceField(
        label=_("What I can help with"),
        queryset=skill_categories(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    available_days = forms.MultipleChoiceField(
        label=_("Days I am free"), choices=WEEKDAYS, required=False, widget=forms.CheckboxSelectMultiple
    )
    available_times = forms.MultipleChoiceField(
        label=_("Times I am free"), choices=DAY_TIMES, required=False, widget=forms.CheckboxSelectMultiple
    )
    max_elders = forms.IntegerField(
        label=_("How many elders I can pair with"),
        min_value=0,
        max_value=MAX_PAIRED_ELDERS,
        initial=1,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    about = forms.CharField(
        label=_("A few words about me"),
        max_length=300,
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("e.g. I live near the village clinic and can drive.")}
        ),
    )


class IdentityForm(forms.Form):
    """Real-name details for the MCA volunteer record (全国志愿服务信息系统)."""

    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("Birth date"), widget=forms.DateInput(attrs={"type": "date"}))
    resident_id = ResidentIdFormField()


class ProfessionalForm(forms.Form):
    qualification = forms.ChoiceField(
        label=_("Qualification"), choices=[("", _("— none —")), *Qualification.choices], required=False
    )
    certificate_number = forms.CharField(label=_("Certificate number"), max_length=40, required=False)
    employer = forms.CharField(label=_("Organisation (employer)"), max_length=100, required=False)


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ModelChoiceField(label=_("Kind"), queryset=OrganisationKind.objects.all())
    region = RegionChoiceField(
        label=_("Where it is based"),
        queryset=Region.objects.filter(level__in=[RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]),
        widget=PlacePickerWidget(),
        help_text=_("Choose the village, or only the township for a township-wide organisation."),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=50)
    contact_phone = MobilePhoneField(label=_("Contact phone"))
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=30,
        required=False,
        help_text=_("18 characters (统一社会信用代码); leave empty if the organisation has none."),
    )
    description = forms.CharField(
        label=_("What we do"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if any(ch in name for ch in '<>"&;\\{}'):
            raise forms.ValidationError(UNSAFE_NAME)
        return name

    def clean_credit_code(self):
        return validate_credit_code(self.cleaned_data["credit_code"])


class DecisionForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Decision"),
        choices=[
            (OrganisationStatus.APPROVED, _("Approve")),
            (OrganisationStatus.REJECTED, _("Reject")),
            (OrganisationStatus.SUSPENDED, _("Suspend")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices)
    title = forms.CharField(label=_("Title"), max_length=100)
    description = forms.CharField(
        label=_("Description"), max_length=3000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    village = village_field(label=_("Village"))
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    start = forms.DateTimeField(label=_("Starts"), widget=DateTimeLocalInput())
    end = forms.DateTimeField(label=_("Ends"), widget=DateTimeLocalInput())
    signup_deadline = forms.DateTimeField(label=_("Sign-up deadline"), widget=DateTimeLocalInput())
    capacity = forms.IntegerField(label=_("Places"), widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    audience = forms.ChoiceField(label=_("Who may join"), choices=Audience.choices, initial=Audience.VOLUNTEERS)
    service_item = forms.ModelChoiceField(label=_("Service delivered"), queryset=None, required=False)
    walk_ins = forms.BooleanField(
        label=_("Walk-ins welcome"),
        required=False,
        help_text=_("People who did not sign up may sign in at the door with the activity's code."),
    )
    latitude = forms.DecimalField(
        label=_("Latitude of the place"), required=False, max_digits=9, decimal_places=6, min_value=-90, max_value=90
    )
    longitude = forms.DecimalField(
        label=_("Longitude of the place"),
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        help_text=_("Optional: sign-in at the door is then accepted only near this place."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_item"].queryset = service_items_for(None)

    def clean(self):
        data = super().clean()
        for name in ("start", "end", "signup_deadline"):
            if data.get(name) and timezone.is_naive(data[name]):
                data[name] = timezone.make_aware(data[name])
        return data


class AttendanceForm(forms.Form):
    """One row per sign-up: attended? minutes served."""

    def __init__(self, *args, signups, default_minutes: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for signup in signups:
            attended = forms.BooleanField(label=str(signup.user), required=False, initial=bool(signup.attended))
            minutes = forms.IntegerField(
                label=_("Minutes"),
                min_value=0,
                required=False,
                initial=signup.minutes if signup.minutes is not None else default_minutes,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
            self.fields[f"attended_{signup.pk}"] = attended
            self.fields[f"minutes_{signup.pk}"] = minutes
            self.rows.append((signup, self[f"attended_{signup.pk}"], self[f"minutes_{signup.pk}"]))

    def marks(self) -> dict[int, tuple[bool, int | None]]:
        return {
            signup.pk: (
                bool(self.cleaned_data.get(f"attended_{signup.pk}")),
                self.cleaned_data.get(f"minutes_{signup.pk}"),
            )
            for signup, _a, _m in self.rows
        }


ORGANISATION_PAIRING_MAX = 500


class OrganisationPairingForm(forms.Form):
    """An organisation admin's offer to the matching (一帮多): how many elders it can be paired with."""

    pairing_capacity = forms.IntegerField(
        label=_("Elders the organisation can be paired with"),
        min_value=0,
        max_value=ORGANISATION_PAIRING_MAX,
        help_text=_(
            "0 = not offered. Once the organisation is approved, the township's matching may pair it with up "
            "to this many elders (一帮多); the admins are told by SMS."
        ),
    )
