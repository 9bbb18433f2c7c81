"""The giver's own page (我的) and the staff's list of givers: volunteers' pages that also show service hours and
pairings, so they live above both apps. Their URL names stay in the "volunteers" namespace."""

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from portal import audit
from portal.filters import SealedSearchMixin
from portal.models import AuditAction
from portal.phone import mask_phone
from portal.scoping import ScopedViewMixin, scoped_view, staff_roles
from portal.scoping import no_store as _no_store
from portal.tables import ReasonedExportMixin
from services.givers.selectors import giver_pairings_for_staff, giver_service_hours, profiles_for_staff
from services.pairing.offers import offers_for
from services.pairing.views import giver_elders
from services.records.models import hours_display
from services.records.selectors import giver_totals
from volunteers import profiles
from volunteers.filters import VolunteerStaffFilter
from volunteers.models import VolunteerProfile
from volunteers.tables import VolunteerStaffExportTable, VolunteerStaffTable


@login_required
def me(request):
    """The giver's own page: the portal's "my page" plus profile, organisations, activities and hours."""
    user = request.user
    profile = VolunteerProfile.objects.filter(user=user).select_related("village__parent").first()
    attended_minutes = profiles.giver_attended_minutes(user=user)
    context = {
        "roles": staff_roles(user),
        "masked_phone": mask_phone(user.phone),
        "profile": profile,
        "memberships": profiles.giver_organisations(user=user),
        "signups": profiles.giver_signups(user=user)[:20],
        "service_hours": giver_service_hours(user=user),
        "attended_minutes": attended_minutes,
        # 我的 shows hours only, like every other total of service
        "attended_hours": hours_display(attended_minutes),
        "now": timezone.now(),
        "giver_pairings": giver_elders(user, request=request),
        "pairing_offers": list(offers_for(user)),
    }
    return _no_store(render(request, "services/givers/me.html", context))


# --- the staff's list of givers -------------------------------------------------------------------


class VolunteerStaffListView(
    SealedSearchMixin, ScopedViewMixin, ReasonedExportMixin, ExportMixin, SingleTableMixin, FilterView
):
    """Giver profiles in the staff member's area (by home village): filter, sort, export; audited, no-store."""

    export_object_type = "volunteers.volunteerprofile"
    export_label = "volunteers"

    allowed_roles = profiles.STAFF_LIST_ROLES
    model = VolunteerProfile
    table_class = VolunteerStaffTable
    filterset_class = VolunteerStaffFilter
    template_name = "services/givers/volunteer_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "volunteers"

    def get_queryset(self):
        return profiles_for_staff(self.request.user).prefetch_related("skills")

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return VolunteerStaffExportTable
        return super().get_table_class()

    def get(self, request, *args, **kwargs):
        if not request.GET.get(self.export_trigger_param):
            audit.record(
                AuditAction.VIEW,
                request=request,
                object_type="volunteers.volunteerprofile",
                object_repr="volunteer list",
                changes={"query": request.GET.urlencode()[:500]},
            )
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for row in context["table"].paginated_rows:
            row.record.hours_text = hours_display(row.record.volunteer_minutes)
        context["roles"] = staff_roles(self.request.user)
        return context

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        # the rows' links: one reverse() for the page, not one per row (the table template sees the table)
        table.row_url_prefix = reverse("volunteers:volunteer-detail", args=[0]).removesuffix("0/")
        return table


@scoped_view(*profiles.STAFF_LIST_ROLES)
def volunteer_detail(request, pk: int):
    """One giver for the staff: profile, organisations, pairings in the viewer's area, hours. Audited."""

    profile = get_object_or_404(profiles_for_staff(request.user).prefetch_related("skills"), pk=pk)
    giver = profile.user
    pairings, pairings_elsewhere = giver_pairings_for_staff(viewer=request.user, giver=giver)
    audit.record(AuditAction.VIEW, request=request, obj=profile, changes={"page": "staff detail"})
    totals = giver_totals(user=giver)
    context = {
        "profile": profile,
        "giver": giver,
        "memberships": profiles.giver_organisations(user=giver),
        "pairings": pairings,
        "pairings_elsewhere": pairings_elsewhere,
        "totals": totals,
        "volunteer_hours": hours_display(totals["volunteer_minutes"]),
        "pending_hours": hours_display(totals["pending_minutes"]),
        "by_year": [
            (year, hours_display(k.get("volunteer", 0)), hours_display(k.get("purchased", 0)))
            for year, k in totals["by_year"]
        ],
        "attended_minutes": profiles.giver_attended_minutes(user=giver),
        "signups": profiles.giver_signups(user=giver)[:10],
    }
    return render(request, "services/givers/volunteer_detail.html", context)
