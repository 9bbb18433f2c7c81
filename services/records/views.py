"""Service-hours pages: log service, confirm it, see hours, download and verify certificates. Thin views over
services.records.actions and services.records.certificates."""

from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import audit
from portal.models import AuditAction, Region
from portal.scoping import is_staff_user
from portal.tables import ReasonedExportMixin
from services.records import actions as record_actions
from services.records import certificates as certs
from services.records import family_confirm
from services.records import rules as record_rules
from services.records import selectors as record_reads
from services.records.forms import (
    CertificateForm,
    GroupRecordForm,
    ReasonForm,
    RecordFilter,
    RecordForm,
    admin_organisations,
    can_proxy,
    prefill_from_activity,
    signups_to_log,
)
from services.records.models import Certificate, RecordStatus, ServiceRecord, hours_display
from services.records.tables import LIST_RELATED, MyRecordTable, RecordExportTable, RecordTable
from volunteers.models import Activity
from volunteers.views import _form_error, _message_error, _no_store

# --- logging ---------------------------------------------------------------------------------------


@login_required
def record_create(request):
    """A giver logs their own service; `?activity=<pk>` fills it in from an activity they signed up for."""
    initial = {}
    activity_pk = request.GET.get("activity", "")
    if activity_pk.isdigit():
        activity = (
            Activity.objects.filter(pk=activity_pk, signups__user=request.user, signups__status="signed_up")
            .select_related("village")
            .first()
        )
        if activity is not None:
            initial = prefill_from_activity(activity)
    form = RecordForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            record_actions.record_create(actor=request.user, giver=request.user, request=request, **form.record_data())
        except ValidationError as exc:
            _form_error(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your service is recorded and waits for confirmation."))
            return redirect("volunteers:my-hours")
    return _no_store(render(request, "services/records/record_form.html", {"form": form, "proxy": False}))


@login_required
def record_create_group(request):
    """Proxy and group entry by an organisation admin or a village liaison."""
    if not can_proxy(request.user):
        raise PermissionDenied(record_rules.NOT_PROXY)
    form = GroupRecordForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():  # a helper added by phone is not kept if the entry fails
                records = _create_group(request, form, data)
        except ValidationError as exc:
            _form_error(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(count)s service records are entered.") % {"count": len(records)})
            return redirect(f"{reverse('volunteers:record-list')}?status=submitted")
    return _no_store(render(request, "services/records/record_form.html", {"form": form, "proxy": True}))


def _create_group(request, form, data):
    givers = [m.user for m in data["givers"]]
    if data.get("helper_phone"):
        givers.append(
            record_actions.giver_by_phone(
                actor=request.user, phone=data["helper_phone"], name=data.get("helper_name", ""), request=request
            )
        )
    activity = data.get("activity")
    if (data.get("past_title") or "").strip():
        service = form.service_data()
        activity = record_actions.activity_enter_past(
            actor=request.user,
            organisation=data.get("organisation"),
            title=data["past_title"],
            givers=givers,
            service_item=service["service_item"],
            start=service["start"],
            end=service["end"],
            place=service["place"],
            reason=data.get("late_reason", ""),
            request=request,
        )
    return record_actions.record_create_group(
        actor=request.user,
        givers=givers,
        elders=list(data["elders"]),
        activity=activity,
        organisation=data.get("organisation"),
        request=request,
        **form.service_data(),
    )


@login_required
def record_edit(request, pk: int):
    record = record_reads.record_visible(user=request.user, pk=pk)
    if request.user.pk not in (record.giver_id, record.recorded_by_id):
        raise Http404
    fields = ("service_item", "day", "start_time", "end_time", "place", "content", "kind")
    form = RecordForm(request.POST or None, user=record.giver, initial=_initial(record))
    for name in list(form.fields):
        if name not in fields:
            del form.fields[name]
    if record.status != RecordStatus.SUBMITTED:
        messages.error(request, record_rules.LOCKED)
        return redirect("volunteers:record-detail", pk=pk)
    if request.method == "POST" and form.is_valid():
        try:
            record_actions.record_update(actor=request.user, record=record, request=request, **form.service_data())
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The record is changed."))
            return redirect("volunteers:record-detail", pk=pk)
    return _no_store(
        render(request, "services/records/record_form.html", {"form": form, "proxy": False, "record": record})
    )


def _initial(record: ServiceRecord) -> dict:
    from django.utils import timezone

    start, end = timezone.localtime(record.start), timezone.localtime(record.end)
    return {
        "service_item": record.service_item_id,
        "day": start.date(),
        "start_time": start.time(),
        "end_time": end.time(),
        "place": record.place,
        "content": record.content,
        "kind": record.kind,
    }


# --- lists and decisions ---------------------------------------------------------------------------


@method_decorator(login_required, name="dispatch")
class RecordListView(ReasonedExportMixin, ExportMixin, SingleTableMixin, FilterView):
    """Records the user may see (own, organisations they run, villages in scope); bulk confirm; export."""

    export_object_type = "services.servicerecord"
    export_label = "service records"

    model = ServiceRecord
    table_class = RecordTable
    filterset_class = RecordFilter
    template_name = "services/records/record_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "service-records"

    def dispatch(self, request, *args, **kwargs):
        return _no_store(super().dispatch(request, *args, **kwargs))

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        kwargs["user"] = self.request.user
        return kwargs

    def get_queryset(self):
        user = self.request.user
        # "only those I can confirm" starts from the confirmable set (a subset of the visible one): one indexed filter
        base = (
            record_reads.records_confirmable_by(user)
            if self.request.GET.get("to_confirm")
            else record_reads.records_for(user)
        )
        return base.select_related(*LIST_RELATED)

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return RecordExportTable
        return super().get_table_class()

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        if isinstance(table, RecordTable):
            page_ids = [row.record.pk for row in table.page.object_list] if hasattr(table, "page") else []
            table.confirmable = set(
                record_reads.records_confirmable_by(self.request.user)
                .filter(pk__in=page_ids)
                .values_list("pk", flat=True)
            )
        return table

    def get(self, request, *args, **kwargs):
        if not request.GET.get(self.export_trigger_param):
            audit.record(
                AuditAction.VIEW,
                request=request,
                object_type="services.servicerecord",
                object_repr="service records",
                changes={"page": "list"},
            )
        return super().get(request, *args, **kwargs)


@login_required
def record_detail(request, pk: int):
    record = record_reads.record_visible(user=request.user, pk=pk)
    audit.record(AuditAction.VIEW, request=request, obj=record)
    context = {
        "record": record,
        "may_confirm": record.status == RecordStatus.SUBMITTED and record_reads.may_confirm(request.user, record),
        "may_reverse": record.is_locked
        and not record.is_reversal
        and not hasattr_reversal(record)
        and record_reads.may_reverse(request.user, record),
        "may_edit": record.status == RecordStatus.SUBMITTED
        and request.user.pk in (record.giver_id, record.recorded_by_id),
        "reason_form": ReasonForm(),
        "family": family_confirm.panel(request.user, record),
    }
    return _no_store(render(request, "services/records/record_detail.html", context))


def hasattr_reversal(record) -> bool:
    return ServiceRecord.objects.filter(reverses=record).exists()


def _decision(request, pk: int, action):
    record = record_reads.record_visible(user=request.user, pk=pk)
    try:
        action(record)
    except ValidationError as exc:
        _message_error(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("You may not do this."))
        return redirect("volunteers:record-detail", pk=pk)
    return redirect("volunteers:record-detail", pk=pk)


@login_required
@require_POST
def record_confirm(request, pk: int):
    def act(record):
        record_actions.record_confirm(actor=request.user, record=record, request=request)
        messages.success(request, _("The record is confirmed."))

    return _decision(request, pk, act)


@login_required
@require_POST
def record_reject(request, pk: int):
    form = ReasonForm(request.POST)

    def act(record):
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        record_actions.record_reject(actor=request.user, record=record, reason=reason, request=request)
        messages.success(request, _("The record is rejected; the giver sees the reason."))

    return _decision(request, pk, act)


@login_required
@require_POST
def record_reverse(request, pk: int):
    form = ReasonForm(request.POST)

    def act(record):
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        record_actions.record_reverse(actor=request.user, record=record, reason=reason, request=request)
        messages.success(request, _("A reversing entry is recorded; both stay visible."))

    return _decision(request, pk, act)


@login_required
@require_POST
def record_confirm_bulk(request):
    ids = [int(v) for v in request.POST.getlist("records") if v.isdigit()][:500]
    if not ids:
        messages.error(request, _("Tick the records to confirm first."))
    else:
        confirmed, problems = record_actions.records_confirm_bulk(actor=request.user, ids=ids, request=request)
        if confirmed:
            messages.success(request, _("Confirmed now: %(count)s.") % {"count": len(confirmed)})
        for problem in problems:
            messages.error(request, problem)
    back = request.POST.get("next", "")
    if not back.startswith("/") or back.startswith("//"):
        back = reverse("volunteers:record-list")
    return redirect(back)


# --- my hours and certificates ---------------------------------------------------------------------


@login_required
def my_hours(request):
    user = request.user
    totals = record_reads.giver_totals(user=user)
    for key in ("volunteer", "purchased", "pending"):
        totals[f"{key}_hours"] = hours_display(totals[f"{key}_minutes"])
    for row in (*totals["by_month"], *totals["by_category"]):
        row["hours"] = hours_display(row["minutes"])
    by_year = [
        (year, hours_display(k.get("volunteer", 0)), hours_display(k.get("purchased", 0)))
        for year, k in totals["by_year"]
    ]
    records = ServiceRecord.objects.filter(giver=user).select_related(*LIST_RELATED)
    table = MyRecordTable(records)
    RequestConfig(request, paginate={"per_page": 20}).configure(table)
    context = {
        "totals": totals,
        "by_year": by_year,
        "table": table,
        "to_log": signups_to_log(user),
        "certificates": Certificate.objects.filter(giver=user)[:10],
        "certificate_form": CertificateForm(),
        "can_proxy": can_proxy(user),
        "star_range": range(5),
        "thresholds": record_rules.star_thresholds(),
    }
    return _no_store(render(request, "services/records/my_hours.html", context))


@login_required
@require_POST
def certificate_issue(request):
    form = CertificateForm(request.POST)
    if form.is_valid():
        try:
            certificate = certs.certificate_issue(
                user=request.user,
                start=form.cleaned_data["period_start"],
                end=form.cleaned_data["period_end"],
                request=request,
            )
        except ValidationError as exc:
            _message_error(request, exc)
        else:
            messages.success(request, _("Your certificate is ready."))
            return redirect("volunteers:certificate", pk=certificate.pk)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("volunteers:my-hours")


@login_required
def certificate(request, pk: int):
    certificate = Certificate.objects.filter(pk=pk, giver=request.user).first()
    if certificate is None:
        raise Http404
    verify_url = request.build_absolute_uri(reverse("volunteers:certificate-verify", args=[certificate.code]))
    pdf = certs.certificate_pdf(certificate, verify_url=verify_url)
    audit.record(AuditAction.EXPORT, request=request, obj=certificate, changes={"pdf": True})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{certificate.serial}.pdf"'
    return _no_store(response)


def certificate_verify(request, code: str):
    """Public: anyone holding the certificate can check it; a wrong or altered code finds nothing."""
    certificate = certs.certificate_verify(code)
    status = 200 if certificate else 404
    response = render(
        request,
        "services/records/certificate_verify.html",
        {"certificate": certificate, "not_found": certs.NOT_FOUND},
        status=status,
    )
    response["X-Robots-Tag"] = "noindex"
    return _no_store(response)


@login_required
def record_totals(request):
    """Hours per county and month (officers, in their scope) and per organisation (its admins); aggregates only."""
    from django.utils import timezone

    year_text = request.GET.get("year", "")
    year = int(year_text) if year_text.isdigit() and 2000 <= int(year_text) <= 2100 else timezone.localdate().year
    county_rows = []
    if is_staff_user(request.user):
        county_rows = list(record_reads.county_monthly_totals(user=request.user, year=year))
        names = dict(
            Region.objects.filter(code__in={f"{r['county']}000000" for r in county_rows}).values_list("code", "name")
        )
        for row in county_rows:
            row["county_name"] = names.get(f"{row['county']}000000", row["county"])
            row["hours"] = hours_display(row["minutes"])
    organisations = []
    for organisation in admin_organisations(request.user)[:20]:
        rows = record_reads.organisation_totals(organisation=organisation)
        for row in rows:
            row["hours"] = hours_display(row["minutes"])
        organisations.append((organisation, rows))
    context = {"year": year, "county_rows": county_rows, "organisations": organisations}
    return _no_store(render(request, "services/records/record_totals.html", context))
