"""Spot-check screens: the list (with the month's tally and the failures by provider and village), the draw,
one check with its call-back form, and the audited export. Township and county officers and supervisors of the
area only; anyone else gets a 403 (no role) or a 404 (a check outside their area)."""

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from portal import audit
from portal.models import AuditAction, Region
from portal.phone import mask_phone
from portal.scoping import ScopedViewMixin, scope_regions, scoped_view
from portal.tables import AuditedExportMixin, ReasonedExportMixin
from services.spotchecks import actions, rules, selectors
from services.spotchecks.forms import DrawForm, ResultForm
from services.spotchecks.models import SpotCheckOutcome
from services.spotchecks.tables import SpotCheckExportTable, SpotCheckFilter, SpotCheckTable


def _draw_region(user) -> Region | None:
    """The region an officer draws for: their widest township or county role."""
    regions = scope_regions(user, roles=rules.CALLER_ROLES).filter(level__in=rules.DRAW_LEVELS).order_by("code")
    return min(regions, key=lambda r: (len(r.prefix), r.code), default=None)


class SpotCheckListView(ScopedViewMixin, ReasonedExportMixin, ExportMixin, SingleTableMixin, FilterView):
    allowed_roles = rules.READER_ROLES
    export_object_type = "services.spotcheck"
    export_label = "spot checks"
    table_class = SpotCheckTable
    filterset_class = SpotCheckFilter
    template_name = "services/spotchecks/spotcheck_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "spot-checks"

    def get_queryset(self):
        return (
            selectors.checks_for(self.request.user)
            .select_related("village", "elder", "organisation", "draw")
            .order_by("-draw__month", "village_id", "pk")
        )

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return SpotCheckExportTable
        return SpotCheckTable

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filtered = context["filter"].qs
        context["tally"] = selectors.tally(filtered)
        context["by_provider"] = selectors.failures_by_provider(filtered)
        context["by_village"] = selectors.failures_by_village(filtered)
        context["draws"] = selectors.draws_for(self.request.user).select_related("region").order_by("-month")[:6]
        region = _draw_region(self.request.user)
        context["draw_region"] = region if region and rules.may_draw(self.request.user, region) else None
        context["draw_form"] = DrawForm()
        return context


class SpotCheckExportView(AuditedExportMixin, SpotCheckListView):
    """xlsx (default) or csv of the filtered checks; audited."""

    table_class = SpotCheckExportTable
    export_object_type = "services.spotcheck"
    export_label = "spot checks"

    def get_table_class(self):
        return SpotCheckExportTable


@scoped_view(*rules.CALLER_ROLES, write=True)
@require_POST
def spotcheck_draw(request):
    region = _draw_region(request.user)
    form = DrawForm(request.POST)
    if region is None:
        raise PermissionDenied(rules.NOT_DRAWER)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("services:spotcheck-list")
    try:
        draw, created = actions.draw_month(
            actor=request.user, region=region, month=form.cleaned_data["month"], request=request
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("services:spotcheck-list")
    if created:
        messages.success(request, gettext("%(n)s visits and records are drawn for call-backs.") % {"n": draw.drawn})
    else:
        messages.info(request, rules.ALREADY_DRAWN % {"region": draw.region.name, "month": f"{draw.month:%Y-%m}"})
    return redirect("services:spotcheck-list")


@scoped_view(*rules.READER_ROLES)
def spotcheck_detail(request, pk: int):
    check = selectors.check_visible(user=request.user, pk=pk)
    form = ResultForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.record_result(
                    actor=request.user,
                    check=check,
                    result=form.cleaned_data["result"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    gettext("Recorded: %(result)s.") % {"result": actions.result_label(form.cleaned_data["result"])},
                )
                return redirect("services:spotcheck-detail", pk=check.pk)
        status = 400
    else:
        audit.record(AuditAction.VIEW, request=request, obj=check)
    subject = check.record if check.record_id else check.visit
    phones = [("elder", check.elder.name, mask_phone(check.elder.phone))] if check.elder.phone else []
    phones += [
        ("family", contact.name, mask_phone(contact.phone))
        for contact in check.elder.family_contacts.all()
        if contact.phone
    ]
    context = {
        "check": check,
        "subject": subject,
        "phones": phones,
        "form": form,
        "may_call": check.outcome == SpotCheckOutcome.PENDING and rules.may_call(request.user, check.village_id),
    }
    return render(request, "services/spotchecks/spotcheck_detail.html", context, status=status)
