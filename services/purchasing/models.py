"""Government purchasing (政府购买服务): contracts with approved organisations and monthly settlements.

A `PurchaseContract` says who buys (a county or township), from whom (an approved organisation), for
which period, up to which budget, and at which prices (`ContractLine`: a care-service item, a unit and a
unit price, optional caps). A `Settlement` pays one contract for one month: it is built from the
organisation's confirmed purchased-service records and keeps, per record, whether it was billed and why
not (`SettlementRecord`), and per item the quantity, price and amount (`SettlementLine`).

Money is Decimal, yuan to the fen. The one rounding place is `services.purchasing.rules.line_amount` (per line,
ROUND_HALF_UP); the settlement total is the sum of its line amounts. All the rules live in
services/purchasing.py; this module holds fields and constraints.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.models import Region


class Unit(models.TextChoices):
    HOUR = "hour", _("per hour")
    VISIT = "visit", _("per visit")
    PERSON_TIME = "person_time", _("per person-time")


class PurchaseContract(models.Model):
    """购买服务合同: a county (or township) buys care services from one approved organisation."""

    number = models.CharField(_("contract number"), max_length=40, blank=True)
    region = models.ForeignKey(Region, verbose_name=_("buyer"), on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(
        "volunteers.Organisation",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="purchase_contracts",
    )
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    budget = models.DecimalField(_("budget cap (yuan)"), max_digits=14, decimal_places=2)
    note = models.TextField(_("remarks"), max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("purchase contract")
        verbose_name_plural = _("purchase contracts")
        ordering = ["-start", "-pk"]
        indexes = [
            models.Index(fields=["region", "start"], name="contract_region_start"),
            models.Index(fields=["organisation", "start"], name="contract_org_start"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="contract_period_order"),
            models.CheckConstraint(condition=Q(budget__gt=0), name="contract_budget_positive"),
        ]

    def __str__(self) -> str:
        return self.number or f"{self.organisation} {self.start:%Y-%m-%d}–{self.end:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("services:contract-detail", args=[self.pk])


class ContractLine(models.Model):
    """One priced item of a contract; caps are quantities in the line's unit (hours, visits, person-times)."""

    contract = models.ForeignKey(
        PurchaseContract, verbose_name=_("contract"), on_delete=models.CASCADE, related_name="lines"
    )
    service_item = models.ForeignKey(
        "services.ServiceItem", verbose_name=_("service item"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.CharField(_("unit"), max_length=12, choices=Unit.choices, default=Unit.HOUR)
    unit_price = models.DecimalField(_("unit price (yuan)"), max_digits=10, decimal_places=2)
    cap_per_elder = models.DecimalField(
        _("cap per elder and month"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("In the line's unit; empty: no cap."),
    )
    cap_per_month = models.DecimalField(
        _("cap per month"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("In the line's unit; empty: no cap."),
    )

    class Meta:
        verbose_name = _("contract line")
        verbose_name_plural = _("contract lines")
        ordering = ["contract", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "service_item"], name="contractline_unique_item"),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="contractline_price_positive"),
            models.CheckConstraint(
                condition=Q(cap_per_elder__isnull=True) | Q(cap_per_elder__gt=0), name="contractline_elder_cap_positive"
            ),
            models.CheckConstraint(
                condition=Q(cap_per_month__isnull=True) | Q(cap_per_month__gt=0), name="contractline_month_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_item} · {self.unit_price} {self.get_unit_display()}"


class SettlementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    PAID = "paid", _("Paid")


SPENT_STATUSES = (SettlementStatus.APPROVED, SettlementStatus.PAID)


class Settlement(models.Model):
    """结算单: one contract, one month. Draft → submitted (provider) → approved (county officer) → paid."""

    contract = models.ForeignKey(
        PurchaseContract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="settlements"
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month settled."))
    status = models.CharField(
        _("status"), max_length=10, choices=SettlementStatus.choices, default=SettlementStatus.DRAFT
    )
    total = models.DecimalField(_("total (yuan)"), max_digits=14, decimal_places=2, default=Decimal("0.00"))
    billed_count = models.PositiveIntegerField(_("records billed"), default=0)
    excluded_count = models.PositiveIntegerField(_("records not billable"), default=0)
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("built by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    built_at = models.DateTimeField(_("built at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason for return"), max_length=300, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    voucher_no = models.CharField(_("voucher number"), max_length=40, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        ordering = ["-month", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="settlement_unique_month"),
            models.CheckConstraint(
                condition=~Q(status="paid") | (Q(paid_on__isnull=False) & ~Q(voucher_no="")),
                name="settlement_paid_has_voucher",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract.organisation} {self.month:%Y-%m}"

    def get_absolute_url(self) -> str:
        return reverse("services:settlement-detail", args=[self.pk])

    @property
    def is_locked(self) -> bool:
        return self.status in SPENT_STATUSES


class LineKind(models.TextChoices):
    REGULAR = "regular", _("Service of the month")
    ADJUSTMENT = "adjustment", _("Adjustment")


class SettlementLine(models.Model):
    """Per item: quantity (minutes or units), the price copied from the contract, the amount (rounded once)."""

    settlement = models.ForeignKey(
        Settlement, verbose_name=_("settlement"), on_delete=models.CASCADE, related_name="lines"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=LineKind.choices, default=LineKind.REGULAR)
    contract_line = models.ForeignKey(
        ContractLine,
        verbose_name=_("contract line"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    service_item = models.ForeignKey(
        "services.ServiceItem", verbose_name=_("service item"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.CharField(_("unit"), max_length=12, choices=Unit.choices)
    unit_price = models.DecimalField(_("unit price (yuan)"), max_digits=10, decimal_places=2)
    minutes = models.IntegerField(_("minutes"), default=0)
    units = models.IntegerField(_("units"), default=0)
    record_count = models.IntegerField(_("records"), default=0)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=14, decimal_places=2)
    # An adjustment refers to the settled record it corrects (the original of a reversal).
    record = models.ForeignKey(
        "services.ServiceRecord",
        verbose_name=_("record corrected"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("settlement line")
        verbose_name_plural = _("settlement lines")
        ordering = ["settlement", "kind", "pk"]

    def __str__(self) -> str:
        return f"{self.service_item} {self.amount}"

    @property
    def quantity(self) -> Decimal:
        """Hours (two decimals, shown only) for hourly lines, else the count."""
        if self.unit == Unit.HOUR:
            return (Decimal(self.minutes) / 60).quantize(Decimal("0.01"))
        return Decimal(self.units)


class ExclusionReason(models.TextChoices):
    NO_LINE = "no_line", _("No contract line for this service item")
    OUTSIDE_PERIOD = "outside_period", _("Outside the contract period")
    OUTSIDE_AREA = "outside_area", _("Outside the buyer's area")  # no longer produced: such records are not read
    ELDER_CAP = "elder_cap", _("Over the cap per elder and month")
    MONTH_CAP = "month_cap", _("Over the cap per month")
    REVERSED = "reversed", _("Reversed before settlement")
    SAME_VISIT = "same_visit", _("Part of a visit already counted")


class SettlementRecord(models.Model):
    """Which records a settlement looked at: billed (with their line) or not billable (with the reason).

    The minutes and units are signed (a reversal's are negative); approval marks the billed records settled.
    """

    # Indexed through the unique (settlement, record) and the (record, billable) indexes: no extra FK indexes
    # to maintain when a month of entries is written or rebuilt.
    settlement = models.ForeignKey(
        Settlement, verbose_name=_("settlement"), on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    record = models.ForeignKey(
        "services.ServiceRecord",
        verbose_name=_("service record"),
        on_delete=models.PROTECT,
        related_name="settlement_entries",
        db_index=False,
    )
    # The record's item, copied: the per-item sums and the line assignment need no join with the records.
    service_item = models.ForeignKey(
        "services.ServiceItem",
        verbose_name=_("service item"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    line = models.ForeignKey(
        SettlementLine, verbose_name=_("line"), null=True, blank=True, on_delete=models.CASCADE, related_name="entries"
    )
    billable = models.BooleanField(_("billed"), default=True)
    reason = models.CharField(_("why not billable"), max_length=20, choices=ExclusionReason.choices, blank=True)
    minutes = models.IntegerField(_("minutes"), default=0)
    units = models.IntegerField(_("units"), default=0)

    class Meta:
        verbose_name = _("settled record")
        verbose_name_plural = _("settled records")
        ordering = ["settlement", "pk"]
        indexes = [models.Index(fields=["record", "billable"], name="settlementrecord_record")]
        constraints = [
            models.UniqueConstraint(fields=["settlement", "record"], name="settlementrecord_unique"),
            models.CheckConstraint(
                condition=Q(billable=True, reason="") | Q(billable=False) & ~Q(reason=""),
                name="settlementrecord_reason_when_excluded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.settlement_id}:{self.record_id}"
