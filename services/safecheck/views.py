"""平安铃 screens: the list of enrolled elders with their answers, enrol and withdraw, the audited export, and the
provider's reply callback (no session: signed by the provider)."""

import datetime

from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import ListView

from portal.scoping import ScopedViewMixin, scope_queryset, scoped_view
from portal.tables import AuditedExportMixin, ReasonedExportMixin
from services.ledger.selectors import elders_for
from services.safecheck import actions, callback
from services.safecheck.forms import EnrolForm
from services.safecheck.models import CheckinEnrolment
from services.safecheck.tables import CheckinExportTable, CheckinTable

MAX_CALLBACK_BYTES = 4096


def enrolments_for(user):
    return scope_queryset(user, CheckinEnrolment.objects.all(), region_field="village", roles=actions.READER_ROLES)


class CheckinListView(ScopedViewMixin, ReasonedExportMixin, ExportMixin, SingleTableMixin, ListView):
    allowed_roles = actions.READER_ROLES
    export_object_type = "services.checkinenrolment"
    export_label = "safe check-ins"
    table_class = CheckinTable
    template_name = "services/safecheck/checkin_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "safe-checkins"

    def get_queryset(self):
        week_ago = timezone.localdate() - datetime.timedelta(days=7)
        return (
            enrolments_for(self.request.user)
            .select_related("elder", "village")
            .annotate(
                last_answer=Max("days__answered_at"),
                missed_week=Count("days", filter=Q(days__missed=True, days__day__gt=week_ago)),
            )
        )

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return CheckinExportTable
        return CheckinTable


class CheckinExportView(AuditedExportMixin, CheckinListView):
    table_class = CheckinExportTable
    export_object_type = "services.checkinenrolment"
    export_label = "safe check-ins"

    def get_table_class(self):
        return CheckinExportTable


@scoped_view(*actions.ENROLLER_ROLES, write=True)
def checkin_enrol(request, elder_pk: int):
    elder = elders_for(request.user).select_related("village").filter(pk=elder_pk).first()
    if elder is None:
        raise Http404
    if not actions.may_enrol(request.user, elder.village_id):
        raise PermissionDenied(actions.NOT_ENROLLER)
    form = EnrolForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.enrol(
                    actor=request.user,
                    elder=elder,
                    phone=form.cleaned_data["phone"],
                    send_at=form.cleaned_data["send_at"],
                    request=request,
                )
            except ValidationError as exc:
                form.add_error("phone", exc)
            else:
                messages.success(
                    request, gettext("%(name)s is enrolled for the daily safe check-in.") % {"name": elder.name}
                )
                return redirect("services:checkin-list")
        status = 400
    return render(request, "services/safecheck/checkin_enrol.html", {"form": form, "elder": elder}, status=status)


@scoped_view(*actions.ENROLLER_ROLES, write=True)
@require_POST
def checkin_withdraw(request, pk: int):
    enrolment = enrolments_for(request.user).filter(pk=pk).first()
    if enrolment is None:
        raise Http404
    actions.withdraw(actor=request.user, enrolment=enrolment, request=request)
    messages.success(request, gettext("The safe check-in is stopped."))
    return redirect("services:checkin-list")


@csrf_exempt
@require_POST
def checkin_callback(request):
    body = request.body[: MAX_CALLBACK_BYTES + 1]
    if len(body) > MAX_CALLBACK_BYTES:
        return JsonResponse({"ok": False}, status=413)
    try:
        payload = callback.verify(body, request.headers.get("X-Timestamp", ""), request.headers.get("X-Signature", ""))
    except callback.Refused:
        return JsonResponse({"ok": False}, status=403)
    actions.receive_reply(message_id=payload["message_id"], phone=payload["phone"], text=payload["text"])
    return JsonResponse({"ok": True})
