"""Forms of the purchasing screens: a contract with its priced lines (a formset), the month to settle,
returning and paying a settlement, and the contract list filter. Rules live in services.purchasing.settlements."""

import datetime
from decimal import Decimal

import django_filters

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from services.catalogue.models import ServiceItem
from services.purchasing.models import PurchaseContract, SettlementStatus, Unit
from services.purchasing.rules import BAD_MONTH, CAP_POSITIVE, PRICE_POSITIVE, buyer_regions, parse_month
from volunteers.models import Organisation, OrganisationStatus


class BuyerChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name if obj.level == "county" else f"· {obj.name}"


class ContractForm(forms.ModelForm):
    class Meta:
        model = PurchaseContract
        fields = ("number", "region", "organisation", "start", "end", "budget", "note")
        widgets = {
            "start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "budget": forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        regions = buyer_regions(user)
        self.fields["region"] = BuyerChoice(label=_("Buyer"), queryset=regions, empty_label=None)
        # Approved organisations of the officer's area (and the contract's own, should it have changed since).
        prefixes = {r.prefix for r in regions.filter(level="county")} or {r.prefix for r in regions}
        condition = Q()
        for prefix in prefixes:
            condition |= Q(region__code__startswith=prefix)
        organisations = Organisation.objects.filter(status=OrganisationStatus.APPROVED).filter(condition)
        if self.instance.pk:
            organisations = organisations | Organisation.objects.filter(pk=self.instance.organisation_id)
        self.fields["organisation"].queryset = organisations.order_by("name")
        self.fields["organisation"].label = _("Provider (approved organisation)")


class LineForm(forms.Form):
    service_item = forms.ModelChoiceField(label=_("Service item"), queryset=ServiceItem.objects.none())
    unit = forms.ChoiceField(label=_("Unit"), choices=Unit.choices, initial=Unit.HOUR)
    unit_price = forms.DecimalField(
        label=_("Unit price (yuan)"),
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    cap_per_elder = forms.DecimalField(
        label=_("Cap per elder and month"), max_digits=8, decimal_places=2, required=False
    )
    cap_per_month = forms.DecimalField(label=_("Cap per month"), max_digits=10, decimal_places=2, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_item"].queryset = ServiceItem.objects.select_related("category").order_by(
            "category__sort_order", "sort_order", "name"
        )

    def clean_unit_price(self):
        price = self.cleaned_data["unit_price"]
        if price is not None and price <= 0:
            raise forms.ValidationError(PRICE_POSITIVE, code="price_positive")
        return price

    def _cap(self, name):
        cap = self.cleaned_data.get(name)
        if cap is not None and cap <= Decimal(0):
            raise forms.ValidationError(CAP_POSITIVE, code="cap_positive")
        return cap

    def clean_cap_per_elder(self):
        return self._cap("cap_per_elder")

    def clean_cap_per_month(self):
        return self._cap("cap_per_month")


LineFormSet = forms.formset_factory(LineForm, extra=2, can_delete=True, max_num=50, validate_max=True)


def line_initial(contract) -> list[dict]:
    return [
        {
            "service_item": line.service_item_id,
            "unit": line.unit,
            "unit_price": line.unit_price,
            "cap_per_elder": line.cap_per_elder,
            "cap_per_month": line.cap_per_month,
        }
        for line in contract.lines.all()
    ]


def formset_lines(formset) -> list[dict]:
    """The filled, not deleted lines of a valid formset."""
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("service_item")
    ]


class MonthField(forms.Field):
    widget = forms.TextInput(attrs={"type": "month", "placeholder": "2026-10", "pattern": r"\d{4}-\d{1,2}"})

    def to_python(self, value):
        value = str(value or "").strip()[:20]
        if not value:
            return None
        try:
            return parse_month(value)
        except forms.ValidationError:
            raise forms.ValidationError(BAD_MONTH, code="bad_month") from None


class MonthForm(forms.Form):
    month = MonthField(label=_("Month to settle"))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why it is returned"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class PaidForm(forms.Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=forms.DateInput(attrs={"type": "date"}))
    voucher_no = forms.CharField(label=_("Voucher number"), max_length=40)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()


PERIOD_CHOICES = [("current", _("Running now")), ("future", _("Not started")), ("ended", _("Ended"))]


class ContractFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Provider or number"), method="filter_q")
    period = django_filters.ChoiceFilter(label=_("Period"), choices=PERIOD_CHOICES, method="filter_period")
    year = django_filters.NumberFilter(label=_("Year"), method="filter_year")
    pending = django_filters.BooleanFilter(
        label=_("With a settlement waiting for approval"), method="filter_pending", widget=forms.CheckboxInput
    )

    class Meta:
        model = PurchaseContract
        fields = ("q", "period", "year", "pending")

    def filter_q(self, queryset, name, value):
        value = value.strip()[:50]
        if not value:
            return queryset
        return queryset.filter(Q(organisation__name__icontains=value) | Q(number__icontains=value))

    def filter_period(self, queryset, name, value):
        today = timezone.localdate()
        if value == "current":
            return queryset.filter(start__lte=today, end__gte=today)
        if value == "future":
            return queryset.filter(start__gt=today)
        if value == "ended":
            return queryset.filter(end__lt=today)
        return queryset

    def filter_year(self, queryset, name, value):
        if value is None or not (2000 <= value <= 2100):
            return queryset
        year = int(value)
        return queryset.filter(start__lte=datetime.date(year, 12, 31), end__gte=datetime.date(year, 1, 1))

    def filter_pending(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(settlements__status=SettlementStatus.SUBMITTED).distinct()
