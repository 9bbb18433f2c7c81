"""Ledger screens: thin views over services.ledger.actions and services.ledger.imports, all scoped and audited."""

import io

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import ListView, TemplateView

from portal import audit
from portal.filters import SealedSearchMixin
from portal.identity import mask_resident_id
from portal.models import AuditAction, Region, RoleKind
from portal.phone import mask_phone
from portal.scoping import ALL_ROLES, ScopedViewMixin, can_write
from portal.tables import AuditedExportMixin
from services.family import selectors as family_reads
from services.ledger import actions as ledger_actions
from services.ledger import eligibility, imports, retention, spreadsheet
from services.ledger import selectors as ledger_reads
from services.ledger.filters import ElderFilter
from services.ledger.forms import (
    AgreementForm,
    DutyReminderForm,
    ElderForm,
    EligibilityReviewForm,
    FamilyContactForm,
    ImportForm,
    StatusForm,
)
from services.ledger.models import (
    CareAgreement,
    Elder,
    ElderChange,
    FamilyContact,
    ImportJob,
    ImportStatus,
)
from services.ledger.selectors import LEDGER_FIELDS
from services.ledger.tables import ElderExportTable, ElderTable
from services.ledger.template import template_workbook

STAFF_ROLES = ALL_ROLES  # every role but a receiving department's
SAVED = _("Saved.")


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ElderScopedMixin(ScopedViewMixin):
    """Load the elder from the URL through elders_for(user): out of scope is 404."""

    allowed_roles = STAFF_ROLES

    def get_elder(self) -> Elder:
        if not hasattr(self, "_elder"):
            self._elder = get_object_or_404(
                ledger_reads.elders_for(self.request.user).select_related("village__parent"), pk=self.kwargs["pk"]
            )
        return self._elder

    def check_can_edit(self, elder: Elder) -> None:
        if not ledger_reads.can_edit(self.request.user, elder.village_id):
            raise PermissionDenied(ledger_reads.READ_ONLY)


# --- list and export -------------------------------------------------------------------------------


class ElderListView(SealedSearchMixin, ScopedViewMixin, ExportMixin, SingleTableMixin, FilterView):
    """The ledger of the user's area: sort, filter, paginate; masked IDs and phones."""

    allowed_roles = STAFF_ROLES
    model = Elder
    table_class = ElderTable
    filterset_class = ElderFilter
    template_name = "services/ledger/elder_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "elders"
    export_trigger_param = "_format"  # exports go through services:elder-export

    def get_queryset(self):
        return ledger_reads.elders_for(self.request.user).with_priority().select_related("village")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("sort", None)
        context["export_query"] = query.urlencode()
        context["can_write"] = can_write(self.request.user)
        return context


class ElderExportView(AuditedExportMixin, ElderListView):
    """xlsx (default) or csv of the filtered ledger: plain values, ID numbers and phones masked; audited."""

    table_class = ElderExportTable
    export_label = "elders"
    export_object_type = "services.elder"


# --- detail ----------------------------------------------------------------------------------------


class ElderDetailView(ElderScopedMixin, TemplateView):
    template_name = "services/ledger/elder_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        elder = self.get_elder()
        elder = (
            ledger_reads.elders_for(user)
            .with_priority()
            .select_related("village__parent", "created_by")
            .prefetch_related(
                Prefetch("family_contacts", queryset=FamilyContact.objects.order_by("-is_primary", "pk")),
                Prefetch("agreements", queryset=CareAgreement.objects.select_related("supporter")),
                "duty_reminders__contact",
                Prefetch("changes", queryset=ElderChange.objects.select_related("actor")),
            )
            .get(pk=elder.pk)
        )
        full = ledger_reads.can_see_full_identity(user, elder)
        audit.record(AuditAction.VIEW, request=self.request, obj=elder, changes={"full_identity": full} if full else {})
        contacts = [
            {"contact": c, "phone": c.phone if full else mask_phone(c.phone)} for c in elder.family_contacts.all()
        ]
        context.update(
            elder=elder,
            full_identity=full,
            id_number=elder.id_number if full else mask_resident_id(elder.id_number),
            phone=elder.phone if full else mask_phone(elder.phone),
            contacts=contacts,
            agreements=elder.agreements.all(),
            reminders=elder.duty_reminders.all(),
            history=_history(elder.changes.all()),
            can_edit=ledger_reads.can_edit(user, elder.village_id),
        )
        return context


def _history(changes) -> list[dict]:
    """History entries with field labels and choice labels, values already masked."""
    labels = {f: str(Elder._meta.get_field(f).verbose_name) for f in LEDGER_FIELDS}
    labels["status"] = str(Elder._meta.get_field("status").verbose_name)
    choices = {f: dict(Elder._meta.get_field(f).choices or ()) for f in [*LEDGER_FIELDS, "status"]}
    out = []
    changes = list(changes)
    codes = {v for e in changes for f, pair in e.changes.items() if f == "village" for v in pair if v}
    village_names = dict(Region.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}
    for entry in changes:
        rows = []
        for field, pair in entry.changes.items():
            if not isinstance(pair, list) or len(pair) != 2:
                continue
            before, after = pair
            if field.startswith("contact:"):
                label = gettext("Family contact %(name)s") % {"name": field.split(":", 1)[1]}
                before = _contact_text(before)
                after = _contact_text(after)
            elif field == "agreement":
                label = gettext("Care agreement")
                after = _contact_text(after)
            else:
                label = labels.get(field, field)
                mapping = village_names if field == "village" else (choices.get(field) or {})
                before, after = mapping.get(before, before), mapping.get(after, after)
            rows.append({"label": label, "before": _fmt(before), "after": _fmt(after)})
        out.append({"entry": entry, "rows": rows})
    return out


def _contact_text(value):
    if isinstance(value, dict):
        return "；".join(str(v) for v in value.values() if v not in (None, "", False))
    return value


def _fmt(value) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return gettext("Yes")
    if value is False:
        return gettext("No")
    return str(value)


# --- create, edit, status --------------------------------------------------------------------------


# error reports (ADMINS mail, Sentry) must not carry ID numbers or phones in clear
_SENSITIVE = method_decorator(sensitive_post_parameters("id_number", "phone"), name="dispatch")


@_SENSITIVE
class ElderCreateView(ElderScopedMixin, View):
    write_view = True
    allowed_roles = ledger_reads.WRITE_ROLES
    template_name = "services/ledger/elder_form.html"

    def get(self, request):
        return render(request, self.template_name, {"form": ElderForm(user=request.user), "creating": True})

    def post(self, request):
        form = ElderForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                elder = ledger_actions.elder_create(actor=request.user, data=form.ledger_data(), request=request)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, SAVED)
                return redirect("services:elder-detail", pk=elder.pk)
        return render(request, self.template_name, {"form": form, "creating": True}, status=400)


@_SENSITIVE
class ElderEditView(ElderScopedMixin, View):
    """Edit with optimistic locking: a stale version is refused and the form keeps the user's input."""

    write_view = True
    allowed_roles = ledger_reads.WRITE_ROLES
    template_name = "services/ledger/elder_form.html"

    def _form(self, elder, data=None):
        show_id = ledger_reads.can_see_full_identity(self.request.user, elder)
        return ElderForm(data, instance=elder, user=self.request.user, show_id=show_id)

    def get(self, request, pk):
        elder = self.get_elder()
        self.check_can_edit(elder)
        return render(request, self.template_name, {"form": self._form(elder), "elder": elder})

    def post(self, request, pk):
        elder = self.get_elder()
        self.check_can_edit(elder)
        form = self._form(elder, request.POST)
        conflicts = []
        if form.is_valid():
            try:
                elder = ledger_actions.elder_update(
                    actor=request.user,
                    elder=elder,
                    data=form.ledger_data(),
                    expected_version=form.cleaned_data.get("version") or 0,
                    request=request,
                )
            except ledger_actions.StaleEdit as exc:
                current = Elder.objects.get(pk=elder.pk)
                conflicts = _conflicts(form, current, request.user)
                data = request.POST.copy()
                data["version"] = current.version  # saving again now overrides knowingly
                form = self._form(current, data)
                form.is_valid()
                form.add_error(None, exc)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, SAVED)
                return redirect("services:elder-detail", pk=elder.pk)
        return render(
            request,
            self.template_name,
            {"form": form, "elder": elder, "conflicts": conflicts},
            status=409 if conflicts else 400,
        )


def _conflicts(form, current: Elder, user) -> list[dict]:
    """Fields whose saved value now differs from what this user submitted (values masked as on screen)."""
    full = ledger_reads.can_see_full_identity(user, current)
    out = []
    for field in LEDGER_FIELDS:
        if field not in form.cleaned_data:
            continue
        mine = form.cleaned_data[field]
        theirs = current.village if field == "village" else getattr(current, field)
        if (mine.pk if hasattr(mine, "pk") else mine) != (theirs.pk if hasattr(theirs, "pk") else theirs):
            model_field = Elder._meta.get_field(field)
            shown = theirs
            if model_field.choices:
                shown = dict(model_field.choices).get(theirs, theirs)
            if not full:
                shown = ledger_reads.mask_value(field, shown)
            out.append({"label": model_field.verbose_name, "theirs": _fmt(shown)})
    return out


class ElderStatusView(ElderScopedMixin, View):
    write_view = True
    allowed_roles = ledger_reads.WRITE_ROLES
    template_name = "services/ledger/elder_status.html"

    def get(self, request, pk):
        elder = self.get_elder()
        self.check_can_edit(elder)
        return render(request, self.template_name, {"form": StatusForm(elder=elder), "elder": elder})

    def post(self, request, pk):
        elder = self.get_elder()
        self.check_can_edit(elder)
        form = StatusForm(request.POST, elder=elder)
        if form.is_valid():
            try:
                ledger_actions.elder_change_status(
                    actor=request.user,
                    elder=elder,
                    status=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                    request=request,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, SAVED)
                return redirect("services:elder-detail", pk=elder.pk)
        return render(request, self.template_name, {"form": form, "elder": elder}, status=400)


# --- family, agreements, duty ----------------------------------------------------------------------


class ElderChildFormView(ElderScopedMixin, View):
    """A form about one elder (contact, agreement, reminder) saved by a ledger function.

    Each subclass names its `form_class` and defines `save(form, elder)`, which calls that function.
    """

    write_view = True
    allowed_roles = ledger_reads.WRITE_ROLES
    template_name = "services/ledger/child_form.html"
    form_class = None
    title = ""

    def form_kwargs(self, elder):
        return {"elder": elder}

    def get_object(self, elder):
        return None

    def _render(self, form, elder, status=200):
        return render(
            self.request, self.template_name, {"form": form, "elder": elder, "title": self.title}, status=status
        )

    def get(self, request, pk, **kwargs):
        elder = self.get_elder()
        self.check_can_edit(elder)
        return self._render(self.form_class(**self.form_kwargs(elder)), elder)

    def post(self, request, pk, **kwargs):
        elder = self.get_elder()
        self.check_can_edit(elder)
        form = self.form_class(request.POST, request.FILES, **self.form_kwargs(elder))
        if form.is_valid():
            try:
                self.save(form, elder)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, SAVED)
                return redirect("services:elder-detail", pk=elder.pk)
        return self._render(form, elder, status=400)


class ContactFormView(ElderChildFormView):
    form_class = FamilyContactForm
    title = _("Family contact")

    def get_object(self, elder):
        if "contact_pk" in self.kwargs:
            return get_object_or_404(FamilyContact, pk=self.kwargs["contact_pk"], elder=elder)
        return None

    def form_kwargs(self, elder):
        return {"instance": self.get_object(elder)}

    def save(self, form, elder):
        data = {f: form.cleaned_data[f] for f in form.Meta.fields}
        ledger_actions.family_contact_save(
            actor=self.request.user, elder=elder, contact=self.get_object(elder), data=data, request=self.request
        )


class ContactDeleteView(ElderScopedMixin, View):
    write_view = True
    allowed_roles = ledger_reads.WRITE_ROLES

    def post(self, request, pk, contact_pk):
        elder = self.get_elder()
        self.check_can_edit(elder)
        contact = get_object_or_404(FamilyContact, pk=contact_pk, elder=elder)
        ledger_actions.family_contact_delete(actor=request.user, contact=contact, request=request)
        messages.success(request, SAVED)
        return redirect("services:elder-detail", pk=elder.pk)


class AgreementFormView(ElderChildFormView):
    form_class = AgreementForm
    title = _("Care agreement")

    def save(self, form, elder):
        data = {f: form.cleaned_data.get(f) for f in form.Meta.fields}
        if not data.get("scan"):
            data.pop("scan", None)
        ledger_actions.agreement_create(actor=self.request.user, elder=elder, data=data, request=self.request)


class AgreementScanView(ElderScopedMixin, View):
    """The scanned agreement, only to those who may see the elder; audited."""

    def get(self, request, pk, agreement_pk):
        elder = self.get_elder()
        agreement = get_object_or_404(CareAgreement, pk=agreement_pk, elder=elder)
        if not agreement.scan:
            raise Http404
        audit.record(AuditAction.VIEW, request=request, obj=agreement, changes={"scan": True})
        name = agreement.scan.name.rsplit("/", 1)[-1]
        return FileResponse(agreement.scan.open("rb"), as_attachment=False, filename=name)


class ReminderFormView(ElderChildFormView):
    form_class = DutyReminderForm
    title = _("Reminder of the duty of support")

    def save(self, form, elder):
        data = {f: form.cleaned_data.get(f) for f in form.Meta.fields}
        ledger_actions.duty_reminder_create(actor=self.request.user, elder=elder, data=data, request=self.request)


class DutyRepeatListView(ScopedViewMixin, TemplateView):
    """Supporters reminded again and again: the township's list for supervising them."""

    allowed_roles = STAFF_ROLES
    template_name = "services/ledger/duty_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        threshold, months = ledger_reads.duty_repeat_settings()
        context.update(
            elders=ledger_reads.repeated_duty_findings(self.request.user)[:200], threshold=threshold, months=months
        )
        # the family's own reports of contact (services.family): who has not been in touch for 30 days
        overview = family_reads.family_contact_overview(self.request.user)
        context.update(
            family_silent=overview.filter(family_reports=0)[:200],
            family_days=family_reads.NO_CONTACT_DAYS,
        )
        return context


# --- eligibility review ------------------------------------------------------------------------------

REVIEW_LIMIT = 200
REVIEWED = _("Reviewed: %(name)s is still a left-behind elder.")


class EligibilityReviewView(ScopedViewMixin, TemplateView):
    """The yearly review: elders in scope whose eligibility should be checked again, each with a "reviewed"
    form (why left behind, confirmed) for those who may edit the ledger."""

    allowed_roles = STAFF_ROLES
    template_name = "services/ledger/eligibility_review.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        queryset = eligibility.review_queryset(ledger_reads.elders_for(user)).select_related("village__parent")
        elders = list(queryset.order_by("village_id", "name", "pk")[: REVIEW_LIMIT + 1])
        writable = (
            set(ledger_reads.writable_villages(user).values_list("code", flat=True)) if can_write(user) else set()
        )
        context.update(
            rows=[
                {
                    "elder": e,
                    "reasons": eligibility.review_reasons(e),
                    "form": EligibilityReviewForm(elder=e, prefix=f"e{e.pk}") if e.village_id in writable else None,
                }
                for e in elders[:REVIEW_LIMIT]
            ],
            more=len(elders) > REVIEW_LIMIT,
            limit=REVIEW_LIMIT,
        )
        return context


class EligibilityReviewedView(ElderScopedMixin, View):
    """POST: mark one elder reviewed (recording why they are left behind); refused with the policy's reason."""

    write_view = True
    allowed_roles = ledger_reads.WRITE_ROLES

    def post(self, request, pk):
        elder = self.get_elder()
        self.check_can_edit(elder)
        form = EligibilityReviewForm(request.POST, elder=elder, prefix=f"e{elder.pk}")
        if form.is_valid():
            try:
                ledger_actions.eligibility_reviewed(
                    actor=request.user, elder=elder, basis=form.cleaned_data["basis"], request=request
                )
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(request, REVIEWED % {"name": elder.name})
        else:
            for errors in form.errors.values():
                for message in errors:
                    messages.error(request, message)
        return redirect("services:eligibility-review")


# --- import ----------------------------------------------------------------------------------------


class ImportTemplateView(ScopedViewMixin, View):
    """The import template (.xlsx): instructions, the header row, drop-downs, the ID column as text."""

    allowed_roles = ledger_reads.WRITE_ROLES

    def get(self, request):
        response = FileResponse(
            io.BytesIO(template_workbook()),
            as_attachment=True,
            filename="留守老年人台账导入模板.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        return response


class ElderImportView(ScopedViewMixin, View):
    write_view = True
    allowed_roles = ledger_reads.WRITE_ROLES
    template_name = "services/ledger/import_upload.html"

    def get(self, request):
        recent = ImportJob.objects.filter(created_by=request.user).order_by("-created_at")[:5]
        return render(request, self.template_name, {"form": ImportForm(user=request.user), "recent": recent})

    def post(self, request):
        form = ImportForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = imports.import_start(
                    actor=request.user,
                    content=upload.read(),
                    filename=upload.name,
                    default_village=form.cleaned_data.get("village"),
                )
            except spreadsheet.ImportFileError as exc:
                form.add_error("file", exc)
            else:
                if job.total > spreadsheet.inline_rows():
                    imports.run_in_background(job.pk, "validate")
                else:
                    imports.import_validate(job=job)
                return redirect("services:elder-import-job", pk=job.pk)
        return render(request, self.template_name, {"form": form, "recent": []}, status=400)


class ImportJobView(ScopedViewMixin, View):
    """Progress (refreshing itself while a step runs), row errors, preview, or the result."""

    allowed_roles = ledger_reads.WRITE_ROLES
    template_name = "services/ledger/import_job.html"

    def get_job(self, request, pk) -> ImportJob:
        return get_object_or_404(ImportJob.objects.select_related("region"), pk=pk, created_by=request.user)

    def get(self, request, pk):
        job = self.get_job(request, pk)
        done = imports.job_progress(job)
        context = {
            "job": job,
            "done": done,
            "percent": int(100 * done / job.total) if job.total else 0,
            "running": job.status in (ImportStatus.VALIDATING, ImportStatus.RUNNING),
            "preview": imports.preview_rows(job) if job.status == ImportStatus.READY else [],
            "ignored": imports.ignored_columns(job) if job.status == ImportStatus.READY else [],
            "errors": job.errors[:300],
        }
        return render(request, self.template_name, context)


class ImportConfirmView(ImportJobView):
    write_view = True

    def post(self, request, pk):
        job = self.get_job(request, pk)
        if job.total > spreadsheet.inline_rows():
            if imports.import_claim(job):
                imports.run_in_background(job.pk, "apply")
            else:  # replayed or double submission: nothing happens twice
                messages.warning(request, imports.NOT_READY)
        else:
            try:
                imports.import_apply(job=job, actor=request.user, request=request)
            except ValidationError:
                messages.warning(request, imports.NOT_READY)
            except Exception:  # noqa: BLE001,S110 — the job records the failure and the page shows it
                pass
        return HttpResponseRedirect(reverse("services:elder-import-job", args=[job.pk]))


class RetentionPreviewView(ScopedViewMixin, ListView):
    """For the region administrator: the elders whose personal data the daily task erases within a month
    (they left the ledger more than the retention period ago). Masked; audited."""

    allowed_roles = (RoleKind.REGION_ADMIN, RoleKind.COUNTY_OFFICER)
    template_name = "services/ledger/retention_preview.html"
    context_object_name = "elders"
    paginate_by = 50

    def get_queryset(self):
        return retention.elders_due_next_month(self.request.user).order_by("status_changed_at", "pk")

    def get(self, request, *args, **kwargs):
        audit.record(AuditAction.VIEW, request=request, object_type="services.elder", object_repr="retention preview")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["retention_days"] = retention.retention_days()
        context["years"] = round(retention.retention_days() / 365, 1)
        return context
