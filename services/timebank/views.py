"""The time-bank pages (their URL names live in the "volunteers" namespace): my account and statement, the
association's list of its members' accounts, transfers, service paid in time."""

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export.views import ExportMixin

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from portal import audit
from portal.models import AuditAction
from portal.scoping import no_store
from services.records.models import hours_display
from services.timebank import actions as bank
from services.timebank import selectors as reads
from services.timebank.forms import ArrangeForm, MemberAccountFilter, TimeRequestForm, TransferForm
from services.timebank.models import TimeAccount, TimeRequest, TimeRequestStatus
from services.timebank.statement import entry_text, statement_pdf
from services.timebank.tables import MemberAccountExportTable, MemberAccountTable

FIRST_YEAR = 2018  # the policy's year: nothing in the bank is older
NOT_ASSOCIATION_ADMIN = _("Only the admins of an elder association see its members' time-bank accounts.")


def _year(request) -> int:
    this_year = timezone.localdate().year
    try:
        year = int(request.GET.get("year", this_year))
    except (TypeError, ValueError):
        return this_year
    return year if FIRST_YEAR <= year <= this_year else this_year


def _errors(request, exc) -> None:
    for message in getattr(exc, "messages", None) or [str(exc)]:
        messages.error(request, message)


def _empty(year: int) -> dict:
    """The statement of an account not opened yet (no row is made just by looking)."""
    return {"year": year, "opening": 0, "closing": 0, "entries": [], "totals": {}}


def _statement_context(request, account: TimeAccount) -> dict:
    year = _year(request)
    data = reads.statement(account, year) if account.pk else _empty(year)
    for entry in data["entries"]:
        entry.text = entry_text(entry)
        entry.balance_hours = hours_display(entry.balance_after)
    return {
        "account": account,
        "statement": data,
        "year": year,
        "years": range(timezone.localdate().year, FIRST_YEAR - 1, -1),
        "opening": hours_display(data["opening"]),
        "closing": hours_display(data["closing"]),
    }


@login_required
def timebank(request):
    """My account: balance, this year's statement, transfer to kin, ask for service paid in time."""
    user = request.user
    account = TimeAccount.objects.filter(user=user).first() or TimeAccount(user=user, balance=0)
    context = _statement_context(request, account)
    context.update(
        {
            "transfer_form": TransferForm(),
            "request_form": TimeRequestForm(),
            "requests": reads.requests_for(user).filter(requester=user)[:20],
            "association_requests": reads.requests_for(user)
            .filter(organisation__in=reads.admin_associations(user), status=TimeRequestStatus.OPEN)
            .exclude(requester=user)[:50],
            "is_association_admin": reads.admin_associations(user).exists(),
            "cap_hours": hours_display(bank.rules.transfer_yearly_cap_minutes()),
            "used_hours": hours_display(bank.transferred_in_year(account, timezone.localdate().year))
            if account.pk
            else "0.0",
        }
    )
    for item in context["association_requests"]:
        item.arrange_form = ArrangeForm(organisation_id=item.organisation_id)
    return no_store(render(request, "services/timebank/timebank.html", context))


def _visible_account(request, pk: int) -> TimeAccount:
    account = reads.accounts_for(request.user).select_related("user").filter(pk=pk).first()
    if account is None:
        raise Http404
    return account


@login_required
def timebank_account(request, pk: int):
    """A member's statement, for the admins of their elder association (and the holder)."""
    account = _visible_account(request, pk)
    if account.user_id != request.user.pk:
        audit.record(AuditAction.VIEW, request=request, obj=account, changes={"statement": _year(request)})
    context = _statement_context(request, account)
    return no_store(render(request, "services/timebank/account.html", context))


@login_required
def timebank_statement(request):
    """The yearly statement PDF: mine, or (`?account=`) a member's for their association's admins."""
    user = request.user
    if request.GET.get("account"):
        try:
            account = _visible_account(request, int(request.GET["account"]))
        except ValueError:
            raise Http404 from None
    else:
        account = TimeAccount.objects.filter(user=user).first() or TimeAccount(user=user, balance=0)
    year = _year(request)
    data = reads.statement(account, year) if account.pk else _empty(year)
    association = reads.admin_associations(user).filter(memberships__user_id=account.user_id).first()
    pdf = statement_pdf(account, data, association=association.name if association else "")
    audit.record(
        AuditAction.EXPORT,
        request=request,
        object_type="services.timeaccount",
        object_id=str(account.pk or ""),
        object_repr=f"time-bank statement {year}",
        changes={"pdf": True, "year": year},
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="time-bank-{year}.pdf"'
    return no_store(response)


@method_decorator(login_required, name="dispatch")
class MemberAccountListView(ExportMixin, SingleTableMixin, FilterView):
    """The association is the bank of its village: its admins list their members' balances and export them."""

    model = TimeAccount
    table_class = MemberAccountTable
    filterset_class = MemberAccountFilter
    template_name = "services/timebank/member_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "time-bank-accounts"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not reads.admin_associations(request.user).exists():
            raise PermissionDenied(NOT_ASSOCIATION_ADMIN)
        return no_store(super().dispatch(request, *args, **kwargs))

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["user"] = self.request.user
        return kwargs

    def get_queryset(self):
        return reads.member_accounts(self.request.user)

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return MemberAccountExportTable
        return super().get_table_class()

    def create_export(self, export_format):
        audit.record(
            AuditAction.EXPORT,
            request=self.request,
            object_type="services.timeaccount",
            object_repr="time-bank accounts",
            changes={"format": export_format, "filter": self.request.GET.urlencode()[:200]},
        )
        return super().create_export(export_format)

    def get(self, request, *args, **kwargs):
        if not request.GET.get(self.export_trigger_param):
            audit.record(
                AuditAction.VIEW,
                request=request,
                object_type="services.timeaccount",
                object_repr="time-bank accounts",
                changes={"page": "list"},
            )
        return super().get(request, *args, **kwargs)


@login_required
@require_POST
def timebank_transfer(request):
    form = TransferForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("volunteers:timebank")
    data = form.cleaned_data
    try:
        tx = bank.transfer_to_kin(
            actor=request.user, phone=data["phone"], relation=data["relation"], hours=data["hours"], request=request
        )
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("%(hours)s hours transferred.") % {"hours": hours_display(tx.minutes)})
    return redirect("volunteers:timebank")


@login_required
@require_POST
def timebank_request(request):
    form = TimeRequestForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("volunteers:timebank")
    data = form.cleaned_data
    try:
        bank.time_request_create(actor=request.user, request=request, **data)
    except ValidationError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Your request has been sent to the association; the hours are set aside for it."))
    return redirect("volunteers:timebank")


def _request_or_404(request, pk: int) -> TimeRequest:
    item = reads.requests_for(request.user).filter(pk=pk).first()
    if item is None:
        raise Http404
    return item


@login_required
@require_POST
def timebank_request_cancel(request, pk: int):
    item = _request_or_404(request, pk)
    try:
        bank.time_request_cancel(actor=request.user, time_request=item, request=request)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("The request is cancelled and the hours are back in the account."))
    return redirect("volunteers:timebank")


@login_required
@require_POST
def timebank_request_arrange(request, pk: int):
    item = _request_or_404(request, pk)
    form = ArrangeForm(request.POST, organisation_id=item.organisation_id)
    if not form.is_valid():
        messages.error(request, bank.rules.ACTIVITY_NOT_OURS)
        return redirect("volunteers:timebank")
    try:
        bank.time_request_arrange(
            actor=request.user, time_request=item, activity=form.cleaned_data["activity"], request=request
        )
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Arranged: volunteers sign up for the activity."))
    return redirect("volunteers:timebank")
