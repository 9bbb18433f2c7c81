"""Views of visits and alerts. Thin: scoping through portal.scoping and the selectors, logic in
services.care.visits and services.care.alerts."""

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Window
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import audit
from portal.models import AuditAction, RoleKind
from portal.phone import mask_phone
from portal.scoping import ALL_ROLES, ScopedViewMixin, can_write, in_scope, scoped_view
from portal.tables import ReasonedExportMixin
from services.care import alerts as alert_ops
from services.care import report_status
from services.care import visits as visit_ops
from services.care.forms import (
    AlertRaiseForm,
    AlertReportForm,
    AlertStepForm,
    FollowUpDoneForm,
    ReportCodeForm,
    ReportLookupForm,
    VisitForm,
)
from services.care.models import AlertSource, AlertStatus, AlertStep, FollowUp
from services.care.tables import (
    AlertExportTable,
    AlertFilter,
    AlertTable,
    DueExportTable,
    DueFilter,
    DueTable,
    elder_url,
)
from services.ledger.selectors import elders_for
from services.pairing.selectors import pairings_for_giver

STAFF_ROLES = ALL_ROLES  # every role but a receiving department's
THANKS_SALT = "care.alert-report"
THANKS_MAX_AGE = 3600
# Who may see a public reporter's full phone number to call back: the people who act on the alert.
CALLBACK_ROLES = (RoleKind.VILLAGE_LIAISON, RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER)


def _apply_service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


# --- visits ----------------------------------------------------------------------------------------


@scoped_view(*STAFF_ROLES, write=True)
def visit_create(request, pk: int):
    elder = get_object_or_404(elders_for(request.user).select_related("village"), pk=pk)
    open_follow_ups = list(
        FollowUp.objects.filter(visit__elder=elder, done_at__isnull=True).select_related("owner").order_by("due_date")
    )
    if request.method == "POST":
        form = VisitForm(request.POST)
        if form.is_valid():
            try:
                visit = visit_ops.visit_record(
                    actor=request.user, elder=elder, request=request, **form.service_kwargs()
                )
            except ValidationError as exc:
                _apply_service_errors(form, exc)
            else:
                if not visit.contact_made:
                    messages.warning(request, _("Recorded: nobody was reached. This does not count as a visit."))
                else:
                    messages.success(request, _("Visit recorded."))
                if visit.alert_id:
                    messages.warning(
                        request,
                        format_html(
                            '{} <a href="{}">{}</a>',
                            _("A high risk was found: an alert was raised."),
                            reverse("services:alert-detail", args=[visit.alert_id]),
                            visit.alert.reference,
                        ),
                    )
                if visit.family_duty == "not_kept":
                    url = visit_ops.duty_reminder_url(elder)
                    text = _("The children are not keeping their duty: record a reminder to them (督促履行赡养义务).")
                    messages.warning(
                        request, format_html('{} <a href="{}">{}</a>', text, url, _("Record reminder")) if url else text
                    )
                return redirect(elder_url(elder.pk))
    else:
        form = VisitForm()
    return render(
        request,
        "services/care/visit_form.html",
        {"elder": elder, "form": form, "open_follow_ups": open_follow_ups},
    )


@scoped_view(*STAFF_ROLES)
def visit_detail(request, pk: int):
    visit = get_object_or_404(
        visit_ops.visits_for(request.user).select_related("elder__village", "visitor", "alert"), pk=pk
    )
    audit.record(AuditAction.VIEW, request=request, obj=visit)
    return render(
        request,
        "services/care/visit_detail.html",
        {
            "visit": visit,
            "follow_ups": visit.follow_ups.select_related("owner", "done_by"),
            "can_change": can_write(request.user),
            "done_form": FollowUpDoneForm(),
        },
    )


@require_POST
@scoped_view(*STAFF_ROLES, write=True)
def followup_done(request, pk: int):
    follow_up = get_object_or_404(visit_ops.follow_ups_for(request.user), pk=pk)
    form = FollowUpDoneForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        visit_ops.followup_complete(actor=request.user, follow_up=follow_up, note=note, request=request)
        messages.success(request, _("Follow-up marked as done."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("services:visit-detail", pk=follow_up.visit_id)


@method_decorator(transaction.non_atomic_requests, name="dispatch")  # read-only: no savepoints
class VisitsDueView(ScopedViewMixin, ReasonedExportMixin, ExportMixin, SingleTableMixin, FilterView):
    """Who must be seen this week, who is overdue and by how long, with open follow-ups."""

    export_object_type = "services.elder"
    export_label = "visits due"

    table_class = DueTable
    filterset_class = DueFilter
    template_name = "services/care/visits_due.html"
    export_formats = ("csv", "xlsx")
    export_name = "visits-due"
    paginator_class = visit_ops.WindowCountPaginator

    def get_queryset(self):
        self.now = timezone.now()
        return visit_ops.with_due_dates(
            elders_for(self.request.user).filter(status="active").select_related("village"), now=self.now
        )

    def get_table_data(self):
        return visit_ops.with_due_totals(super().get_table_data(), now=self.now)

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return DueExportTable
        return DueTable

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        table = context["table"]
        rows = list(table.page.object_list.data) if hasattr(table, "page") else []
        context["overdue_total"] = rows[0].overdue_total if rows else 0
        context["due_total"] = rows[0].due_total if rows else 0
        return context


# --- alerts ----------------------------------------------------------------------------------------


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class AlertListView(ScopedViewMixin, ReasonedExportMixin, ExportMixin, SingleTableMixin, FilterView):
    export_object_type = "services.alert"
    export_label = "alerts"
    table_class = AlertTable
    filterset_class = AlertFilter
    template_name = "services/care/alert_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "alerts"
    paginator_class = visit_ops.alerts_window_paginator("alert_total")

    def get_queryset(self):
        return alert_ops.alerts_for(self.request.user).select_related("village", "elder")

    def get_table_data(self):
        return super().get_table_data().annotate(alert_total=Window(Count("pk")))

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return AlertExportTable
        return AlertTable


STEP_LABELS = {
    AlertStatus.ACKNOWLEDGED: _("Acknowledge"),
    AlertStatus.ESCALATED: _("Escalate to the township"),
    AlertStatus.HANDLED: _("Mark as handled"),
    AlertStatus.CLOSED: _("Close"),
}


@scoped_view(*STAFF_ROLES)
def alert_detail(request, pk: int):
    alert = get_object_or_404(
        alert_ops.alerts_for(request.user)
        .select_related("village__parent", "elder", "reporter")
        .prefetch_related(Prefetch("steps", queryset=AlertStep.objects.select_related("actor"))),
        pk=pk,
    )
    audit.record(AuditAction.VIEW, request=request, obj=alert)
    steps = alert_ops.allowed_steps(request.user, alert)
    full_phone = request.user.is_superuser or in_scope(request.user, alert.village_id, roles=CALLBACK_ROLES)
    return render(
        request,
        "services/care/alert_detail.html",
        {
            "alert": alert,
            "steps": [(s, str(STEP_LABELS[s])) for s in steps],
            "step_form": AlertStepForm(),
            "reporter_phone": alert.reporter_phone if full_phone else mask_phone(alert.reporter_phone),
            "elder_url": elder_url(alert.elder_id) if alert.elder_id else None,
        },
    )


@require_POST
@scoped_view(*STAFF_ROLES, write=True)
def alert_step(request, pk: int):
    alert = get_object_or_404(alert_ops.alerts_for(request.user), pk=pk)
    form = AlertStepForm(request.POST)
    if not form.is_valid() or form.cleaned_data["to_status"] not in AlertStatus.values:
        messages.error(request, _("Choose a step."))
        return redirect("services:alert-detail", pk=alert.pk)
    try:
        alert_ops.alert_advance(
            actor=request.user,
            alert=alert,
            to_status=form.cleaned_data["to_status"],
            note=form.cleaned_data["note"],
            expected_status=form.cleaned_data["from_status"] or None,
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Saved: the alert is now “%(status)s”.") % {"status": alert.get_status_display()})
    return redirect("services:alert-detail", pk=alert.pk)


@scoped_view(*STAFF_ROLES, write=True)
def alert_raise(request, pk: int):
    """Staff raising an alert about an elder of the ledger."""
    elder = get_object_or_404(elders_for(request.user).select_related("village"), pk=pk)
    if request.method == "POST":
        form = AlertRaiseForm(request.POST)
        if form.is_valid():
            try:
                alert, created = alert_ops.alert_raise(
                    actor=request.user,
                    elder=elder,
                    village=elder.village,
                    source=AlertSource.LIAISON,
                    request=request,
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                _apply_service_errors(form, exc)
            else:
                if created:
                    messages.success(request, _("Alert %(ref)s raised.") % {"ref": alert.reference})
                else:
                    messages.info(request, _("This alert was already raised: %(ref)s.") % {"ref": alert.reference})
                return redirect("services:alert-detail", pk=alert.pk)
    else:
        form = AlertRaiseForm()
    return render(request, "services/care/alert_raise.html", {"elder": elder, "form": form})


# --- the public report form ------------------------------------------------------------------------


def _reporting_pairing(request):
    """A paired volunteer reporting about one of her elders (the button beside each elder): that pairing."""
    raw = request.POST.get("pairing") if request.method == "POST" else request.GET.get("pairing")
    if not raw or not str(raw).isdigit() or not request.user.is_authenticated:
        return None
    return pairings_for_giver(request.user).select_related("elder__village").filter(pk=int(raw)).first()


def alert_report(request):
    """Anyone can report an emergency: no sign-in; rate limited; replays give the first reference back.

    From a paired volunteer's list (`?pairing=`), the form names the elder and says she is a volunteer."""
    pairing = _reporting_pairing(request)
    if request.method == "POST":
        form = AlertReportForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            if not alert_ops.public_report_allowed(request, phone=d["reporter_phone"]):
                form.add_error(None, alert_ops.RATE_LIMITED)
            else:
                try:
                    alert, _created = alert_ops.alert_report_public(
                        request=request,
                        village=d["village"],
                        kind=d["kind"],
                        description=d["description"],
                        reporter_phone=d["reporter_phone"],
                        place=d["place"],
                        person_name=d["person_name"],
                        relation=AlertSource.VOLUNTEER if pairing else d["relation"],
                        elder=pairing.elder if pairing else None,
                    )
                except ValidationError as exc:
                    _apply_service_errors(form, exc)
                else:
                    token = signing.dumps(alert.reference, salt=THANKS_SALT)
                    return redirect(f"{reverse('services:alert-report-thanks')}?r={token}")
        status = 429 if form.non_field_errors() and alert_ops.RATE_LIMITED in form.non_field_errors() else 200
    else:
        initial = {}
        if pairing:
            initial = {
                "village": pairing.elder.village_id,
                "person_name": pairing.elder.name,
                "relation": AlertSource.VOLUNTEER,
                "reporter_phone": getattr(request.user, "phone", ""),
            }
        form = AlertReportForm(initial=initial)
        status = 200
    response = render(request, "services/care/alert_report.html", {"form": form, "pairing": pairing}, status=status)
    response["Cache-Control"] = "no-store"
    return response


def alert_report_thanks(request):
    """Only the reference number: the reporter sees nothing of the case after sending it."""
    try:
        reference = signing.loads(request.GET.get("r", ""), salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404 from exc
    response = render(request, "services/care/alert_report_thanks.html", {"reference": reference})
    response["Cache-Control"] = "no-store"
    return response


def alert_report_status(request):
    """Where is my report? Reference + phone → a code by SMS → the report's state (services.care.report_status)."""
    lookup_form = ReportLookupForm(initial={"reference": request.GET.get("ref", "")[:30]})
    code_form = None
    state = None
    status = 200
    if request.method == "POST" and request.POST.get("step") == "send":
        lookup_form = ReportLookupForm(request.POST)
        if lookup_form.is_valid():
            d = lookup_form.cleaned_data
            try:
                report_status.lookup_code_send(reference=d["reference"], phone=d["reporter_phone"], request=request)
            except ValidationError as exc:
                _apply_service_errors(lookup_form, exc)
            else:
                code_form = ReportCodeForm(initial={"reference": report_status.normalise_reference(d["reference"])})
    elif request.method == "POST" and request.POST.get("step") == "check":
        code_form = ReportCodeForm(request.POST)
        if code_form.is_valid():
            try:
                alert = report_status.lookup_code_check(
                    reference=code_form.cleaned_data["reference"], code=code_form.cleaned_data["code"], request=request
                )
            except ValidationError as exc:
                _apply_service_errors(code_form, exc)
            else:
                state = report_status.report_state(alert)
                code_form = None
        if code_form is not None and code_form.errors:
            status = 400
    response = render(
        request,
        "services/care/alert_report_status.html",
        {"lookup_form": lookup_form, "code_form": code_form, "state": state},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response
