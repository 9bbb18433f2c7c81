"""Pairing screens: run matching, review proposals with their reasons, accept all or some, adjust by hand,
end pairings; the giver's own list of elders. Thin views over services.pairing.lifecycle, scoped and audited."""

import django_tables2 as tables
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from portal import audit
from portal.models import AuditAction, Region
from portal.phone import mask_phone
from portal.scoping import ALL_ROLES, ScopedViewMixin, can_write
from portal.scoping import no_store as _no_store
from portal.tables import AuditedExportMixin
from services.catalogue.models import ServiceCategory
from services.ledger.selectors import can_edit, elders_for
from services.pairing import candidates, lifecycle, needs, offers
from services.pairing import rules as pairing_rules
from services.pairing import runs as match_runs
from services.pairing import selectors as pairing_reads
from services.pairing.forms import EndForm, MatchRunForm, NeedForm, PairingFilter, PairingForm
from services.pairing.models import MatchRun, MatchRunStatus, Need, Pairing, PairingStatus
from volunteers.forms import OrganisationPairingForm
from volunteers.organisations import organisation_for_admin

STAFF_ROLES = ALL_ROLES  # every role but a receiving department's
PROPOSALS_PER_PAGE = 50


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _category_names() -> dict[str, str]:
    return dict(ServiceCategory.objects.values_list("slug", "name"))


# --- matching runs ----------------------------------------------------------------------------------


class MatchRunView(ScopedViewMixin, View):
    """Choose an area, see its coverage now, run the matching; recent runs of the officer's area."""

    allowed_roles = pairing_rules.OFFICER_ROLES
    template_name = "services/pairing/match_run.html"

    def _context(self, form, region=None):
        runs = pairing_reads.runs_for(self.request.user).select_related("region", "run_by")[:10]
        context = {"form": form, "runs": runs, "region": region}
        if region is not None:
            context["coverage"] = _coverage_rows(candidates.coverage(region))
        return context

    def get(self, request):
        form = MatchRunForm(user=request.user, initial={"region": request.GET.get("region")})
        region = None
        code = request.GET.get("region", "")
        if code:
            region = form.fields["region"].queryset.filter(code=code[:12]).first()
        elif form.fields["region"].queryset.count() == 1:
            region = form.fields["region"].queryset.first()
        return render(request, self.template_name, self._context(form, region))

    def post(self, request):
        if not can_write(request.user):
            raise PermissionDenied(pairing_rules.READ_ONLY)
        form = MatchRunForm(request.POST, user=request.user)
        if not form.is_valid():
            return render(request, self.template_name, self._context(form), status=400)
        try:
            run = match_runs.match_start(region=form.cleaned_data["region"], user=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
            return render(request, self.template_name, self._context(form), status=400)
        if run.status == MatchRunStatus.DONE:
            n = len(run.chosen)
            messages.success(request, ngettext("%(n)d pairing proposed.", "%(n)d pairings proposed.", n) % {"n": n})
        elif not run.is_finished:
            messages.info(request, gettext("The matching has started; this page follows its progress."))
        return redirect("services:match-proposals", pk=run.pk)


class MatchRunStatusView(ScopedViewMixin, View):
    """A run's progress as JSON, for the proposals page's small polling script."""

    allowed_roles = pairing_rules.OFFICER_ROLES

    def get(self, request, pk):
        run = get_object_or_404(pairing_reads.runs_for(request.user).only("pk", "status", "progress", "stage"), pk=pk)
        return _no_store(
            JsonResponse(
                {
                    "status": run.status,
                    "finished": run.is_finished,
                    "progress": run.progress,
                    "stage": str(pairing_rules.RUN_STAGES.get(run.stage, run.stage)),
                    "url": reverse("services:match-proposals", args=[run.pk]),
                }
            )
        )


def _coverage_rows(cov: dict, after: dict | None = None) -> dict:
    """Coverage totals and per-village rows with names (and the 'after' figures beside them)."""
    names = dict(
        Region.objects.filter(code__in=[v["code"] for v in cov.get("villages", [])]).values_list("code", "name")
    )
    after_rows = {v["code"]: v for v in (after or {}).get("villages", [])}
    rows = [
        {**v, "name": names.get(v["code"], v["code"]), "after": after_rows.get(v["code"])}
        for v in cov.get("villages", [])
    ]
    return {"totals": cov, "after": after, "rows": rows}


class MatchProposalsView(ScopedViewMixin, View):
    """One run: coverage before/after, the proposals with their reasons; accept all or some, decline some."""

    allowed_roles = pairing_rules.OFFICER_ROLES
    template_name = "services/pairing/match_proposals.html"

    def get_run(self) -> MatchRun:
        return get_object_or_404(
            pairing_reads.runs_for(self.request.user).select_related("region", "run_by"), pk=self.kwargs["pk"]
        )

    def _proposals(self, run):
        return (
            Pairing.objects.filter(match_run=run, status=PairingStatus.PROPOSED)
            .select_related("elder__village", "giver_user__volunteer_profile", "giver_organisation__kind")
            .prefetch_related("categories")
            .order_by("-score", "elder_id", "pk")
        )

    def get(self, request, pk):
        run = self.get_run()
        if not run.is_finished:
            context = {"run": run, "stage": pairing_rules.RUN_STAGES.get(run.stage, run.stage)}
            return _no_store(render(request, "services/pairing/match_progress.html", context))
        page = Paginator(self._proposals(run), PROPOSALS_PER_PAGE).get_page(request.GET.get("page"))
        names = _category_names()
        for p in page.object_list:
            p.reason_labels = pairing_reads.reason_labels(p.reasons, names)
        counts = dict(run.pairings.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
        audit.record(
            AuditAction.VIEW,
            request=request,
            obj=run,
            changes={"page": page.number, "proposals": len(page.object_list)},
        )
        context = {
            "run": run,
            "page": page,
            "counts": counts,
            "summary": match_runs.run_summary(run),
            "coverage": _coverage_rows(run.coverage_before, run.coverage_after),
            "can_decide": can_write(request.user),
        }
        return _no_store(render(request, self.template_name, context))

    def post(self, request, pk):
        run = self.get_run()
        if not can_write(request.user):
            raise PermissionDenied(pairing_rules.READ_ONLY)
        action = request.POST.get("action")
        proposals = (
            self._proposals(run)
            .select_related(None)
            .prefetch_related(None)
            .select_related("elder__village", "giver_user", "giver_organisation")
        )
        if action == "accept_all":
            chosen = list(proposals)
        else:
            ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
            chosen = list(proposals.filter(pk__in=ids)) if ids else []
        if not chosen or action not in ("accept_all", "accept", "reject"):
            messages.error(request, gettext(pairing_rules.NOTHING_CHOSEN))
            return redirect("services:match-proposals", pk=run.pk)
        if action == "reject":
            done = 0
            for p in chosen:
                try:
                    lifecycle.pairing_reject(actor=request.user, pairing=p, request=request)
                    done += 1
                except ValidationError as exc:
                    messages.error(request, f"{p.elder.name}: {_error_text(exc)}")
            messages.success(
                request, ngettext("%(n)d proposal declined.", "%(n)d proposals declined.", done) % {"n": done}
            )
        else:
            accepted, refused = lifecycle.pairings_accept(actor=request.user, pairings=chosen, request=request)
            for p, text in refused[:20]:
                messages.error(request, f"{p.elder.name} ↔ {p.giver}: {text}")
            messages.success(
                request,
                ngettext(
                    "%(n)d pairing accepted; the giver is told by SMS.",
                    "%(n)d pairings accepted; the givers are told by SMS.",
                    len(accepted),
                )
                % {"n": len(accepted)},
            )
        return redirect(f"{reverse('services:match-proposals', args=[run.pk])}?page={request.POST.get('page', '1')}")


# --- pairing list, detail, end ----------------------------------------------------------------------


def _giver_name(record) -> str:
    if record.giver_user_id:
        return record.giver_user.real_name or mask_phone(record.giver_user.phone)
    return record.giver_organisation.name


class PairingTable(tables.Table):
    elder = tables.Column(
        verbose_name=_("Elder"),
        accessor="elder__name",
        linkify=lambda record: reverse("services:pairing-detail", args=[record.pk]),
    )
    village = tables.Column(verbose_name=_("Village"), accessor="elder__village__name", order_by=("elder__village_id",))
    giver = tables.Column(verbose_name=_("Giver"), empty_values=(), orderable=False)
    categories = tables.Column(verbose_name=_("Services"), empty_values=(), orderable=False)
    status = tables.Column(verbose_name=_("Status"))
    start_date = tables.DateColumn(verbose_name=_("From"), format="DATE_FORMAT")
    end_date = tables.DateColumn(verbose_name=_("Until"), format="DATE_FORMAT")

    class Meta:
        model = Pairing
        fields = ("elder", "village", "giver", "categories", "status", "start_date", "end_date")
        attrs = {"class": "table pairing-table"}
        per_page = 25
        order_by = ("-start_date",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for bound in self.columns:
            bound.column.attrs = {**bound.column.attrs, "td": {"data-label": str(bound.verbose_name)}}

    def render_giver(self, record):
        return _giver_name(record)

    def render_categories(self, record):
        return "、".join(c.name for c in record.categories.all()) or "—"

    def render_status(self, record, value):
        return format_html('<span class="badge pairing-{}">{}</span>', record.status, value)


class PairingExportTable(tables.Table):
    """Plain values: no IDs, no phones."""

    elder = tables.Column(verbose_name=_("Elder"), accessor="elder__name")
    village_code = tables.Column(verbose_name=_("Village code"), accessor="elder__village_id")
    village = tables.Column(verbose_name=_("Village"), accessor="elder__village__name")
    giver = tables.Column(verbose_name=_("Giver"), empty_values=())
    categories = tables.Column(verbose_name=_("Services"), empty_values=())
    status = tables.Column(verbose_name=_("Status"))
    origin = tables.Column(verbose_name=_("Made by"))
    start_date = tables.Column(verbose_name=_("From"))
    end_date = tables.Column(verbose_name=_("Until"))
    end_reason = tables.Column(verbose_name=_("Why it ended"))

    class Meta:
        model = Pairing
        fields = (
            "elder",
            "village_code",
            "village",
            "giver",
            "categories",
            "status",
            "origin",
            "start_date",
            "end_date",
            "end_reason",
        )

    def value_giver(self, record):
        return _giver_name(record)

    def value_categories(self, record):
        return "、".join(c.name for c in record.categories.all())

    def value_start_date(self, value):
        return value.isoformat() if value else ""

    def value_end_date(self, value):
        return value.isoformat() if value else ""


class PairingListView(ScopedViewMixin, ExportMixin, SingleTableMixin, FilterView):
    allowed_roles = STAFF_ROLES
    model = Pairing
    table_class = PairingTable
    filterset_class = PairingFilter
    template_name = "services/pairing/pairing_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "pairings"
    export_trigger_param = "_format"

    def get_queryset(self):
        return (
            pairing_reads.pairings_for(self.request.user)
            .select_related("elder__village", "giver_user", "giver_organisation")
            .prefetch_related("categories")
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context["export_query"] = query.urlencode()
        context["can_run"] = pairing_rules.can_run_somewhere(self.request.user)
        return context


class PairingExportView(AuditedExportMixin, PairingListView):
    """xlsx (default) or csv of the filtered pairings; audited."""

    table_class = PairingExportTable
    export_label = "pairings"
    export_object_type = "services.pairing"


class PairingDetailView(ScopedViewMixin, View):
    allowed_roles = STAFF_ROLES
    template_name = "services/pairing/pairing_detail.html"

    def get_pairing(self) -> Pairing:
        return get_object_or_404(
            pairing_reads.pairings_for(self.request.user).select_related(
                "elder__village__parent", "giver_user__volunteer_profile__village", "giver_organisation", "confirmed_by"
            ),
            pk=self.kwargs["pk"],
        )

    def _render(self, pairing, end_form=None, status=200):
        can_decide = pairing_rules.can_confirm(self.request.user, pairing.elder.village_id)
        context = {
            "pairing": pairing,
            "reason_labels": pairing_reads.reason_labels(pairing.reasons),
            "mode": pairing_rules.Mode.LABELS[pairing_reads.pairing_modes([pairing])[pairing.pk]]
            if pairing.status == "active"
            else None,
            "can_decide": can_decide,
            "end_form": end_form or EndForm(),
        }
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, pk):
        pairing = self.get_pairing()
        audit.record(AuditAction.VIEW, request=request, obj=pairing)
        return self._render(pairing)

    def post(self, request, pk):
        pairing = self.get_pairing()
        action = request.POST.get("action")
        try:
            if action == "accept":
                lifecycle.pairing_accept(actor=request.user, pairing=pairing, request=request)
                messages.success(request, gettext("Pairing accepted; the giver is told by SMS."))
            elif action == "reject":
                lifecycle.pairing_reject(actor=request.user, pairing=pairing, request=request)
                messages.success(request, gettext("Proposal declined."))
            elif action == "end":
                form = EndForm(request.POST)
                if not form.is_valid():
                    return self._render(pairing, end_form=form, status=400)
                lifecycle.pairing_end(
                    actor=request.user,
                    pairing=pairing,
                    reason=form.cleaned_data["reason"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
                messages.success(request, gettext("Pairing ended."))
            else:
                messages.error(request, gettext("Unknown action."))
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            return HttpResponseRedirect(reverse("services:pairing-detail", args=[pairing.pk]))
        return HttpResponseRedirect(reverse("services:pairing-detail", args=[pairing.pk]))


# --- by hand: needs and pairings of one elder -------------------------------------------------------


class ElderPairingMixin(ScopedViewMixin):
    allowed_roles = STAFF_ROLES

    def get_elder(self):
        return get_object_or_404(elders_for(self.request.user).select_related("village"), pk=self.kwargs["pk"])


class NeedCreateView(ElderPairingMixin, View):
    template_name = "services/pairing/need_form.html"

    def get(self, request, pk):
        elder = self.get_elder()
        if not can_edit(request.user, elder.village_id):
            raise PermissionDenied(pairing_rules.READ_ONLY)
        return render(request, self.template_name, {"form": NeedForm(), "elder": elder})

    def post(self, request, pk):
        elder = self.get_elder()
        if not can_edit(request.user, elder.village_id):
            raise PermissionDenied(pairing_rules.READ_ONLY)
        form = NeedForm(request.POST)
        if form.is_valid():
            try:
                needs.need_record(actor=request.user, elder=elder, request=request, **form.cleaned_data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, gettext("Need recorded."))
                return redirect("services:elder-detail", pk=elder.pk)
        return render(request, self.template_name, {"form": form, "elder": elder}, status=400)


class NeedCloseView(ScopedViewMixin, View):
    allowed_roles = STAFF_ROLES

    def post(self, request, pk):
        need = get_object_or_404(pairing_reads.needs_for(request.user).select_related("elder"), pk=pk)
        try:
            needs.need_close(actor=request.user, need=need, request=request)
            messages.success(request, gettext("Need closed."))
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        return redirect("services:elder-detail", pk=need.elder_id)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class PairingCreateView(ElderPairingMixin, View):
    """Adjust by hand: pair the elder with a person or an organisation; the officer's pairing is active at once."""

    template_name = "services/pairing/pairing_form.html"

    def _check(self, elder):
        if not pairing_rules.can_confirm(self.request.user, elder.village_id):
            raise PermissionDenied(pairing_rules.READ_ONLY)

    def _context(self, form, elder):
        current = (
            Pairing.objects.filter(elder=elder, status__in=("proposed", "active"))
            .select_related("giver_user", "giver_organisation")
            .prefetch_related("categories")
        )
        return {"form": form, "elder": elder, "current": current}

    def get(self, request, pk):
        elder = self.get_elder()
        self._check(elder)
        return render(request, self.template_name, self._context(PairingForm(elder=elder), elder))

    def post(self, request, pk):
        elder = self.get_elder()
        self._check(elder)
        form = PairingForm(request.POST, elder=elder)
        if form.is_valid():
            profile = form.cleaned_data["giver"]
            try:
                pairing = lifecycle.pairing_propose(
                    actor=request.user,
                    elder=elder,
                    giver_user=profile.user if profile else None,
                    giver_organisation=form.cleaned_data["organisation"],
                    categories=form.cleaned_data["categories"],
                    request=request,
                )
                lifecycle.pairing_accept(actor=request.user, pairing=pairing, request=request)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, gettext("Pairing made; the giver is told by SMS."))
                return redirect("services:pairing-detail", pk=pairing.pk)
        return render(request, self.template_name, self._context(form, elder), status=400)


# --- the giver's own page ---------------------------------------------------------------------------


def giver_elders(user, *, request=None, organisation=None) -> list[Pairing]:
    """The giver's active pairings with what the include shows (name, village, address, phone, needs);
    with `organisation`, only those of that organisation (which `user` runs).

    Viewing them is audited. The lead puts this in the giver's page context as `giver_pairings`."""
    mine = pairing_reads.pairings_for_giver(user)
    if organisation is not None:
        mine = mine.filter(giver_organisation=organisation)
    pairings = list(
        mine.select_related("elder__village", "giver_organisation")
        .prefetch_related(
            "categories",
            Prefetch(
                "elder__needs",
                queryset=Need.objects.filter(closed_at__isnull=True).select_related("category"),
                to_attr="open_needs",
            ),
        )
        .order_by("elder__village_id", "elder__name")
    )
    seen: set[int] = set()
    pairings = [p for p in pairings if not (p.elder_id in seen or seen.add(p.elder_id))]  # one row per elder
    if pairings:
        audit.record(
            AuditAction.VIEW,
            request=request,
            actor=user,
            object_type="services.elder",
            object_repr=f"paired elders of giver {user.pk}",
            changes={"elders": [p.elder_id for p in pairings]},
        )
    return pairings


@login_required
def my_elders(request):
    context = {
        "giver_pairings": giver_elders(request.user, request=request),
        "pairing_offers": list(offers.offers_for(request.user)),
    }
    return _no_store(render(request, "services/pairing/my_elders.html", context))


# --- the volunteer's answer to an offer (结对邀请) ------------------------------------------------------


@login_required
def pairing_offer(request, token: str):
    """The volunteer accepts or declines an offer: the village, age and needs of the elder, never the phone or
    address until accepted. Only the volunteer it is addressed to sees it (anyone else: 404)."""
    try:
        pairing = offers.offer_for(request.user, token)
    except Pairing.DoesNotExist:
        raise Http404 from None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                offers.offer_accept(actor=request.user, token=token, request=request)
                messages.success(request, gettext("Thank you! The pairing has started; the elder's details are below."))
                return redirect("services:pairing-mine")
            if action == "decline":
                offers.offer_decline(
                    actor=request.user, token=token, note=request.POST.get("note", "")[:300], request=request
                )
                messages.success(request, gettext("You declined the offer. Thank you for telling us."))
                return redirect("services:pairing-mine")
            messages.error(request, gettext("Unknown action."))
            status = 400
        except Pairing.DoesNotExist:
            raise Http404 from None
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
            status = 409
        pairing = offers.offer_for(request.user, token)
    context = {
        "pairing": pairing,
        "is_open": pairing.status == PairingStatus.OFFERED
        and (pairing.offer_expires_at is None or pairing.offer_expires_at > timezone.now()),
    }
    return _no_store(render(request, "services/pairing/offer.html", context, status=status))


# --- an organisation's offer to the matching (一帮多) --------------------------------------------------


@login_required
def organisation_pairing(request, pk: int):
    """An organisation admin sets how many elders the matching may pair with the organisation and sees the
    elders it is paired with (the same limited details as a volunteer). Not an admin: 404 (403 for members)."""

    organisation = organisation_for_admin(user=request.user, pk=pk)
    form = OrganisationPairingForm(request.POST or None, initial={"pairing_capacity": organisation.pairing_capacity})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            lifecycle.organisation_set_capacity(
                actor=request.user,
                organisation=organisation,
                capacity=form.cleaned_data["pairing_capacity"],
                request=request,
            )
            messages.success(request, gettext("Saved."))
            return redirect("services:pairing-organisation", pk=organisation.pk)
        status = 400
    pairings = giver_elders(request.user, request=request, organisation=organisation)
    context = {
        "organisation": organisation,
        "form": form,
        "giver_pairings": pairings,
        "giver_title": gettext("Elders paired with the organisation"),
    }
    return _no_store(render(request, "services/pairing/organisation_pairing.html", context, status=status))
