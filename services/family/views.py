"""The family portal's pages. Every page reads elders only through `elders_for_family` (a foreign elder is a 404,
the same as a missing one), audits what it shows, is never cached, and the writes are rate-limited."""

from allauth.core import ratelimit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from portal.scoping import no_store, scoped_view
from services.family import actions, agreements
from services.family import selectors as family_reads
from services.family.forms import AcceptForm, AgreementForm, ContactReportForm, DecideForm, WhereaboutsForm
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
    drafts = list(agreements.agreements_awaiting_consent(request.user)[:200])
    return render(request, "services/family/changes.html", {"changes": pending, "drafts": drafts})


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


@scoped_view(*LIAISON_ROLES, write=True)
@require_POST
def agreement_consent(request, pk: int):
    agreement = get_object_or_404(agreements.agreements_awaiting_consent(request.user), pk=pk)
    try:
        agreements.agreement_consent(
            actor=request.user,
            agreement=agreement,
            accept_url=request.build_absolute_uri(reverse("services:family-agreement-accept")),
            request=request,
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("The elder's consent is recorded; the entrusted person was sent a code."))
    return redirect("services:family-changes")


# --- the entrusted-care agreement ------------------------------------------------------------------


@login_required
def agreement(request, pk: int):
    """The family drafts an agreement for its elder and sees the elder's agreements."""
    elder = family_reads.family_elder(request.user, pk)
    form = AgreementForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if _limited(request):
            form.add_error(None, TOO_MANY)
        elif form.is_valid():
            try:
                agreements.agreement_draft(actor=request.user, elder=elder, request=request, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Drafted. The village liaison will ask the elder for consent."))
                return redirect("services:family-agreement", pk=elder.pk)
        status = 400
    actions.record_view(request=request, elder=elder, page="family-agreement")
    context = {
        "elder": elder,
        "form": form,
        "agreements": agreements.agreements_for_family(request.user).filter(elder=elder).order_by("-created_at"),
    }
    return no_store(render(request, "services/family/agreement.html", context, status=status))


@login_required
def agreement_pdf(request, pk: int):
    agreement = get_object_or_404(agreements.agreements_printable_by(request.user), pk=pk)
    actions.record_view(request=request, elder=agreement.elder, page="agreement-pdf")
    response = HttpResponse(agreements.agreement_pdf(agreement), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="agreement-{agreement.pk}.pdf"'
    return no_store(response)


def agreement_accept(request):
    """Public: the entrusted person types their number and the code from the SMS."""
    form = AcceptForm(request.POST or None)
    accepted = None
    if request.method == "POST" and form.is_valid():
        try:
            accepted = agreements.agreement_accept(
                phone=form.cleaned_data["phone"], code=form.cleaned_data["code"], request=request
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    return no_store(
        render(
            request,
            "services/family/agreement_accept.html",
            {"form": form, "accepted": accepted},
            status=400 if request.method == "POST" and accepted is None else 200,
        )
    )
