"""Forms of the time-bank pages: a transfer to kin, service paid in time, arranging it, the members' filter."""

import django_filters

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from portal.adapter import MobilePhoneField
from services.catalogue.selectors import items_published
from services.models import ServiceItem
from services.timebank.actions import associations
from services.timebank.models import TimeAccount
from services.timebank.selectors import admin_associations
from volunteers.models import Activity, ActivityStatus, Membership, MembershipStatus, Organisation

HOURS_WIDGET = forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "1.5"})


class TransferForm(forms.Form):
    phone = MobilePhoneField(label=_("Relative's mobile number"))
    relation = forms.CharField(label=_("Relation"), max_length=20, help_text=_("e.g. father, mother, grandmother"))
    hours = forms.CharField(label=_("Hours"), max_length=10, widget=HOURS_WIDGET)


class TimeRequestForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Elder association"), queryset=Organisation.objects.none())
    beneficiary = forms.CharField(
        label=_("For whom"), max_length=50, required=False, help_text=_("Leave empty if the service is for you.")
    )
    service_item = forms.ModelChoiceField(label=_("Service"), queryset=ServiceItem.objects.none())
    hours = forms.CharField(label=_("Hours"), max_length=10, widget=HOURS_WIDGET)
    description = forms.CharField(label=_("What is needed"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = associations()
        self.fields["service_item"].queryset = items_published().filter(professional=False)


class ArrangeForm(forms.Form):
    activity = forms.ModelChoiceField(label=_("Activity"), queryset=Activity.objects.none())

    def __init__(self, *args, organisation_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["activity"].queryset = Activity.objects.filter(
            organisation_id=organisation_id, status__in=[ActivityStatus.DRAFT, ActivityStatus.PUBLISHED]
        ).order_by("start")


class MemberAccountFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Name or mobile"), method="filter_q")
    organisation = django_filters.ModelChoiceFilter(
        label=_("Elder association"), queryset=Organisation.objects.none(), method="filter_organisation"
    )
    min_hours = django_filters.NumberFilter(label=_("Balance at least (hours)"), method="filter_min_hours")

    class Meta:
        model = TimeAccount
        fields = ["q", "organisation", "min_hours"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["organisation"].queryset = admin_associations(user) if user else Organisation.objects.none()

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(user__real_name__icontains=value) | Q(user__phone__startswith=value))

    def filter_organisation(self, queryset, name, value):
        if value is None:
            return queryset
        member = Membership.objects.filter(
            user_id=OuterRef("user_id"), organisation=value, status=MembershipStatus.ACTIVE
        )
        return queryset.filter(Exists(member))

    def filter_min_hours(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(balance__gte=int(value * 60))
