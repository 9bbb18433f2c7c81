import django_tables2 as tables

from django.utils.translation import gettext_lazy as _

from .exports import SafeTableExport
from .models import Region


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
        from django.conf import settings
        from django.shortcuts import render

        from . import audit
        from .forms import ExportReasonForm
        from .models import AuditAction

        export_format = self.request.GET.get("format", "xlsx")
        if export_format not in self.export_formats:
            export_format = "xlsx"
        rows = len(context["table"].rows)
        changes = {"query": self.request.GET.urlencode()[:500], "rows": rows}
        threshold = settings.EXPORT_REASON_THRESHOLD
        if rows > threshold:
            # A bulk export of personal data (GB/T 35273 §7) says why; the reason is kept in the audit trail.
            form = ExportReasonForm(self.request.GET if "reason" in self.request.GET else None)
            if not form.is_valid():
                carried = [(k, v) for k, values in self.request.GET.lists() if k != "reason" for v in values]
                page = render(
                    self.request,
                    "portal/export_reason.html",
                    {"form": form, "rows": rows, "threshold": threshold, "carried": carried},
                )
                return page
            changes["reason"] = form.cleaned_data["reason"]
        label = self.export_label or self.export_object_type
        audit.record(
            AuditAction.EXPORT,
            request=self.request,
            object_type=self.export_object_type,
            object_repr=f"{label} ({export_format}, {rows})",
            changes=changes,
        )
        response = self.create_export(export_format)
        if export_format == "csv":
            response.content = "\ufeff".encode() + response.content
        return response
