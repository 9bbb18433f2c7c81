"""Pages of the volunteer record (志愿服务记录): my record and its export, a unit's view of its members,
training/award/evaluation entry, correction requests, the record photo, the family SMS confirmation.
Thin views over services.records.dossier and services.records.family_confirm."""

import io

import django_filters
import django_tables2 as tables
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from PIL import Image, UnidentifiedImageError

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal import audit
from portal.models import AuditAction
from portal.phone import clean_phone
from portal.scoping import no_store
from services.records import dossier, family_confirm
from services.records import selectors as record_reads
from services.records.dossier_forms import ENTRY_FORMS, CorrectionForm, DecisionForm, RecordCorrectionForm
from services.records.models import COUNTED_STATUSES, RecordKind, ServiceRecord, hours_display
from volunteers.models import Membership, MembershipStatus
from volunteers.models_record import Award, CorrectionRequest, CorrectionStatus, CorrectionTarget, Evaluation, Training
from volunteers.views import _form_error, _message_error

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
THUMB_SIZE = (360, 360)

# --- the volunteer's own record ----------------------------------------------------------------------


@login_required
def my_dossier(request):
    """我的志愿服务记录: everything the units recorded about me; `?export=xlsx` downloads it."""
    export = request.GET.get("export") == "xlsx"
    data = dossier.dossier(user=request.user, unmasked=True, page=None if export else request.GET.get("page", 1))
    if export:
        audit.record(AuditAction.EXPORT, request=request, obj=request.user, changes={"dossier": "xlsx"})
        response = HttpResponse(dossier.export_xlsx(data), content_type=XLSX)
        response["Content-Disposition"] = 'attachment; filename="volunteer-record.xlsx"'
        return no_store(response)
    pending = CorrectionRequest.objects.filter(
        volunteer=request.user, status=CorrectionStatus.PENDING, record__isnull=False
    ).values_list("record_id", flat=True)
    context = {
        **data,
        "own": True,
        "pending_records": set(pending),
        "reversed_records": set(
            ServiceRecord.objects.filter(giver=request.user, reverses__isnull=False)
            .order_by()
            .values_list("reverses_id", flat=True)
        ),
    }
    return no_store(render(request, "services/records/dossier/dossier.html", context))


# --- a recording unit's view of its members ----------------------------------------------------------


class MemberRecordTable(tables.Table):
    name = tables.Column(accessor="user__real_name", verbose_name=gettext_lazy("Name"))
    minutes = tables.Column(verbose_name=gettext_lazy("Confirmed volunteer hours"), orderable=True)
    entries = tables.Column(verbose_name=gettext_lazy("Training, awards, evaluations"), orderable=False)

    class Meta:
        attrs = {"class": "table"}
        template_name = "django_tables2/table.html"
        per_page = 50
        order_by = ("name",)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def render_name(self, record):
        url = reverse("volunteers:dossier-member", args=[self.organisation.pk, record.user_id])
        return format_html('<a href="{}">{}</a>', url, record.user)

    def render_minutes(self, value):
        return hours_display(value)

    def render_entries(self, record):
        return record.entries


class MemberRecordFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(label=gettext_lazy("Name"), field_name="user__real_name", lookup_expr="icontains")

    class Meta:
        model = Membership
        fields = []


@method_decorator(login_required, name="dispatch")
class MemberRecordListView(SingleTableMixin, FilterView):
    """The unit's members with their hours under it: the way into each member's record."""

    model = Membership
    table_class = MemberRecordTable
    filterset_class = MemberRecordFilter
    template_name = "services/records/dossier/member_list.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.organisation = dossier.admin_organisations(request.user).filter(pk=kwargs["pk"]).first()
            if self.organisation is None:
                raise Http404
        return no_store(super().dispatch(request, *args, **kwargs))

    def get_queryset(self):
        org = self.organisation
        minutes = (
            ServiceRecord.objects.filter(
                giver=OuterRef("user_id"), organisation=org, kind=RecordKind.VOLUNTEER, status__in=COUNTED_STATUSES
            )
            .values("giver")
            .annotate(m=Sum(F("minutes") * F("sign")))
            .values("m")
        )

        def count(model):
            return Coalesce(
                Subquery(
                    model.objects.filter(volunteer=OuterRef("user_id"), organisation=org)
                    .values("volunteer")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                Value(0),
            )

        return (
            Membership.objects.filter(organisation=org, status=MembershipStatus.ACTIVE)
            .select_related("user")
            .annotate(
                minutes=Coalesce(Subquery(minutes, output_field=IntegerField()), Value(0)),
                entries=count(Training) + count(Award) + count(Evaluation),
            )
        )

    def get_table_kwargs(self):
        return {"organisation": self.organisation}

    def get(self, request, *args, **kwargs):
        audit.record(AuditAction.VIEW, request=request, obj=self.organisation, changes={"page": "member records"})
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(organisation=self.organisation, **kwargs)


@login_required
def member_dossier(request, pk: int, user_pk: int):
    """The recording unit's view of one member's record: only what it recorded; the ID number masked."""
    organisation, member = dossier.member_for_admin(actor=request.user, organisation_pk=pk, user_pk=user_pk)
    data = dossier.dossier(user=member, organisation=organisation, page=request.GET.get("page", 1))
    audit.record(AuditAction.VIEW, request=request, obj=member, changes={"dossier": organisation.pk})
    forms_ = {kind: form_class(prefix=kind) for kind, form_class in ENTRY_FORMS.items()}
    return no_store(_member_page(request, data, forms_))


def _member_page(request, data, forms_, status=200):
    context = {**data, "own": False, "entry_forms": forms_}
    return render(request, "services/records/dossier/dossier.html", context, status=status)


@login_required
@require_POST
def entry_create(request, pk: int, user_pk: int, kind: str):
    """Enter a training, award or evaluation for a member (the organisation's admin)."""
    if kind not in ENTRY_FORMS:
        raise Http404
    organisation, member = dossier.member_for_admin(actor=request.user, organisation_pk=pk, user_pk=user_pk)
    forms_ = {k: form_class(prefix=k) for k, form_class in ENTRY_FORMS.items()}
    form = forms_[kind] = ENTRY_FORMS[kind](request.POST, prefix=kind)
    if form.is_valid():
        try:
            dossier.entry_create(
                kind=kind,
                actor=request.user,
                organisation=organisation,
                volunteer=member,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The entry is added to the volunteer record."))
            return redirect("volunteers:dossier-member", pk=pk, user_pk=user_pk)
    data = dossier.dossier(user=member, organisation=organisation, page=1)
    return no_store(_member_page(request, data, forms_, status=400))


# --- correction requests -----------------------------------------------------------------------------


def _entry_for(user, target: str, entry_pk):
    """The volunteer's own entry named by the request (for showing it beside the form); 404 if not theirs."""

    models_ = {"training": Training, "award": Award, "evaluation": Evaluation}
    if target == CorrectionTarget.RECORD:
        entry = ServiceRecord.objects.filter(pk=entry_pk, giver=user).select_related("service_item").first()
    elif target in models_:
        entry = models_[target].objects.filter(pk=entry_pk, volunteer=user).first()
    elif target == CorrectionTarget.PERSONAL:
        return None
    else:
        raise Http404
    if entry is None:
        raise Http404
    return entry


@login_required
def correction_create(request):
    """Ask the recording unit to correct an entry of my record (chosen on the record page)."""
    source = request.POST if request.method == "POST" else request.GET
    target = source.get("target", "")
    entry_text = source.get("entry", "")
    if target not in CorrectionTarget.values or (target != CorrectionTarget.PERSONAL and not entry_text.isdigit()):
        raise Http404
    entry = _entry_for(request.user, target, int(entry_text) if entry_text.isdigit() else None)
    form = CorrectionForm(
        request.POST or None, user=request.user, initial={"target": target, "entry": entry_text or None}
    )
    if target != CorrectionTarget.PERSONAL:
        del form.fields["organisation"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dossier.correction_create(
                volunteer=request.user,
                target=data["target"],
                entry_pk=data.get("entry"),
                wrong=data["wrong"],
                should_be=data["should_be"],
                organisation=data.get("organisation"),
                request=request,
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Your request is sent to the recording unit. You will see the outcome here."))
            return redirect("volunteers:correction-list")
    context = {"form": form, "entry": entry, "target": target, "target_label": CorrectionTarget(target).label}
    return no_store(render(request, "services/records/dossier/correction_form.html", context))


class CorrectionTable(tables.Table):
    created_at = tables.Column(verbose_name=gettext_lazy("Asked on"))
    volunteer = tables.Column(accessor="volunteer__real_name", verbose_name=gettext_lazy("Volunteer"))
    target = tables.Column(verbose_name=gettext_lazy("What to correct"))
    wrong = tables.Column(verbose_name=gettext_lazy("What is wrong"), orderable=False)
    status = tables.Column(verbose_name=gettext_lazy("Status"))

    class Meta:
        model = CorrectionRequest
        fields = ("created_at", "volunteer", "target", "wrong", "status")
        attrs = {"class": "table records-table"}
        template_name = "django_tables2/table.html"
        per_page = 30
        order_by = ("-created_at",)

    def render_created_at(self, record):
        from django.utils import timezone

        local = timezone.localtime(record.created_at)
        url = reverse("volunteers:correction-decide", args=[record.pk])
        return format_html('<a href="{}">{}</a>', url, f"{local.year}年{local.month}月{local.day}日")

    def render_volunteer(self, record):
        return str(record.volunteer)

    def render_wrong(self, value):
        return value[:60]

    def render_status(self, record):
        css = {"pending": "warn", "accepted": "ok", "refused": ""}[record.status]
        return format_html('<span class="badge {}">{}</span>', css, record.get_status_display())


class CorrectionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label=gettext_lazy("Status"), choices=CorrectionStatus.choices)
    target = django_filters.ChoiceFilter(label=gettext_lazy("What to correct"), choices=CorrectionTarget.choices)
    mine = django_filters.BooleanFilter(
        label=gettext_lazy("Only my own requests"), method="filter_mine", widget=forms.CheckboxInput
    )

    class Meta:
        model = CorrectionRequest
        fields = ["status", "target"]

    def filter_mine(self, queryset, name, value):
        return queryset.filter(volunteer=self.request.user) if value else queryset


@method_decorator(login_required, name="dispatch")
class CorrectionListView(SingleTableMixin, FilterView):
    """My own requests and their outcome, and — for recording units — the requests they decide."""

    model = CorrectionRequest
    table_class = CorrectionTable
    filterset_class = CorrectionFilter
    template_name = "services/records/dossier/correction_list.html"

    def dispatch(self, request, *args, **kwargs):
        return no_store(super().dispatch(request, *args, **kwargs))

    def get_queryset(self):
        user = self.request.user
        own = CorrectionRequest.objects.filter(volunteer=user)
        mine_or_decided = own | CorrectionRequest.objects.filter(
            pk__in=dossier.corrections_to_decide(user).values("pk")
        )
        return mine_or_decided.select_related("volunteer")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["to_decide"] = (
            dossier.corrections_to_decide(self.request.user).filter(status=CorrectionStatus.PENDING).count()
        )
        return context


@login_required
def correction_decide(request, pk: int):
    """Show a request; the recording unit accepts (applying the correction) or refuses with a reason."""
    correction = dossier.correction_visible(user=request.user, pk=pk)
    may_decide = correction.status == CorrectionStatus.PENDING and dossier.may_decide(request.user, correction)
    decision = DecisionForm(request.POST or None)
    record_form = entry_form = None
    if may_decide and correction.target == CorrectionTarget.RECORD:
        record_form = RecordCorrectionForm(
            request.POST or None, initial=RecordCorrectionForm.initial_from(correction.record), prefix="fix"
        )
    elif may_decide and correction.target in ENTRY_FORMS:
        entry_form = ENTRY_FORMS[correction.target](request.POST or None, instance=correction.entry, prefix="fix")
    if request.method == "POST":
        if not may_decide:
            messages.error(request, str(dossier.ALREADY_DECIDED))
            return redirect("volunteers:correction-decide", pk=pk)
        if decision.is_valid() and _decide(request, correction, decision, record_form, entry_form):
            return redirect("volunteers:correction-decide", pk=pk)
    else:
        audit.record(AuditAction.VIEW, request=request, obj=correction)
    context = {
        "correction": correction,
        "may_decide": may_decide,
        "decision": decision,
        "record_form": record_form,
        "entry_form": entry_form,
    }
    status = 400 if request.method == "POST" else 200
    return no_store(render(request, "services/records/dossier/correction_decide.html", context, status=status))


def _decide(request, correction, decision, record_form, entry_form) -> bool:
    data = decision.cleaned_data
    try:
        if data["decision"] == "refuse":
            dossier.correction_refuse(actor=request.user, correction=correction, reason=data["reason"], request=request)
            messages.success(request, _("The request is refused; the volunteer sees the reason."))
            return True
        changes = None
        if record_form is not None:
            if request.POST.get("fix-happened"):
                if not record_form.is_valid():
                    return False
                changes = record_form.changes()
        elif entry_form is not None:
            if not entry_form.is_valid():
                return False
            changes = {name: entry_form.cleaned_data[name] for name in entry_form.Meta.fields}
        dossier.correction_accept(
            actor=request.user, correction=correction, changes=changes, note=data["reason"], request=request
        )
    except ValidationError as exc:
        target_form = record_form or entry_form
        if target_form is not None and target_form.is_bound and hasattr(target_form, "cleaned_data"):
            _form_error(target_form, exc)
        else:
            _message_error(request, exc)
        return False
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, _("The correction is applied; the volunteer sees the outcome."))
    return True


# --- the record photo ----------------------------------------------------------------------------------

PHOTO_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


def _photo_type(head: bytes) -> str | None:
    for magic, content_type in PHOTO_TYPES.items():
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@login_required
def record_photo(request, pk: int):
    """The record's photo, to those who may see the record (services.records.selectors.records_for); `?thumb=1` a small JPEG."""
    record = record_reads.record_visible(user=request.user, pk=pk)
    if not record.photo:
        raise Http404
    try:
        with record.photo.open("rb") as file:
            data = file.read()
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    content_type = _photo_type(data[:16])
    if content_type is None:
        raise Http404
    if request.GET.get("thumb"):
        try:
            image = Image.open(io.BytesIO(data))
            image.draft("RGB", THUMB_SIZE)  # JPEG: decode at a reduced size
            image.thumbnail(THUMB_SIZE)
            buffer = io.BytesIO()
            image.convert("RGB").save(buffer, format="JPEG", quality=80)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
            raise Http404 from exc
        data, content_type = buffer.getvalue(), "image/jpeg"
    else:
        audit.record(AuditAction.VIEW, request=request, obj=record, changes={"photo": True})
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="record-{record.pk}.{content_type.rsplit("/", 1)[-1]}"'
    response["X-Content-Type-Options"] = "nosniff"
    return no_store(response)


# --- the family SMS confirmation -----------------------------------------------------------------------


@login_required
@require_POST
def family_send(request, pk: int):
    """The giver or the liaison sends a code to a family contact of the elder."""
    record = record_reads.record_visible(user=request.user, pk=pk)
    contact = request.POST.get("contact", "")
    try:
        confirmation = family_confirm.send_code(
            actor=request.user,
            record=record,
            contact_pk=int(contact) if contact.isdigit() else None,
            request=request,
            confirm_url=request.build_absolute_uri(reverse("volunteers:family-confirm")),
        )
    except ValidationError as exc:
        _message_error(request, exc)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("A code is sent to %(name)s by SMS.") % {"name": confirmation.contact_name})
    return redirect("volunteers:record-detail", pk=pk)


class FamilyCodeForm(forms.Form):
    phone = forms.CharField(
        label=gettext_lazy("Your mobile number"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    code = forms.RegexField(
        label=gettext_lazy("Code from the SMS"),
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"invalid": gettext_lazy("The code has 6 digits.")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )

    def clean_phone(self):
        try:
            return clean_phone(self.cleaned_data["phone"])
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc


def family_confirm_page(request):
    """Public (no sign-in): the family member confirms the service with the code from the SMS."""
    form = FamilyCodeForm(request.POST or None)
    done = None
    if request.method == "POST" and form.is_valid():
        try:
            done = family_confirm.confirm(
                phone=form.cleaned_data["phone"], code=form.cleaned_data["code"], request=request
            )
        except ValidationError as exc:
            _form_error(form, exc)
    context = {"form": form, "done": done}
    response = render(
        request, "services/records/dossier/family_confirm.html", context, status=400 if form.errors else 200
    )
    response["X-Robots-Tag"] = "noindex"
    return no_store(response)
