"""Forms of the ledger screens. The checks themselves live in services.ledger.actions and portal.identity."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.identity import ResidentIdFormField, check_agrees
from portal.phone import clean_phone
from portal.widgets import RegionChoiceField
from services.ledger.eligibility import check_eligibility
from services.ledger.models import CareAgreement, DutyReminder, Elder, ElderStatus, FamilyContact, LeftBehindBasis
from services.ledger.selectors import LEDGER_FIELDS, writable_villages
from services.ledger.spreadsheet import FILE_EMPTY, FILE_TOO_LARGE, max_bytes

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
SHORT_TEXT = forms.Textarea(attrs={"rows": 2})
END_BEFORE_START = _("The end date is before the start date.")


PHONE_LABEL = _("Phone")


def _phone_field(label=PHONE_LABEL):
    """People type 138 1234 5678 or +86…: accept up to 20 characters, clean_phone normalises."""
    return forms.CharField(
        label=label,
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )


def _village_field(user, **kwargs) -> RegionChoiceField:
    villages = writable_villages(user).order_by("code")
    field = RegionChoiceField(queryset=villages, label=_("Village"), **kwargs)
    if len(villages[:31]) <= 30:  # a few villages: one plain select
        field.widget = forms.Select()
        field.widget.choices = field.choices
    return field


class ElderForm(forms.ModelForm):
    """Create or edit an elder. `version` carries the record's version for optimistic locking."""

    id_number = ResidentIdFormField(label=_("Resident ID number"))
    phone = _phone_field()
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Elder
        fields = LEDGER_FIELDS
        widgets = {
            "birth_date": DATE,
            "family_structure": SHORT_TEXT,
            "health": SHORT_TEXT,
            "care_situation": SHORT_TEXT,
            "difficulties": SHORT_TEXT,
        }

    def __init__(self, *args, user, show_id: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"] = _village_field(user)
        self.fields["left_behind_basis"].choices = [("", _("Please choose…")), *LeftBehindBasis.choices]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
            self.fields["village"].initial = self.instance.village_id
        if not show_id:  # roles that see IDs masked cannot change them either
            del self.fields["id_number"]
        else:
            self.initial.setdefault("id_number", self.instance.id_number if self.instance.pk else "")

    def clean_phone(self):
        value = self.cleaned_data.get("phone")
        return clean_phone(value) if value else ""

    def clean(self):
        data = super().clean()
        number = data.get("id_number")
        if number and "id_number" in self.fields:
            try:
                check_agrees(number, birth_date=data.get("birth_date"), sex=data.get("gender"))
            except ValidationError as exc:
                for field, errors in exc.error_dict.items():
                    self.add_error("gender" if field == "sex" else field, errors)
        changed = not self.instance.pk or {"birth_date", "left_behind_basis"} & set(self.changed_data)
        if changed and data.get("birth_date") and "birth_date" not in self.errors:
            result = check_eligibility(birth_date=data["birth_date"], basis=data.get("left_behind_basis") or "")
            if not result.eligible:
                self.add_error(result.field, result.reason)
        return data

    def _post_clean(self):
        # the service validates and saves; the model instance is not touched here
        pass

    def ledger_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k in LEDGER_FIELDS}


class EligibilityReviewForm(forms.Form):
    """The yearly review of one elder: why they are (still) left behind."""

    basis = forms.ChoiceField(
        label=_("Why left behind"),
        choices=[("", _("Please choose…"))]
        + [(v, label) for v, label in LeftBehindBasis.choices if v != LeftBehindBasis.NEITHER],
    )

    def __init__(self, *args, elder: Elder, **kwargs):
        super().__init__(*args, **kwargs)
        if elder.left_behind_basis and elder.left_behind_basis != LeftBehindBasis.NEITHER:
            self.fields["basis"].initial = elder.left_behind_basis


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=ElderStatus.choices)
    reason = forms.CharField(
        label=_("Reason"),
        widget=SHORT_TEXT,
        max_length=500,
        help_text=_("e.g. 随子女迁往银川市；2026年10月病故；子女返乡照料"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, elder: Elder, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(v, label) for v, label in ElderStatus.choices if v != elder.status]
        self.fields["version"].initial = elder.version


class FamilyContactForm(forms.ModelForm):
    phone = _phone_field()

    class Meta:
        model = FamilyContact
        fields = ("name", "relation", "phone", "works_in", "can_support", "is_primary")

    def clean_phone(self):
        value = self.cleaned_data.get("phone")
        return clean_phone(value) if value else ""

    def _post_clean(self):
        pass


class AgreementForm(forms.ModelForm):
    carer_phone = _phone_field(_("Carer's phone"))

    class Meta:
        model = CareAgreement
        fields = ("supporter", "carer_name", "carer_relation", "carer_phone", "start_date", "end_date", "scan", "notes")
        widgets = {"start_date": DATE, "end_date": DATE, "notes": SHORT_TEXT}

    def __init__(self, *args, elder: Elder, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["supporter"].queryset = FamilyContact.objects.filter(elder=elder)
        self.fields["scan"].widget.attrs["accept"] = ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
        self.fields["scan"].help_text = _("PDF, JPG or PNG, at most 10 MB.")

    def clean_carer_phone(self):
        value = self.cleaned_data.get("carer_phone")
        return clean_phone(value) if value else ""

    def clean(self):
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", END_BEFORE_START)
        return data

    def _post_clean(self):
        # run the field validators (scan type and size) without needing the elder
        for name in ("scan",):
            value = self.cleaned_data.get(name)
            if value and name not in self.errors:
                try:
                    CareAgreement._meta.get_field(name).run_validators(value)
                except ValidationError as exc:
                    self.add_error(name, exc)


class DutyReminderForm(forms.ModelForm):
    class Meta:
        model = DutyReminder
        fields = ("contact", "reminded_at", "method", "finding", "said", "answer")
        widgets = {"reminded_at": DATETIME, "finding": SHORT_TEXT, "said": SHORT_TEXT, "answer": SHORT_TEXT}

    def __init__(self, *args, elder: Elder, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = FamilyContact.objects.filter(elder=elder)
        self.fields["reminded_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
        self.initial.setdefault("reminded_at", timezone.localtime().replace(second=0, microsecond=0))

    def _post_clean(self):
        pass


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet"),
        help_text=_(
            "Excel (.xlsx) or CSV (UTF-8 or GBK). Headers like 姓名、性别、身份证号、村、住址、联系电话、经济状况、能力等级、居住情况."
        ),
    )
    village = forms.ModelChoiceField(
        label=_("Village for rows without one"),
        queryset=None,
        required=False,
        help_text=_("Only needed when the sheet has no 村 or 行政区划代码 column."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"] = _village_field(
            user,
            required=False,
            help_text=self.fields["village"].help_text,
        )
        self.fields["village"].label = _("Village for rows without one")
        only = list(writable_villages(user).values_list("code", flat=True)[:2])
        if len(only) == 1:  # a village liaison: their village is already chosen
            self.fields["village"].initial = only[0]
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv,text/csv"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > max_bytes():  # refused before a byte is parsed
            raise ValidationError(FILE_TOO_LARGE % {"limit": max_bytes() // (1024 * 1024)}, code="too_large")
        if upload.size == 0:
            raise ValidationError(FILE_EMPTY, code="empty")
        return upload
