from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from . import audit
from .context_processors import ELDER_MODE_COOKIE
from .filters import VillageFilter
from .models import AuditAction, Region, RegionLevel
from .phone import mask_phone
from .scoping import ScopedViewMixin, staff_roles
from .tables import VillageTable


@require_POST
def toggle_elder_mode(request):
    """Large-font, high-contrast mode (适老化): a cookie, so it persists and works without JavaScript."""
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = HttpResponseRedirect(target)
    turn_on = request.COOKIES.get(ELDER_MODE_COOKIE) != "1"
    response.set_cookie(ELDER_MODE_COOKIE, "1" if turn_on else "0", max_age=365 * 24 * 3600, samesite="Lax")
    return response


@login_required
def me(request):
    """The signed-in person's own page: who they are and which duties they hold."""
    return render(
        request,
        "portal/me.html",
        {"roles": staff_roles(request.user), "masked_phone": mask_phone(request.user.phone)},
    )


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


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
        from services.care_summary import care_counts

        context = super().get_context_data(**kwargs)
        context["roles"] = staff_roles(self.request.user)
        context["care"] = care_counts(self.request.user)
        return context


@cache_control(public=True, max_age=3600)
def region_children(request, code: str):
    """Public list of a region's direct children (division names are public data)."""
    if not (len(code) == 12 and code.isdigit()):
        return JsonResponse({"error": "bad code", "children": []}, status=400)
    children = list(Region.objects.filter(parent_id=code).values("code", "name"))
    return JsonResponse({"children": children})
