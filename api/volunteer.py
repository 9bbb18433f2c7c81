"""Endpoints for a signed-in giver of care: own profile, activity sign-ups, service records, certificates
and pairings. Every read is the person's own, through the selectors the portal's pages use."""

import datetime
from typing import Literal

from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from django.core.exceptions import ValidationError
from django.http import Http404
from django.urls import reverse

from portal.phone import mask_phone
from portal.scoping import staff_roles
from services.pairing.selectors import pairings_for_giver
from services.records import actions as record_actions
from services.records import certificates as certs
from services.records.forms import RecordForm
from services.records.models import Certificate, RecordKind
from services.records.selectors import records_for
from volunteers.activities import activity_signup, activity_visible, activity_withdraw
from volunteers.checkin import checkin
from volunteers.models import VolunteerProfile
from volunteers.profiles import giver_signups

from .auth import AccessToken
from .errors import errors
from .ids import BodyId, PathId
from .pagination import PagePagination
from .public import ActivityOut, Named, RegionOut

router = Router(tags=["volunteer"], auth=AccessToken())


class RoleOut(Schema):
    role: str
    role_label: str
    region: RegionOut

    @staticmethod
    def resolve_role_label(role):
        return str(role.get_role_display())


class MeOut(Schema):
    id: int
    real_name: str
    phone: str
    roles: list[RoleOut]
    has_volunteer_profile: bool


@router.get("/me", response={200: MeOut, **errors()}, summary="Who is signed in")
def me(request):
    user = request.user
    return {
        "id": user.pk,
        "real_name": user.real_name,
        "phone": mask_phone(user.phone),
        "roles": staff_roles(user),
        "has_volunteer_profile": VolunteerProfile.objects.filter(user=user).exists(),
    }


class ProfileOut(Schema):
    kind: str
    kind_label: str
    village: RegionOut
    available_days: list[str]
    available_times: list[str]
    max_elders: int
    about: str
    qualification: str
    is_professional: bool

    @staticmethod
    def resolve_kind_label(profile):
        return str(profile.get_kind_display())


@router.get("/me/profile", response={200: ProfileOut, **errors()}, summary="My volunteer profile")
def my_profile(request):
    profile = VolunteerProfile.objects.select_related("village").filter(user=request.user).first()
    if profile is None:
        raise Http404
    return profile


class SignupOut(Schema):
    id: int
    status: str
    activity: ActivityOut


@router.get("/me/signups", response={200: list[SignupOut], **errors()}, summary="Activities I signed up for")
@paginate(PagePagination)
def my_signups(request):
    return giver_signups(user=request.user).select_related("activity__village", "activity__organisation")


@router.post(
    "/activities/{activity_id}/signup", response={201: SignupOut, **errors()}, summary="Sign up for an activity"
)
def signup(request, activity_id: PathId):
    activity = activity_visible(user=request.user, pk=activity_id)
    created = activity_signup(user=request.user, activity=activity, request=request)
    return Status(201, giver_signups(user=request.user).get(pk=created.pk))


class DoneOut(Schema):
    ok: bool = True
    message: str = ""


@router.post("/activities/{activity_id}/cancel", response={200: DoneOut, **errors()}, summary="Cancel my sign-up")
def cancel_signup(request, activity_id: PathId):
    activity = activity_visible(user=request.user, pk=activity_id)
    activity_withdraw(user=request.user, activity=activity, request=request)
    return {"ok": True}


class CheckinIn(Schema):
    action: Literal["in", "out"] = Field(description="in: sign in; out: sign out")
    code: str = Field(min_length=1, max_length=300, description="The QR code's token, or the 6 digits on the screen")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class CheckinOut(Schema):
    activity_id: BodyId
    checked_in_at: datetime.datetime | None
    checked_out_at: datetime.datetime | None
    minutes: int | None


@router.post(
    "/activities/{activity_id}/checkin",
    response={200: CheckinOut, **errors()},
    summary="Sign in or out at an activity with the code shown at the door",
)
def checkin_at_the_door(request, activity_id: PathId, payload: CheckinIn):
    """The same rules as the web page (volunteers.checkin): an expired code, another activity's code, a replay,
    sign-out before sign-in or a second sign-in are refused and change nothing."""
    activity = activity_visible(user=request.user, pk=activity_id)
    code = payload.code.strip()
    digits = code if code.isdigit() and len(code) == 6 else ""
    signup = checkin(
        user=request.user,
        activity=activity,
        action=payload.action,
        token="" if digits else code,
        digits=digits,
        latitude=payload.latitude,
        longitude=payload.longitude,
        request=request,
    )
    return {
        "activity_id": activity.pk,
        "checked_in_at": signup.checked_in_at,
        "checked_out_at": signup.checked_out_at,
        "minutes": signup.minutes if signup.checked_out_at else None,
    }


# --- service records -------------------------------------------------------------------------------


class RecordOut(Schema):
    id: int
    kind: str
    status: str
    status_label: str
    service_item: Named | None
    organisation: Named | None
    activity_id: BodyId | None
    elder_name: str
    start: datetime.datetime
    end: datetime.datetime
    minutes: int
    sign: int
    place: str
    content: str
    reason: str

    @staticmethod
    def resolve_status_label(record):
        return str(record.get_status_display())

    @staticmethod
    def resolve_elder_name(record):
        return record.elder.name if record.elder_id else ""


class RecordIn(Schema):
    kind: RecordKind = RecordKind.VOLUNTEER
    service_item: int
    day: datetime.date
    start_time: str = Field(..., pattern=r"^\d{1,2}:\d{2}$", examples=["09:00"])
    end_time: str = Field(..., pattern=r"^\d{1,2}:\d{2}$", examples=["11:30"])
    place: str = Field(..., max_length=200)
    content: str = Field(..., max_length=1000)
    activity: int | None = None
    elder: int | None = None
    organisation: int | None = None


def _my_records(user):
    return records_for(user).filter(giver=user).select_related("service_item", "organisation", "elder")


@router.get("/me/records", response={200: list[RecordOut], **errors()}, summary="My service records")
@paginate(PagePagination)
def my_records(request):
    return _my_records(request.user).order_by("-start", "-pk")


@router.post("/me/records", response={201: RecordOut, **errors()}, summary="Log a piece of service")
def record_create(request, payload: RecordIn):
    """The same checks as the portal's form: the activity must be one I signed up for, the elder one I
    am linked with, the item one I may deliver; then `check_record` (overlaps, future, length…)."""
    data = {k: ("" if v is None else str(v)) for k, v in payload.dict().items()}
    form = RecordForm(data, user=request.user)
    if not form.is_valid():
        raise ValidationError({name: list(messages) for name, messages in form.errors.items()})
    record = record_actions.record_create(actor=request.user, giver=request.user, request=request, **form.record_data())
    return Status(201, _my_records(request.user).get(pk=record.pk))


# --- certificates and pairings ---------------------------------------------------------------------


class CertificateOut(Schema):
    id: int
    serial: str
    code: str
    period_start: datetime.date
    period_end: datetime.date
    total_minutes: int
    issued_at: datetime.datetime
    verify_url: str

    @staticmethod
    def resolve_verify_url(certificate, context):
        path = reverse("volunteers:certificate-verify", args=[certificate.code])
        return context["request"].build_absolute_uri(path)


class CertificateIn(Schema):
    period_start: datetime.date
    period_end: datetime.date


@router.get("/me/certificates", response={200: list[CertificateOut], **errors()}, summary="My certificates")
@paginate(PagePagination)
def my_certificates(request):
    return Certificate.objects.filter(giver=request.user).order_by("-issued_at", "-pk")


@router.post("/me/certificates", response={201: CertificateOut, **errors()}, summary="Issue a certificate")
def certificate_issue(request, payload: CertificateIn):
    """A certificate of my confirmed volunteer service in the period (the PDF is on the portal)."""
    certificate = certs.certificate_issue(
        user=request.user, start=payload.period_start, end=payload.period_end, request=request
    )
    return Status(201, certificate)


class PairingOut(Schema):
    id: int
    elder_name: str
    village: RegionOut
    organisation: Named | None
    start_date: datetime.date | None

    @staticmethod
    def resolve_elder_name(pairing):
        return pairing.elder.name

    @staticmethod
    def resolve_village(pairing):
        return pairing.elder.village

    @staticmethod
    def resolve_organisation(pairing):
        return pairing.giver_organisation


@router.get("/me/pairings", response={200: list[PairingOut], **errors()}, summary="Elders I am paired with")
@paginate(PagePagination)
def my_pairings(request):
    """Active pairings, mine or my organisations'. The elder's name and village only: no ID or phone."""
    return (
        pairings_for_giver(request.user)
        .select_related("elder__village", "giver_organisation")
        .order_by("elder__village_id", "elder__name", "pk")
    )
