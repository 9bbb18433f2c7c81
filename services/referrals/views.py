"""Referral screens: the list (the area's referrals, or a department's own), one referral with the department's
acknowledge and outcome forms, the form that refers a case from an alert or a visit, and the audited export."""

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from portal import audit
from portal.models import AuditAction
from portal.scoping import ScopedViewMixin, scoped_view
from portal.tables import AuditedExportMixin, ReasonedExportMixin
from services.care.alerts import alerts_for
from services.care.visits import visits_for
from services.referrals import actions, rules, selectors
from services.referrals.forms import OutcomeForm, ReferralForm
from services.referrals.models import ReferralStatus
from services.referrals.tables import ReferralExportTable, ReferralFilter, ReferralTable


class ReferralListView(ScopedViewMixin, ReasonedExportMixin, ExportMixin, SingleTableMixin, FilterView):
    allowed_roles = rules.LIST_ROLES
    export_object_type = "services.referral"
    export_label = "referrals"
    table_class = ReferralTable
    filterset_class = ReferralFilter
    template_name = "services/referrals/referral_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "referrals"

    def get_queryset(self):
        return selectors.referrals_for(self.request.user).select_related("elder", "village", "department_region")

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return ReferralExportTable
        return ReferralTable

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["counts"] = selectors.counts(context["filter"].qs)
        return context


class ReferralExportView(AuditedExportMixin, ReferralListView):
    table_class = ReferralExportTable
    export_object_type = "services.referral"
    export_label = "referrals"

    def get_table_class(self):
        return ReferralExportTable


def _source(request):
    """The alert or visit a referral starts from (?alert=ID or ?visit=ID), among those the user may see."""
    for name, finder in (("alert", alerts_for), ("visit", visits_for)):
        raw = request.GET.get(name) or request.POST.get(name)
        if raw:
            if not str(raw).isdigit():
                raise Http404
            found = finder(request.user).select_related("elder__village").filter(pk=int(raw)).first()
            if found is None or found.elder_id is None:
                raise Http404
            return name, found
    raise Http404


@scoped_view(*rules.REFERRER_ROLES, write=True)
def referral_create(request):
    name, source = _source(request)
    if not rules.may_refer(request.user, source.elder.village_id):
        raise PermissionDenied(rules.NOT_REFERRER)
    form = ReferralForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                referral = actions.refer(
                    actor=request.user,
                    kind=data["kind"],
                    level=data["level"],
                    reason=data["reason"],
                    request=request,
                    **{name: source},
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, gettext("The case is referred; the unit is told by SMS."))
                return redirect(referral.get_absolute_url())
        status = 400
    context = {"form": form, "source_name": name, "source": source, "elder": source.elder}
    return render(request, "services/referrals/referral_form.html", context, status=status)


@scoped_view(*rules.LIST_ROLES)
def referral_detail(request, pk: int):
    referral = selectors.referral_visible(user=request.user, pk=pk)
    audit.record(AuditAction.VIEW, request=request, obj=referral)
    receiver = rules.is_receiver(request.user, referral)
    context = {
        "referral": referral,
        "overdue": referral.status != ReferralStatus.DONE and referral.deadline < timezone.now(),
        "may_acknowledge": receiver and referral.status == ReferralStatus.SENT,
        "may_close": receiver and referral.status != ReferralStatus.DONE,
        "outcome_form": OutcomeForm(),
    }
    return render(request, "services/referrals/referral_detail.html", context)


def _step(request, pk: int, run):
    referral = selectors.referral_visible(user=request.user, pk=pk)
    try:
        text = run(referral)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, text)
    return redirect(referral.get_absolute_url())


@scoped_view(*rules.LIST_ROLES)
@require_POST
def referral_acknowledge(request, pk: int):
    def run(referral):
        actions.acknowledge(actor=request.user, referral=referral, request=request)
        return gettext("The referral is acknowledged.")

    return _step(request, pk, run)


@scoped_view(*rules.LIST_ROLES)
@require_POST
def referral_outcome(request, pk: int):
    form = OutcomeForm(request.POST)

    def run(referral):
        outcome = form.cleaned_data["outcome"] if form.is_valid() else ""
        actions.record_outcome(actor=request.user, referral=referral, outcome=outcome, request=request)
        return gettext("The outcome is recorded.")

    return _step(request, pk, run)
