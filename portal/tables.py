import django_tables2 as tables

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from . import audit, export_jobs
from .exports import SafeTableExport
from .forms import ExportReasonForm
from .models import AuditAction, Region


class VillageTable(tables.Table):
    """Villages of the user's area; on a phone one card per village (`.phone-cards`, labels from data-label)."""

    name = tables.Column(verbose_name=_("Village / community"), attrs={"td": {"class": "card-title"}})
    code = tables.Column(verbose_name=_("Division code"), attrs={"td": {"data-label": _("Division code")}})
    township = tables.Column(
        accessor="parent__name",
        verbose_name=_("Township"),
        order_by=("parent__code",),
        attrs={"td": {"data-label": _("Township")}},
    )
    county = tables.Column(
        accessor="parent__parent__name",
        verbose_name=_("County"),
        order_by=("parent__parent__code",),
        attrs={"td": {"data-label": _("County")}},
    )

    class Meta:
        model = Region
        fields = ("name", "code", "township", "county")
        attrs = {"class": "table"}
        template_name = "django_tables2/table.html"
        per_page = 50


class AuditedExportMixin:
    """The export twin of a list view: the same filtered rows as a file (xlsx by default, or csv),
    unpaginated, and an audit event saying who took which rows.

    Subclass the list view and this mixin, set `table_class` to the export table and `export_object_type`
    (e.g. "services.elder"). csv gets a byte-order mark so that Excel opens the Chinese text correctly.
    """

    table_pagination = False
    export_class = SafeTableExport
    export_object_type = ""
    export_label = ""  # what the rows are, in the audit event: "elders (xlsx, 120)"

    def get_table_kwargs(self):
        return {}

    def render_to_response(self, context, **kwargs):
        export_format = self.request.GET.get("format", "xlsx")
        if export_format not in self.export_formats:
            export_format = "xlsx"
        return audited_export(self, context, export_format)


class ReasonedExportMixin:
    """For a list view whose own `?_export=csv|xlsx` link (django-tables2's ExportMixin) gives personal data:
    the same audit event and, over the threshold, the same reason asked as AuditedExportMixin. Put it before
    ExportMixin and set `export_object_type`."""

    export_object_type = ""
    export_label = ""

    def render_to_response(self, context, **kwargs):
        export_format = self.request.GET.get(self.export_trigger_param)
        if export_format and export_format in self.export_formats:
            return audited_export(self, context, export_format)
        return super().render_to_response(context, **kwargs)


def audited_export(view, context, export_format: str):
    """The export of a list view's rows, audited; over EXPORT_REASON_THRESHOLD rows (GB/T 35273 §7) first a
    page asking why, the reason then kept in the audit trail; over EXPORT_QUEUE_THRESHOLD rows the file is
    made by a worker (portal.export_jobs) and the user waits on its page instead of a request timing out."""
    request = view.request
    if export_jobs.is_worker_request(request):
        return _export_file(view, export_format)  # asked for and audited in the request; made now
    rows = len(context["table"].rows)
    changes = {"query": request.GET.urlencode()[:500], "rows": rows}
    threshold = settings.EXPORT_REASON_THRESHOLD
    if rows > threshold:
        form = ExportReasonForm(request.GET if "reason" in request.GET else None)
        if not form.is_valid():
            carried = [(k, v) for k, values in request.GET.lists() if k != "reason" for v in values]
            return render(
                request,
                "portal/export_reason.html",
                {"form": form, "rows": rows, "threshold": threshold, "carried": carried},
            )
        changes["reason"] = form.cleaned_data["reason"]
    label = view.export_label or view.export_object_type
    if rows > settings.EXPORT_QUEUE_THRESHOLD:
        job = export_jobs.queue_export(request, label=str(label), export_format=export_format, rows=rows)
        changes["job"] = job.pk
    audit.record(
        AuditAction.EXPORT,
        request=request,
        object_type=view.export_object_type,
        object_repr=f"{label} ({export_format}, {rows})",
        changes=changes,
    )
    if rows > settings.EXPORT_QUEUE_THRESHOLD:
        return redirect("portal:export-job", pk=job.pk)
    return _export_file(view, export_format)


def _export_file(view, export_format: str):
    response = view.create_export(export_format)
    if export_format == "csv":
        response.content = "\ufeff".encode() + response.content
    return response
