"""Forms of the pairing screens: run matching, record a need, pair by hand, end a pairing, list filter."""

import django_filters

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.models import RegionLevel
from portal.scoping import scope_regions
from services.catalogue.models import ServiceCategory
from services.ledger.models import Elder
from services.pairing.models import Need, Pairing, PairingOrigin, PairingStatus, Urgency
from services.pairing.rules import OFFICER_END_REASONS, OFFICER_ROLES
from volunteers.models import Organisation, OrganisationStatus, VolunteerProfile

NO_GIVER_CHOSEN = _("Choose a person or an organisation.")
TWO_GIVERS_CHOSEN = _("Choose a person or an organisation, not both.")


def run_regions(user):
    """The counties and townships an officer may run the matching for."""
    return (
        scope_regions(user, roles=OFFICER_ROLES)
        .filter(level__in=[RegionLevel.COUNTY, RegionLevel.TOWNSHIP])
        .order_by("code")
    )


class RegionSelect(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name if obj.level == RegionLevel.COUNTY else f"· {obj.name}"


class MatchRunForm(forms.Form):
    region = RegionSelect(label=_("Area"), queryset=None, empty_label=None)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = run_regions(user)


class NeedForm(forms.ModelForm):
    class Meta:
        model = Need
        fields = ("category", "urgency", "professional", "note")
        widgets = {"urgency": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].empty_label = None
        self.fields["urgency"].choices = Urgency.choices


class GiverChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.user.real_name or obj.user.phone} · {obj.get_kind_display()} · {obj.village.name}"


class PairingForm(forms.Form):
    """An officer adjusting by hand: pair an elder with a person or an organisation of the elder's county."""

    giver = GiverChoice(label=_("Person"), queryset=None, required=False)
    organisation = forms.ModelChoiceField(label=_("or an organisation"), queryset=None, required=False)
    categories = forms.ModelMultipleChoiceField(
        label=_("Services"),
        queryset=ServiceCategory.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, elder: Elder, **kwargs):
        super().__init__(*args, **kwargs)
        county = elder.village_id[:6]
        self.fields["giver"].queryset = (
            VolunteerProfile.objects.filter(village__code__startswith=county, user__is_active=True)
            .select_related("user", "village")
            .order_by("village_id", "user__real_name")
        )
        self.fields["organisation"].queryset = Organisation.objects.filter(
            region__code__startswith=county, status=OrganisationStatus.APPROVED
        ).order_by("name")
        self.fields["categories"].initial = list(
            elder.needs.filter(closed_at__isnull=True).values_list("category_id", flat=True)
        )

    def clean(self):
        data = super().clean()
        giver, organisation = data.get("giver"), data.get("organisation")
        if giver is None and organisation is None and not self.errors:
            raise forms.ValidationError(NO_GIVER_CHOSEN, code="no_giver")
        if giver is not None and organisation is not None:
            raise forms.ValidationError(TWO_GIVERS_CHOSEN, code="two_givers")
        return data


class EndForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why it ends"),
        choices=[(r.value, r.label) for r in OFFICER_END_REASONS],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class PairingFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=PairingStatus.choices, empty_label=_("All"))
    origin = django_filters.ChoiceFilter(label=_("Made by"), choices=PairingOrigin.choices, empty_label=_("All"))
    q = django_filters.CharFilter(label=_("Elder or giver name"), method="search")

    class Meta:
        model = Pairing
        fields = ("status", "origin")

    def search(self, queryset, name, value):
        value = value.strip()[:50]
        if not value:
            return queryset
        return queryset.filter(
            models_q(elder__name__icontains=value)
            | models_q(giver_user__real_name__icontains=value)
            | models_q(giver_organisation__name__icontains=value)
        )


def models_q(**kwargs):
    from django.db.models import Q

    return Q(**kwargs)
