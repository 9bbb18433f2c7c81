"""The staff member's workbench (/portal/workbench/): every village in their scope, and the care counts of
their area (visits due, open alerts). It reads the care topic, so it lives here; its URL stays portal:workbench."""

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from portal import audit
from portal.filters import VillageFilter
from portal.models import AuditAction, Region, RegionLevel
from portal.scoping import ScopedViewMixin, staff_roles
from portal.tables import VillageTable
from services.care.summary import care_counts


class WorkbenchView(ScopedViewMixin, ExportMixin, SingleTableMixin, FilterView):
    """The staff member's area: every village in their scope, to find one and see where it sits."""

    model = Region
    table_class = VillageTable
    filterset_class = VillageFilter
    template_name = "portal/workbench.html"
    scope_field = "self"
    export_formats = ("csv", "xlsx")
    export_name = "villages"

    def get_queryset(self):
        return self.scope(Region.objects.filter(level=RegionLevel.VILLAGE).select_related("parent__parent"))

    def create_export(self, export_format):
        audit.record(
            AuditAction.EXPORT,
            request=self.request,
            object_type="portal.region",
            object_repr=f"villages ({export_format})",
            changes={"query": self.request.GET.urlencode()},
        )
        return super().create_export(export_format)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["roles"] = staff_roles(self.request.user)
        context["care"] = care_counts(self.request.user)
        return context
