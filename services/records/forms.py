"""Forms of the service-hours pages: logging (own and proxy/group), decisions, certificates, the record filter."""

import datetime

import django_filters

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.adapter import MobilePhoneField
from portal.choose import CHOOSE
from portal.models import RoleKind
from portal.scoping import can_write, has_role, scope_queryset
from services.catalogue.selectors import items_published
from services.models import Elder, ServiceItem
from services.records import rules as record_rules
from services.records.models import RecordKind, RecordStatus, ServiceRecord, validate_photo_size
from volunteers.models import Activity, ActivitySignup, Membership, MembershipStatus, Organisation, SignupStatus
from volunteers.profiles import service_items_for

ONE_TARGET = _("Choose either an activity or an elder.")
GROUP_ONE_TARGET = _("Choose elders, a posted activity, or enter a past activity — only one of them.")

NO_HELPER = _("Choose at least one helper, or give a helper's mobile number.")
PERIOD_ORDER = _("The end of the period must not be before its start.")
PHOTO_TYPES = ("jpg", "jpeg", "png", "webp")


def _combine(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, time))


class _ServiceFields(forms.Form):
    kind = forms.ChoiceField(
        label=_("Ledger"),
        choices=RecordKind.choices,
        initial=RecordKind.VOLUNTEER,
        widget=forms.RadioSelect,
        help_text=_("Volunteer service is unpaid and counts for certificates; purchased service is paid by contract."),
    )
    service_item = forms.ModelChoiceField(label=_("Service item"), queryset=ServiceItem.objects.none())
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("Start time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end_time = forms.TimeField(label=_("End time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    place = forms.CharField(label=_("Place"), max_length=200)
    content = forms.CharField(label=_("What was done"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))

    def service_times(self) -> tuple[datetime.datetime, datetime.datetime]:
        data = self.cleaned_data
        return _combine(data["day"], data["start_time"]), _combine(data["day"], data["end_time"])

    def service_data(self) -> dict:
        start, end = self.service_times()
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "service_item": data["service_item"],
            "start": start,
            "end": end,
            "place": data["place"],
            "content": data["content"],
        }


class RecordForm(_ServiceFields):
    """A giver logs their own service: one tap on an activity they signed up for fills it in."""

    activity = forms.ModelChoiceField(label=_("Activity"), queryset=Activity.objects.none(), required=False)
    elder = forms.ModelChoiceField(label=_("Elder"), queryset=Elder.objects.none(), required=False)
    organisation = forms.ModelChoiceField(label=_("On behalf of"), queryset=Organisation.objects.none(), required=False)
    photo = forms.ImageField(
        label=_("Photo (optional)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    field_order = ["activity", "elder", "organisation", "service_item", "day", "start_time", "end_time"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["activity"].queryset = Activity.objects.filter(
            signups__user=user, signups__status=SignupStatus.SIGNED_UP, start__lte=timezone.now()
        ).order_by("-start")
        self.fields["elder"].queryset = record_rules.linked_elders(user).order_by("name")
        self.fields["organisation"].queryset = Organisation.objects.filter(
            memberships__user=user, memberships__status=MembershipStatus.ACTIVE
        ).order_by("name")
        profile = getattr(user, "volunteer_profile", None)
        self.fields["service_item"].queryset = service_items_for(profile)
        for name in ("activity", "elder", "organisation", "service_item"):
            self.fields[name].empty_label = CHOOSE
        # what she may log for, and nothing to pick where there is nothing: the page says what to do instead
        self.empty = {name: not self.fields[name].queryset.exists() for name in ("activity", "elder", "organisation")}
        for name, nothing in self.empty.items():
            if nothing:
                del self.fields[name]
        self.nothing_to_log = self.empty["activity"] and self.empty["elder"]
        if self.empty["organisation"]:
            # purchased service is an organisation's, under its contract: not for someone in none
            self.fields["kind"].choices = [(RecordKind.VOLUNTEER, RecordKind.VOLUNTEER.label)]
            self.fields["kind"].widget = forms.HiddenInput()

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo:
            ext = photo.name.rsplit(".", 1)[-1].lower() if "." in photo.name else ""
            if ext not in PHOTO_TYPES:
                raise forms.ValidationError(_("The photo must be a JPG, PNG or WebP image."), code="photo_type")

            validate_photo_size(photo)
        return photo

    def clean(self):
        data = super().clean()
        if ("activity" in self.fields or "elder" in self.fields) and bool(data.get("activity")) == bool(
            data.get("elder")
        ):
            raise forms.ValidationError(ONE_TARGET, code="one_target")
        return data

    def record_data(self) -> dict:
        data = self.service_data()
        data.update(
            activity=self.cleaned_data.get("activity"),
            elder=self.cleaned_data.get("elder"),
            organisation=self.cleaned_data.get("organisation"),
            photo=self.cleaned_data.get("photo"),
        )
        return data


def prefill_from_activity(activity: Activity) -> dict:
    start, end = timezone.localtime(activity.start), timezone.localtime(activity.end)
    return {
        "activity": activity.pk,
        "day": start.date(),
        "start_time": start.time().replace(second=0, microsecond=0),
        "end_time": end.time().replace(second=0, microsecond=0),
        "place": activity.place,
        "service_item": activity.service_item_id,
        "content": activity.title,
    }


def admin_organisations(user):
    return Organisation.objects.filter(
        memberships__user=user, memberships__is_admin=True, memberships__status=MembershipStatus.ACTIVE
    ).order_by("name")


def proxy_elders(user):
    """Elders of the villages where the user is the liaison (the scoping entry point decides)."""
    return scope_queryset(user, Elder.objects.active(), region_field="village", roles=[RoleKind.VILLAGE_LIAISON])


def can_proxy(user) -> bool:
    """Organisation admins and village liaisons (with write rights) enter service for others."""
    return (has_role(user, RoleKind.VILLAGE_LIAISON) and can_write(user)) or admin_organisations(user).exists()


class GroupRecordForm(_ServiceFields):
    """Proxy entry by an organisation admin or a village liaison, for one or several people.

    Several helpers × one elder (多帮一) or one helper × several elders (一帮多); an activity instead of
    elders records the helpers' attendance at it.
    """

    organisation = forms.ModelChoiceField(
        label=_("Recording organisation"), queryset=Organisation.objects.none(), required=False
    )
    givers = forms.ModelMultipleChoiceField(
        label=_("Helpers (members)"),
        queryset=Membership.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    helper_phone = MobilePhoneField(label=_("Or a helper's mobile number"), required=False)
    helper_name = forms.CharField(
        label=_("Helper's name"),
        max_length=50,
        required=False,
        help_text=_("Needed only when the helper has no account yet."),
    )
    elders = forms.ModelMultipleChoiceField(
        label=_("Elders served"), queryset=Elder.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    activity = forms.ModelChoiceField(label=_("Or an activity"), queryset=Activity.objects.none(), required=False)
    past_title = forms.CharField(
        label=_("Or an activity that was not posted beforehand: its title"),
        max_length=100,
        required=False,
        help_text=_("For attendance recorded after the fact, within 10 working days. Choose the organisation above."),
    )
    late_reason = forms.CharField(
        label=_("Why it is entered afterwards"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    field_order = [
        "organisation",
        "givers",
        "helper_phone",
        "helper_name",
        "elders",
        "activity",
        "past_title",
        "late_reason",
        "service_item",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        orgs = admin_organisations(user)
        self.fields["organisation"].queryset = orgs
        self.fields["givers"].queryset = (
            Membership.objects.filter(organisation__in=orgs, status=MembershipStatus.ACTIVE)
            .select_related("user", "organisation")
            .order_by("organisation__name", "user__real_name")
        )
        self.fields["givers"].label_from_instance = lambda m: f"{m.user} · {m.organisation.name}"
        self.fields["elders"].queryset = proxy_elders(user).order_by("name")
        self.fields["activity"].queryset = Activity.objects.filter(
            organisation__in=orgs, start__lte=timezone.now()
        ).order_by("-start")
        self.fields["service_item"].queryset = items_published()
        for name in ("organisation", "activity", "service_item"):
            self.fields[name].empty_label = CHOOSE
        if not orgs.exists():  # a liaison without an organisation cannot enter an organisation's activity
            del self.fields["past_title"]
            del self.fields["late_reason"]

    def clean(self):
        data = super().clean()
        if not data.get("givers") and not data.get("helper_phone"):
            raise forms.ValidationError(NO_HELPER, code="no_helper")
        targets = [bool(data.get("activity")), bool(data.get("elders")), bool((data.get("past_title") or "").strip())]
        if sum(targets) != 1:
            raise forms.ValidationError(GROUP_ONE_TARGET, code="one_target")
        if targets[2] and not (data.get("late_reason") or "").strip():
            self.add_error("late_reason", record_rules.PAST_REASON_REQUIRED)
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300, widget=forms.TextInput)


class CertificateForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("period_start") and data.get("period_end") and data["period_end"] < data["period_start"]:
            raise forms.ValidationError(PERIOD_ORDER, code="period_order")
        return data


class RecordFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=RecordStatus.choices)
    kind = django_filters.ChoiceFilter(label=_("Ledger"), choices=RecordKind.choices)
    to_confirm = django_filters.BooleanFilter(
        label=_("Only those I can confirm"), method="filter_to_confirm", widget=forms.CheckboxInput
    )
    start_after = django_filters.DateFilter(
        label=_("From"), field_name="start", lookup_expr="date__gte", widget=forms.DateInput(attrs={"type": "date"})
    )
    start_before = django_filters.DateFilter(
        label=_("To"), field_name="start", lookup_expr="date__lte", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = ServiceRecord
        fields = ["status", "kind", "organisation"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["organisation"].queryset = admin_organisations(user) if user else Organisation.objects.none()
        self.filters["organisation"].label = _("Organisation")

    def filter_to_confirm(self, queryset, name, value):
        return queryset  # the view starts from record_reads.records_confirmable_by when it is ticked


def signups_to_log(user):
    """Past activities the giver signed up for and has not logged yet: the one-tap list."""
    return (
        ActivitySignup.objects.filter(user=user, status=SignupStatus.SIGNED_UP, activity__start__lte=timezone.now())
        .exclude(activity__service_records__giver=user)
        .select_related("activity__village")
        .order_by("-activity__start")[:5]
    )
