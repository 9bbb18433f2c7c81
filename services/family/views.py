"""The family portal's pages. Every page reads elders only through `elders_for_family` (a foreign elder is a 404,
the same as a missing one), audits what it shows, is never cached, and the writes are rate-limited."""

from allauth.core import ratelimit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from portal.scoping import no_store, scoped_view
from services.family import actions
from services.family import selectors as family_reads
from services.family.forms import ContactReportForm, DecideForm, WhereaboutsForm
from services.family.models import WhereaboutsChange

TOO_MANY = _("Too many requests. Please try again later.")


def _limited(request) -> bool:
    return not ratelimit.consume(request, action="family_write", user=request.user)


@login_required
def home(request):
    """我的老人: every elder of the family, with the last visit, next visit due and open alerts."""
    elders = family_reads.family_home(request.user)
    for elder in elders:
        actions.record_view(request=request, elder=elder, page="family-home")
    return no_store(render(request, "services/family/home.html", {"elders": elders}))


def _elder_context(request, elder, **extra) -> dict:
    context = family_reads.elder_page(elder, today=timezone.localdate())
    context.update(
        report_form=ContactReportForm(initial={"contact_date": timezone.localdate()}),
        whereabouts_form=WhereaboutsForm(),
        own_changes=WhereaboutsChange.objects.filter(
            elder=elder, contact__in=family_reads.contacts_for_family(request.user)
        ).order_by("-created_at")[:5],
    )
    context.update(extra)
    return context


@login_required
def elder_detail(request, pk: int):
    elder = family_reads.family_elder(request.user, pk)
    actions.record_view(request=request, elder=elder, page="family-elder")
    return no_store(render(request, "services/family/elder.html", _elder_context(request, elder)))


@login_required
@require_POST
def contact_report(request, pk: int):
    elder = family_reads.family_elder(request.user, pk)
    form = ContactReportForm(request.POST)
    if _limited(request):
        form.add_error(None, TOO_MANY)
    elif form.is_valid():
        try:
            actions.contact_report(
                actor=request.user,
                elder=elder,
                kind=form.cleaned_data["kind"],
                contact_date=form.cleaned_data["contact_date"],
                request=request,
            )
        except ValidationError as exc:
            form.add_error("contact_date" if exc.code.startswith("date") else None, exc)
        else:
            messages.success(request, _("Thank you. Your contact has been recorded."))
            return redirect("services:family-elder", pk=elder.pk)
    actions.record_view(request=request, elder=elder, page="family-elder")
    context = _elder_context(request, elder, report_form=form)
    return no_store(render(request, "services/family/elder.html", context, status=400))


@login_required
@require_POST
def whereabouts(request, pk: int):
    elder = family_reads.family_elder(request.user, pk)
    form = WhereaboutsForm(request.POST)
    if _limited(request):
        form.add_error(None, TOO_MANY)
    elif form.is_valid():
        try:
            actions.whereabouts_propose(actor=request.user, elder=elder, request=request, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Sent. The village liaison will confirm the change."))
            return redirect("services:family-elder", pk=elder.pk)
    actions.record_view(request=request, elder=elder, page="family-elder")
    context = _elder_context(request, elder, whereabouts_form=form)
    return no_store(render(request, "services/family/elder.html", context, status=400))


# --- the liaison's queue ---------------------------------------------------------------------------

LIAISON_ROLES = family_reads.LIAISON_ROLES


@scoped_view(*LIAISON_ROLES, write=True)
def changes(request):
    """Changes of whereabouts and phone proposed by families, waiting for the liaison."""
    pending = list(family_reads.pending_changes_for_liaison(request.user)[:200])
    return render(request, "services/family/changes.html", {"changes": pending, "form": DecideForm()})


@scoped_view(*LIAISON_ROLES, write=True)
@require_POST
def change_decide(request, pk: int):
    change = get_object_or_404(family_reads.pending_changes_for_liaison(request.user), pk=pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            actions.whereabouts_decide(
                actor=request.user, change=change, confirm=form.cleaned_data["decision"] == "confirm", request=request
            )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, _("Done."))
    return redirect("services:family-changes")


