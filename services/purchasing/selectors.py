"""Reads of purchasing: the contracts and settlements a user may see, spend against budget, and a settlement's
lines, exclusions and xlsx for finance."""

from decimal import Decimal

from django.db.models import (
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from portal.exports import safe_workbook
from portal.scoping import scope_queryset
from services.purchasing import rules as purchasing_rules
from services.purchasing.models import (
    SPENT_STATUSES,
    PurchaseContract,
    Settlement,
    SettlementStatus,
)


def contracts_for(user) -> QuerySet:
    """Contracts the user may see: buyers in their scope (any staff role), or their own organisation's."""
    if not getattr(user, "is_authenticated", False):
        return PurchaseContract.objects.none()
    base = PurchaseContract.objects.all()
    return scope_queryset(user, base, region_field="region") | base.filter(
        organisation_id__in=purchasing_rules._admin_org_ids(user)
    )


def contract_visible(*, user, pk) -> PurchaseContract:
    contract = contracts_for(user).select_related("region", "organisation").filter(pk=pk).first()
    if contract is None:
        raise Http404
    return contract


def settlements_for(user) -> QuerySet:
    return Settlement.objects.filter(contract__in=contracts_for(user).values("pk"))


def settlement_visible(*, user, pk) -> Settlement:
    settlement = (
        settlements_for(user)
        .select_related("contract__region", "contract__organisation", "submitted_by", "approved_by", "built_by")
        .filter(pk=pk)
        .first()
    )
    if settlement is None:
        raise Http404
    return settlement


# --- spend -----------------------------------------------------------------------------------------


def spend_by_contract(contracts_qs: QuerySet) -> QuerySet:
    """Contracts annotated with `spent`: the Decimal sum of their approved and paid settlements' totals.

    A correlated subquery (not a join), so it composes with other annotations without multiplying rows.
    """
    spent = (
        Settlement.objects.filter(contract=OuterRef("pk"), status__in=SPENT_STATUSES)
        .order_by()
        .values("contract")
        .annotate(s=Sum("total"))
        .values("s")
    )
    return contracts_qs.annotate(
        spent=Coalesce(
            Subquery(spent, output_field=purchasing_rules.MONEY),
            Value(Decimal("0.00")),
            output_field=purchasing_rules.MONEY,
        )
    )


def _exact_spent(contract: PurchaseContract, *, exclude_pk=None) -> Decimal:
    """Spent so far, summed in Python over Decimals (what approval checks against the cap)."""
    totals = Settlement.objects.filter(contract=contract, status__in=SPENT_STATUSES)
    if exclude_pk:
        totals = totals.exclude(pk=exclude_pk)
    return sum(totals.values_list("total", flat=True), Decimal("0.00"))


def budget_state(contract: PurchaseContract, spent: Decimal | None = None) -> dict:
    """Spend against the cap: amounts, percentage (for the bar) and whether to warn (≥ 90 %)."""
    spent = _exact_spent(contract) if spent is None else Decimal(spent)
    pending = sum(
        Settlement.objects.filter(contract=contract, status=SettlementStatus.SUBMITTED).values_list("total", flat=True),
        Decimal("0.00"),
    )
    budget = contract.budget
    ratio = spent / budget if budget else Decimal(0)
    return {
        "budget": budget,
        "spent": spent,
        "pending": pending,
        "left": budget - spent,
        "percent": int(min(ratio, Decimal(1)) * 100),
        "warn": ratio >= purchasing_rules.BUDGET_WARNING_RATIO,
        "over": spent > budget,
    }


# --- exports ---------------------------------------------------------------------------------------


def settlement_lines(settlement: Settlement) -> QuerySet:
    return settlement.lines.select_related("service_item", "record").order_by("kind", "service_item__name", "pk")


def excluded_entries(settlement: Settlement) -> QuerySet:
    return (
        settlement.entries.filter(billable=False)
        .select_related("record__giver", "record__elder", "record__service_item")
        .order_by("record__start", "record_id")
    )


def settlement_xlsx(settlement: Settlement) -> bytes:
    """The settlement for finance: header, lines with quantity, price and amount, total, excluded records."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    from django.utils.translation import gettext

    contract = settlement.contract
    book = Workbook()
    sheet = book.active
    sheet.title = gettext("Settlement")[:31]
    bold = Font(bold=True)
    sheet.append([gettext("Settlement"), f"{contract.organisation.name} {settlement.month:%Y-%m}"])
    sheet["A1"].font = bold
    sheet.append([gettext("Buyer"), contract.region.name])
    sheet.append([gettext("Contract"), str(contract)])
    sheet.append([gettext("Status"), settlement.get_status_display()])
    sheet.append([])
    header = [
        gettext("Kind"),
        gettext("Service item"),
        gettext("Unit"),
        gettext("Quantity"),
        gettext("Unit price (yuan)"),
        gettext("Amount (yuan)"),
        gettext("Records"),
        gettext("Note"),
    ]
    sheet.append(header)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for line in settlement_lines(settlement):
        sheet.append(
            [
                line.get_kind_display(),
                line.service_item.name,
                line.get_unit_display(),
                line.quantity,
                line.unit_price,
                line.amount,
                line.record_count,
                line.note,
            ]
        )
        for col in (4, 5, 6):
            sheet.cell(row=sheet.max_row, column=col).number_format = "0.00"
    sheet.append([gettext("Total"), "", "", "", "", settlement.total])
    sheet.cell(row=sheet.max_row, column=6).number_format = "0.00"
    sheet.cell(row=sheet.max_row, column=1).font = bold
    excluded = book.create_sheet(gettext("Not billable")[:31])
    excluded.append(
        [
            gettext("Record"),
            gettext("Date"),
            gettext("Giver"),
            gettext("Elder"),
            gettext("Service item"),
            gettext("Minutes"),
            gettext("Reason"),
        ]
    )
    for entry in excluded_entries(settlement):
        record = entry.record
        excluded.append(
            [
                record.pk,
                timezone.localtime(record.start).strftime("%Y-%m-%d %H:%M"),
                str(record.giver),
                record.elder.name if record.elder_id else "",
                record.service_item.name,
                entry.minutes,
                entry.get_reason_display(),
            ]
        )
    out = io.BytesIO()
    safe_workbook(book).save(out)
    return out.getvalue()
