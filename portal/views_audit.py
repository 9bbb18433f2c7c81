"""Reading the audit trail from the portal: who exported what in my area (GB/T 35273 §7), and the trail of
a period as a file for an inspector (with each event's hashes, so it can be checked outside the portal)."""

import datetime

import tablib

from django import forms
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import audit
from .exports import safe_dataset
from .models import AuditAction, AuditEvent, RoleKind
from .scoping import scope_queryset, scoped_view

# Who reads the trail of an area: county officers, supervisors (督导员, the inspectors) and administrators.
TRAIL_ROLES = (RoleKind.COUNTY_OFFICER, RoleKind.SUPERVISOR, RoleKind.REGION_ADMIN)
MAX_PERIOD_DAYS = 366
PERIOD_TOO_LONG = gettext_lazy("Choose a period of at most one year.")
PERIOD_REVERSED = gettext_lazy("The end date is before the start date.")


def events_in_area(user):
    """Audit events written by people holding a staff role inside the user's area."""
    return scope_queryset(
        user, AuditEvent.objects.all(), region_field="actor__staff_roles__region", roles=TRAIL_ROLES
    ).distinct()


@scoped_view(*TRAIL_ROLES)
def export_log(request):
    """Every export of personal data made by people of my area: who, when, what, how many rows, why."""
    events = events_in_area(request.user).filter(action=AuditAction.EXPORT).select_related("actor")
    page = Paginator(events.order_by("-created_at", "-pk"), 50).get_page(request.GET.get("page"))
    return render(request, "portal/export_log.html", {"page": page})


class PeriodForm(forms.Form):
    start = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=gettext_lazy("To (inclusive)"), widget=forms.DateInput(attrs={"type": "date"}))
    format = forms.ChoiceField(
        label=gettext_lazy("File"), choices=[("xlsx", "Excel (xlsx)"), ("csv", "CSV")], initial="xlsx"
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", PERIOD_REVERSED)
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("end", PERIOD_TOO_LONG)
        return data


@scoped_view(*TRAIL_ROLES)
def trail_export(request):
    """The audit trail of my area for a period, as xlsx or csv, with the chain's hashes; itself audited."""
    form = PeriodForm(request.GET or None)
    if not form.is_valid():
        return render(request, "portal/audit_trail.html", {"form": form})
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    audit.seal_pending()  # events whose sealing has not run yet get their hashes first
    tz = timezone.get_current_timezone()
    since = datetime.datetime.combine(start, datetime.time.min, tzinfo=tz)
    until = datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    events = (
        events_in_area(request.user)
        .filter(created_at__gte=since, created_at__lt=until)
        .select_related("actor")
        .order_by("pk")
    )
    data = tablib.Dataset(
        headers=[
            "id",
            _("when"),
            _("who"),
            _("action"),
            _("object type"),
            _("object id"),
            _("object"),
            _("fields"),
            _("IP address"),
            _("path"),
            _("previous hash"),
            _("hash"),
        ],
        title=_("audit events"),
    )
    for event in events.iterator(chunk_size=2000):
        data.append(
            [
                event.pk,
                timezone.localtime(event.created_at).isoformat(timespec="seconds"),
                str(event.actor) if event.actor_id else event.actor_ref,
                event.get_action_display(),
                event.object_type,
                event.object_id,
                event.object_repr,
                str(event.changes),
                event.ip_address or "",
                event.path,
                event.prev_hash,
                event.hash,
            ]
        )
    export_format = form.cleaned_data["format"]
    audit.record(
        AuditAction.EXPORT,
        request=request,
        object_type="portal.auditevent",
        object_repr=f"audit trail {start:%Y-%m-%d}–{end:%Y-%m-%d} ({export_format}, {data.height})",
        changes={"start": start.isoformat(), "end": end.isoformat(), "rows": data.height},
    )
    content = safe_dataset(data).export(export_format)
    if export_format == "csv":
        content = "\ufeff" + content
    response = HttpResponse(
        content,
        content_type="text/csv; charset=utf-8"
        if export_format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="audit-{start:%Y%m%d}-{end:%Y%m%d}.{export_format}"'
    return response
