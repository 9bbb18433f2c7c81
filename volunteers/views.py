"""Views of the givers' pages: thin, they call the functions in profiles, organisations and activities."""

import datetime

from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import audit
from portal.models import AuditAction, RoleKind
from portal.scoping import ScopedViewMixin, scope_queryset
from portal.scoping import no_store as _no_store
from portal.tables import ReasonedExportMixin
from volunteers import activities as acts
from volunteers import organisations as orgs
from volunteers import profiles
from volunteers.filters import ActivityFilter, MemberFilter, OrganisationFilter, ReviewFilter
from volunteers.forms import (
    ActivityForm,
    AttendanceForm,
    DecisionForm,
    IdentityForm,
    OrganisationForm,
    ProfessionalForm,
    ProfileForm,
)
from volunteers.models import (
    ActivityStatus,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationStatus,
    SignupStatus,
    VolunteerProfile,
)
from volunteers.tables import (
    ActivityExportTable,
    ActivityTable,
    MemberExportTable,
    MemberTable,
    OrganisationExportTable,
    OrganisationReviewTable,
    OrganisationTable,
)


class KnownCountPaginator(Paginator):
    """A paginator told its total by the view (counted in a query it makes anyway), so it runs no COUNT."""

    def __init__(self, object_list, per_page, *args, count: int, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.__dict__["count"] = count  # fills the cached_property


def _form_error(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def _message_error(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- volunteer sign-up and profile ---------------------------------------------------------------


def signup(request):
    """Become a volunteer: an anonymous visitor signs up for an account first and comes back here."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_signup')}?{urlencode({'next': request.get_full_path()})}")
    if VolunteerProfile.objects.filter(user=request.user).exists():
        return redirect("volunteers:profile")
    form = ProfileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            profiles.profile_create(user=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Thank you! You are now registered as a giver of care."))
            return redirect("volunteers:me")
    return _no_store(render(request, "volunteers/signup.html", {"form": form}))


def _profile_page(request, profile, *, form=None, identity_form=None, professional_form=None, status=200):
    if form is None:
        form = ProfileForm(
            initial={
                "kind": profile.kind,
                "village": profile.village_id,
                "skills": list(profile.skills.all()),
                "available_days": profile.available_days,
                "available_times": profile.available_times,
                "max_elders": profile.max_elders,
                "about": profile.about,
            }
        )
    identity_form = identity_form or IdentityForm(
        initial={"sex": profile.sex, "birth_date": profile.birth_date, "resident_id": profile.resident_id}
    )
    professional_form = professional_form or ProfessionalForm(
        initial={
            "qualification": profile.qualification,
            "certificate_number": profile.certificate_number,
            "employer": profile.employer,
        }
    )
    context = {
        "profile": profile,
        "form": form,
        "identity_form": identity_form,
        "professional_form": professional_form,
        "professional_items": profiles.service_items_for(profile).filter(professional=True)
        if profile.is_professional
        else [],
    }
    return _no_store(render(request, "volunteers/profile.html", context, status=status))


@login_required
def profile(request):
    """The owner's own profile: the only page that shows their ID number unmasked."""
    profile = VolunteerProfile.objects.filter(user=request.user).select_related("village__parent__parent").first()
    if profile is None:
        return redirect("volunteers:signup")
    if request.method != "POST":
        return _profile_page(request, profile)
    form = ProfileForm(request.POST)
    if form.is_valid():
        try:
            profiles.profile_update(profile=profile, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Your profile is saved."))
            return redirect("volunteers:profile")
    return _profile_page(request, profile, form=form, status=400)


def _profile_part(request, *, form_class, operation, saved_message, form_key):
    """Save one part of the giver's profile (real-name or professional details) through its operation."""
    profile = get_object_or_404(VolunteerProfile, user=request.user)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            operation(profile=profile, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, saved_message)
            return redirect("volunteers:profile")
    profile.refresh_from_db()
    return _profile_page(request, profile, status=400, **{form_key: form})


@login_required
@require_POST
def profile_identity(request):
    return _profile_part(
        request,
        form_class=IdentityForm,
        operation=profiles.profile_set_identity,
        saved_message=_("Your real-name details are saved."),
        form_key="identity_form",
    )


@login_required
@require_POST
def profile_professional(request):
    return _profile_part(
        request,
        form_class=ProfessionalForm,
        operation=profiles.profile_set_professional,
        saved_message=_("Your professional profile is saved."),
        form_key="professional_form",
    )


# --- organisations --------------------------------------------------------------------------------


class OrganisationListView(ExportMixin, SingleTableMixin, FilterView):
    """The public directory: approved organisations only."""

    table_class = OrganisationTable
    filterset_class = OrganisationFilter
    template_name = "volunteers/organisation_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "organisations"

    def get_queryset(self):
        if self.request.GET.get(self.export_trigger_param):
            return orgs.organisations_public()
        return orgs.organisations_directory()

    def create_export(self, export_format):
        self.table_class = OrganisationExportTable
        return super().create_export(export_format)

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return OrganisationExportTable
        return super().get_table_class()

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        # the cards' links: one reverse() for the page, not one per card (the table template sees the table)
        table.row_url_prefix = reverse("volunteers:organisation-detail", args=[0]).removesuffix("0/")
        return table


def organisation_detail(request, pk: int):
    organisation = get_object_or_404(Organisation.objects.select_related("kind", "region__parent__parent"), pk=pk)
    user = request.user
    membership = orgs.membership_of(user=user, organisation=organisation)
    is_admin = bool(membership and membership.is_admin and membership.status == MembershipStatus.ACTIVE)
    may_decide = user.is_authenticated and orgs.may_decide(user, organisation)
    if not organisation.is_public and not (membership or may_decide):
        raise Http404
    is_member = bool(membership and membership.status == MembershipStatus.ACTIVE)
    member_names = []
    if is_member:
        member_names = [
            m.user.real_name or _("(no name)")
            for m in organisation.memberships.filter(status=MembershipStatus.ACTIVE).select_related("user")
        ]
    upcoming = organisation.activities.filter(end__gte=timezone.now()).select_related("village").order_by("start")
    if not is_admin:
        upcoming = upcoming.filter(status=ActivityStatus.PUBLISHED)
    context = {
        "organisation": organisation,
        "membership": membership,
        "is_admin": is_admin,
        "is_member": is_member,
        "member_names": member_names,
        "member_count": organisation.memberships.filter(status=MembershipStatus.ACTIVE).count(),
        "activities": upcoming[:20],
        "may_decide": may_decide,
        "decision_form": DecisionForm() if may_decide else None,
    }
    response = render(request, "volunteers/organisation_detail.html", context)
    return _no_store(response) if (membership or may_decide) else response


@login_required
def organisation_create(request):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = orgs.organisation_create(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request,
                _(
                    "The organisation is registered. It becomes public once the county civil-affairs office approves it."
                ),
            )
            return redirect(organisation)
    return _no_store(render(request, "volunteers/organisation_form.html", {"form": form}))


@login_required
@require_POST
def organisation_join(request, pk: int):
    organisation = get_object_or_404(Organisation, pk=pk, status=OrganisationStatus.APPROVED)
    try:
        orgs.membership_request(user=request.user, organisation=organisation, request=request)
    except ValidationError as exc:
        _message_error(request, exc)
    else:
        messages.success(request, _("Your request to join has been sent to the organisation's admins."))
    return redirect(organisation)


@method_decorator(login_required, name="dispatch")
class MemberListView(ReasonedExportMixin, ExportMixin, SingleTableMixin, FilterView):
    """An organisation admin's list of members with their phone numbers (personal data: audited, no-store)."""

    export_object_type = "volunteers.membership"
    export_label = "members"

    model = Membership
    table_class = MemberTable
    template_name = "volunteers/member_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "members"
    filterset_class = MemberFilter

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.organisation = orgs.organisation_for_admin(user=request.user, pk=kwargs["pk"], with_counts=True)
        return _no_store(super().dispatch(request, *args, **kwargs))

    def get_queryset(self):
        return orgs.members_for(organisation=self.organisation)

    def get_table_pagination(self, table):
        """The total is already known from the organisation's query (member counts per status): no COUNT."""
        paginate = super().get_table_pagination(table)
        if paginate is not False and (not self.filterset.is_bound or self.filterset.is_valid()):
            status = self.filterset.form.cleaned_data.get("status") if self.filterset.is_bound else None
            counts = self.organisation.member_counts
            paginate["paginator_class"] = KnownCountPaginator
            paginate["count"] = counts[status] if status else sum(counts.values())
        return paginate

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return MemberExportTable
        return super().get_table_class()

    def get(self, request, *args, **kwargs):
        if not request.GET.get(self.export_trigger_param):
            audit.record(AuditAction.VIEW, request=request, obj=self.organisation, changes={"page": "members"})
        return super().get(request, *args, **kwargs)

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        # the rows' form actions: one reverse() for the page, not one per row (the table template sees the table)
        table.row_url_prefix = reverse("volunteers:membership-action", args=[self.organisation.pk, 0]).removesuffix(
            "0/"
        )
        return table

    def get_context_data(self, **kwargs):
        return super().get_context_data(organisation=self.organisation, **kwargs)


@login_required
@require_POST
def membership_action(request, pk: int, membership_pk: int):
    organisation = orgs.organisation_for_admin(user=request.user, pk=pk)
    membership = get_object_or_404(
        Membership.objects.select_related("organisation"), pk=membership_pk, organisation=organisation
    )
    action = request.POST.get("action")
    try:
        if action in ("accept", "decline"):
            orgs.membership_decide(
                actor=request.user, membership=membership, accept=action == "accept", request=request
            )
        elif action in ("make_admin", "remove_admin"):
            orgs.membership_set_admin(
                actor=request.user, membership=membership, is_admin=action == "make_admin", request=request
            )
        else:
            raise Http404
    except ValidationError as exc:
        _message_error(request, exc)
    else:
        messages.success(request, _("Saved."))
    return redirect("volunteers:organisation-members", pk=organisation.pk)


class OrganisationReviewView(ScopedViewMixin, SingleTableMixin, FilterView):
    """The county officer's queue: organisations in their county, pending first."""

    model = Organisation
    allowed_roles = (RoleKind.COUNTY_OFFICER,)
    scope_field = "region"
    table_class = OrganisationReviewTable
    template_name = "volunteers/organisation_review.html"
    filterset_class = ReviewFilter

    def get_queryset(self):
        return self.scope(Organisation.objects.select_related("kind", "region__parent__parent")).order_by(
            "status", "-created_at"
        )


@login_required
@require_POST
def organisation_decide(request, pk: int):
    queryset = scope_queryset(
        request.user, Organisation.objects.all(), region_field="region", roles=[RoleKind.COUNTY_OFFICER]
    )
    organisation = get_object_or_404(queryset, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            orgs.organisation_decide(
                actor=request.user, organisation=organisation, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            _message_error(request, exc)
        else:
            messages.success(request, _("The decision is saved."))
    else:
        messages.error(request, _("Choose a decision."))
    return redirect(organisation)


# --- activities -----------------------------------------------------------------------------------


class ActivityListView(ExportMixin, SingleTableMixin, FilterView):
    """Upcoming published activities of approved organisations."""

    table_class = ActivityTable
    filterset_class = ActivityFilter
    template_name = "volunteers/activity_list.html"
    export_formats = ("csv", "xlsx")
    export_name = "activities"

    def get_queryset(self):
        return acts.activities_public().filter(end__gte=timezone.now())

    def get_table_class(self):
        if self.request.GET.get(self.export_trigger_param):
            return ActivityExportTable
        return super().get_table_class()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        query.pop("sort", None)
        context["ics_url"] = reverse("volunteers:activity-ics") + (f"?{query.urlencode()}" if query else "")
        return context


def _ics_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r", "").replace("\n", "\\n")


def activity_ics(request):
    """iCalendar feed of upcoming published activities (same filters as the list)."""
    queryset = acts.activities_public().filter(end__gte=timezone.now())
    activities = ActivityFilter(request.GET, queryset=queryset, request=request).qs[:500]
    stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    host = request.get_host().split(":")[0]
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//guanai//activities//ZH", "CALSCALE:GREGORIAN"]
    for activity in activities:
        lines += [
            "BEGIN:VEVENT",
            f"UID:activity-{activity.pk}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{activity.start.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}",
            f"DTEND:{activity.end.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{_ics_escape(activity.title)}",
            f"LOCATION:{_ics_escape(activity.place)}",
            f"DESCRIPTION:{_ics_escape(activity.description[:500])}",
            f"URL:{request.build_absolute_uri(activity.get_absolute_url())}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    response = HttpResponse("\r\n".join(lines) + "\r\n", content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="activities.ics"'
    return response


def activity_detail(request, pk: int):
    activity = acts.activity_visible(user=request.user, pk=pk)
    user = request.user
    is_admin = orgs.is_org_admin(user=user, organisation=activity.organisation)
    signup = None
    if user.is_authenticated:
        signup = activity.signups.filter(user=user, status=SignupStatus.SIGNED_UP).first()
    now = timezone.now()
    context = {
        "activity": activity,
        "is_admin": is_admin,
        "signup": signup,
        "open": activity.status == ActivityStatus.PUBLISHED and now <= activity.signup_deadline,
        "started": activity.start <= now,
        "refusal": None if signup else acts.join_refusal(user, activity),
        "signups": activity.signups.filter(status=SignupStatus.SIGNED_UP).select_related("user") if is_admin else [],
    }
    response = render(request, "volunteers/activity_detail.html", context)
    return _no_store(response) if user.is_authenticated else response


@require_POST
def activity_signup(request, pk: int):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("volunteers:activity-detail", args=[pk]))
    activity = acts.activity_visible(user=request.user, pk=pk)
    try:
        acts.activity_signup(user=request.user, activity=activity, request=request)
    except ValidationError as exc:
        _message_error(request, exc)
    else:
        messages.success(request, _("You are signed up. We will send you a reminder the day before."))
    return redirect(activity)


@login_required
@require_POST
def activity_withdraw(request, pk: int):
    activity = acts.activity_visible(user=request.user, pk=pk)
    try:
        acts.activity_withdraw(user=request.user, activity=activity, request=request)
    except ValidationError as exc:
        _message_error(request, exc)
    else:
        messages.success(request, _("You have withdrawn from the activity."))
    return redirect(activity)


@login_required
def activity_create(request, pk: int):
    organisation = orgs.organisation_for_admin(user=request.user, pk=pk)
    form = ActivityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            activity = acts.activity_create(
                actor=request.user, organisation=organisation, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The activity is saved as a draft. Publish it when it is ready."))
            return redirect(activity)
    context = {"form": form, "organisation": organisation, "activity": None}
    return _no_store(render(request, "volunteers/activity_form.html", context))


@login_required
def activity_edit(request, pk: int):
    activity = acts.activity_for_admin(user=request.user, pk=pk)
    if request.method == "POST":
        form = ActivityForm(request.POST)
        if form.is_valid():
            try:
                acts.activity_update(actor=request.user, activity=activity, request=request, **form.cleaned_data)
            except ValidationError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("The activity is saved."))
                return redirect(activity)
    else:
        form = ActivityForm(initial={name: getattr(activity, name) for name in acts.EDITABLE_FIELDS})
        form.initial["start"] = timezone.localtime(activity.start)
        form.initial["end"] = timezone.localtime(activity.end)
        form.initial["signup_deadline"] = timezone.localtime(activity.signup_deadline)
        form.initial["village"] = activity.village_id
    context = {"form": form, "organisation": activity.organisation, "activity": activity}
    return _no_store(render(request, "volunteers/activity_form.html", context))


@login_required
@require_POST
def activity_status(request, pk: int):
    activity = acts.activity_for_admin(user=request.user, pk=pk)
    try:
        acts.activity_change_status(
            actor=request.user, activity=activity, status=request.POST.get("status", ""), request=request
        )
    except (ValidationError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            _message_error(request, exc)
        else:
            raise Http404 from exc
    else:
        messages.success(request, _("The activity's status is changed."))
    return redirect(activity)


@login_required
def activity_attendance(request, pk: int):
    activity = acts.activity_for_admin(user=request.user, pk=pk)
    signups = list(activity.signups.filter(status=SignupStatus.SIGNED_UP).select_related("user"))
    form = AttendanceForm(request.POST or None, signups=signups, default_minutes=activity.minutes)
    if request.method == "POST" and form.is_valid():
        try:
            acts.attendance_mark(actor=request.user, activity=activity, marks=form.marks(), request=request)
        except ValidationError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Attendance is saved."))
            return redirect(activity)
    audit.record(AuditAction.VIEW, request=request, obj=activity, changes={"page": "attendance"})
    return _no_store(render(request, "volunteers/activity_attendance.html", {"activity": activity, "form": form}))
