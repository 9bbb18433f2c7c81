"""Purchasing screens: contracts (list, detail with spend against the cap, create/edit with priced lines) and
monthly settlements (build, detail, submit, approve, return, mark paid, xlsx, print).

Thin views over services.purchasing.settlements. Visibility: county/township staff see the contracts of buyers in their
scope; an organisation's admins see their organisation's. Anything else is a 404. Pages carry personal data
(elders' names in the not-billable list), so they are never cached and views/exports are audited.
"""

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from portal import audit
from portal.models import AuditAction
from portal.scoping import NO_ROLE, is_staff_user
from portal.scoping import no_store as _no_store
from portal.tables import AuditedExportMixin
from services.purchasing import contracts, settlements
from services.purchasing import rules as purchasing_rules
from services.purchasing import selectors as purchasing_reads
from services.purchasing.forms import (
    ContractFilter,
    ContractForm,
    LineFormSet,
    MonthForm,
    PaidForm,
    RejectForm,
    formset_lines,
    line_initial,
)
from services.purchasing.models import PurchaseContract, Settlement, SettlementStatus
from services.purchasing.tables import ContractExportTable, ContractTable
from volunteers.models import Membership, MembershipStatus

EXCLUDED_PER_PAGE = 100


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _may_open_purchasing(user) -> bool:
    return (
        is_staff_user(user)
        or Membership.objects.filter(user=user, is_admin=True, status=MembershipStatus.ACTIVE).exists()
    )


def contracts_listed(user):
    """The list's queryset: visible contracts with spend and the number of settlements awaiting approval."""
    waiting = (
        Settlement.objects.filter(contract=OuterRef("pk"), status=SettlementStatus.SUBMITTED)
        .order_by()
        .values("contract")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return purchasing_reads.spend_by_contract(
        purchasing_reads.contracts_for(user).select_related("organisation", "region")
    ).annotate(waiting=Coalesce(Subquery(waiting, output_field=IntegerField()), Value(0)))


# --- contracts -------------------------------------------------------------------------------------


class ContractListView(LoginRequiredMixin, ExportMixin, SingleTableMixin, FilterView):
    model = PurchaseContract
    table_class = ContractTable
    filterset_class = ContractFilter
    template_name = "services/purchasing/contract_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "purchase-contracts"
    export_trigger_param = "_format"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not _may_open_purchasing(request.user):
            raise PermissionDenied(NO_ROLE)
        return _no_store(super().dispatch(request, *args, **kwargs))

    def get_queryset(self):
        return contracts_listed(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["export_query"] = query.urlencode()
        context["can_create"] = purchasing_rules.may_manage_contracts(self.request.user)
        return context


class ContractExportView(AuditedExportMixin, ContractListView):
    """xlsx (default) or csv of the filtered contracts; audited."""

    table_class = ContractExportTable
    export_label = "purchase contracts"
    export_object_type = "services.purchasecontract"


def _contract_form(request, contract: PurchaseContract | None):
    if not purchasing_rules.may_manage_contracts(request.user):
        raise PermissionDenied(purchasing_rules.NOT_OFFICER)
    instance = contract or PurchaseContract()
    initial_lines = line_initial(contract) if contract else []
    form = ContractForm(request.POST or None, instance=instance, user=request.user)
    formset = LineFormSet(request.POST or None, prefix="lines", initial=initial_lines)
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            saved = form.save(commit=False)
            try:
                contracts.contract_save(
                    actor=request.user, contract=saved, lines=formset_lines(formset), request=request
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, gettext("The contract is saved."))
                return redirect("services:contract-detail", pk=saved.pk)
        status = 400
    context = {"form": form, "formset": formset, "contract": contract}
    return _no_store(render(request, "services/purchasing/contract_form.html", context, status=status))


@login_required
def contract_create(request):
    return _contract_form(request, None)


@login_required
def contract_edit(request, pk: int):
    contract = purchasing_reads.contract_visible(user=request.user, pk=pk)
    if not purchasing_rules.is_buyer_officer(request.user, contract.region):
        raise PermissionDenied(purchasing_rules.NOT_OFFICER)
    return _contract_form(request, contract)


@login_required
def contract_detail(request, pk: int):
    contract = purchasing_reads.contract_visible(user=request.user, pk=pk)
    lines = contract.lines.select_related("service_item__category").order_by("pk")
    settlements = contract.settlements.select_related("submitted_by", "approved_by").order_by("-month")
    user = request.user
    may_build = purchasing_rules.is_provider_admin(user, contract) or purchasing_rules.is_buyer_officer(
        user, contract.region
    )
    context = {
        "contract": contract,
        "lines": lines,
        "settlements": settlements,
        "budget": purchasing_reads.budget_state(contract),
        "month_form": MonthForm(),
        "months": purchasing_rules.contract_months(contract),
        "default_month": purchasing_rules.default_month(contract),
        "may_build": may_build,
        "may_edit": purchasing_rules.is_buyer_officer(user, contract.region),
    }
    return _no_store(render(request, "services/purchasing/contract_detail.html", context))


# --- settlements -----------------------------------------------------------------------------------


@login_required
@require_POST
def settlement_build(request, pk: int):
    contract = purchasing_reads.contract_visible(user=request.user, pk=pk)
    form = MonthForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("services:contract-detail", pk=contract.pk)
    try:
        settlement = settlements.settlement_build(
            actor=request.user, contract=contract, month=form.cleaned_data["month"], request=request
        )
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("services:contract-detail", pk=contract.pk)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("services:contract-detail", pk=contract.pk)
    messages.success(request, gettext("The settlement is built from the confirmed records."))
    return redirect("services:settlement-detail", pk=settlement.pk)


def _settlement_context(request, settlement: Settlement) -> dict:
    contract = settlement.contract
    user = request.user
    officer = purchasing_rules.is_buyer_officer(user, contract.region)
    provider = purchasing_rules.is_provider_admin(user, contract)
    excluded = Paginator(purchasing_reads.excluded_entries(settlement), EXCLUDED_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return {
        "settlement": settlement,
        "contract": contract,
        "lines": purchasing_reads.settlement_lines(settlement),
        "excluded": excluded,
        "budget": purchasing_reads.budget_state(contract),
        "may_submit": provider and settlement.status == SettlementStatus.DRAFT and settlement.built_at,
        "may_rebuild": (provider or officer) and settlement.status == SettlementStatus.DRAFT,
        "may_review": officer and not provider and settlement.status == SettlementStatus.SUBMITTED,
        "reviewer_is_provider": officer and provider and settlement.status == SettlementStatus.SUBMITTED,
        "may_pay": officer and settlement.status == SettlementStatus.APPROVED,
        "reject_form": RejectForm(),
        "paid_form": PaidForm(),
    }


@login_required
def settlement_detail(request, pk: int):
    settlement = purchasing_reads.settlement_visible(user=request.user, pk=pk)
    audit.record(AuditAction.VIEW, request=request, obj=settlement, changes={"page": request.GET.get("page", "1")})
    return _no_store(
        render(request, "services/purchasing/settlement_detail.html", _settlement_context(request, settlement))
    )


def _act(request, pk: int, action) -> HttpResponse:
    """Run one state change; a refusal is shown as a message and changes nothing."""
    settlement = purchasing_reads.settlement_visible(user=request.user, pk=pk)
    try:
        text = action(settlement)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, text)
    return redirect("services:settlement-detail", pk=settlement.pk)


@login_required
@require_POST
def settlement_rebuild(request, pk: int):
    def run(settlement):
        settlements.settlement_build(
            actor=request.user, contract=settlement.contract, month=settlement.month, request=request
        )
        return gettext("The settlement is built again from the confirmed records.")

    return _act(request, pk, run)


@login_required
@require_POST
def settlement_submit(request, pk: int):
    def run(settlement):
        settlements.settlement_submit(actor=request.user, settlement=settlement, request=request)
        return gettext("The settlement is submitted to the county for approval.")

    return _act(request, pk, run)


@login_required
@require_POST
def settlement_approve(request, pk: int):
    def run(settlement):
        settlements.settlement_approve(actor=request.user, settlement=settlement, request=request)
        return gettext("The settlement is approved; its records are settled and locked.")

    return _act(request, pk, run)


@login_required
@require_POST
def settlement_reject(request, pk: int):
    form = RejectForm(request.POST)

    def run(settlement):
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        settlements.settlement_reject(actor=request.user, settlement=settlement, reason=reason, request=request)
        return gettext("The settlement is returned to the provider as a draft.")

    return _act(request, pk, run)


@login_required
@require_POST
def settlement_paid(request, pk: int):
    form = PaidForm(request.POST)

    def run(settlement):
        if not form.is_valid():
            raise ValidationError(purchasing_rules.VOUCHER_REQUIRED, code="voucher_required")
        data = form.cleaned_data
        settlements.settlement_mark_paid(
            actor=request.user,
            settlement=settlement,
            paid_on=data["paid_on"],
            voucher_no=data["voucher_no"],
            request=request,
        )
        return gettext("The payment is recorded.")

    return _act(request, pk, run)


@login_required
def settlement_export(request, pk: int):
    settlement = purchasing_reads.settlement_visible(user=request.user, pk=pk)
    content = purchasing_reads.settlement_xlsx(settlement)
    audit.record(AuditAction.EXPORT, request=request, obj=settlement, changes={"format": "xlsx"})
    response = HttpResponse(content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = f"settlement-{settlement.contract_id}-{settlement.month:%Y-%m}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _no_store(response)


@login_required
def settlement_print(request, pk: int):
    settlement = purchasing_reads.settlement_visible(user=request.user, pk=pk)
    audit.record(AuditAction.VIEW, request=request, obj=settlement, changes={"print": True})
    context = {
        "settlement": settlement,
        "contract": settlement.contract,
        "lines": purchasing_reads.settlement_lines(settlement),
        "excluded": purchasing_reads.excluded_entries(settlement)[:500],
        "excluded_count": settlement.excluded_count,
    }
    return _no_store(render(request, "services/purchasing/settlement_print.html", context))
