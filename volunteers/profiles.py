"""Volunteer profiles: sign-up, real-name details, the professional profile, and the giver's own reads."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.identity import check_agrees, keyed_hash, parse_resident_id
from portal.models import AuditAction, Region, RegionLevel, RoleKind
from portal.scoping import scope_prefixes, scope_queryset
from portal.signals import account_closing
from volunteers.models import (
    DAY_TIMES,
    MAX_PAIRED_ELDERS,
    WEEKDAYS,
    ActivitySignup,
    GiverKind,
    Membership,
    MembershipStatus,
    Organisation,
    Qualification,
    SignupStatus,
    VolunteerProfile,
    deliverable_items,
)

ALREADY_VOLUNTEER = _("You already have a volunteer profile.")
NOT_A_VILLAGE = _("Choose a village or community from the list.")
TOO_MANY_ELDERS = _("You can pair with at most %(max)s elders.")
BAD_DAY = _("Choose days of the week from the list.")
DUPLICATE_ID = _("This ID number is already registered to another volunteer.")
QUALIFICATION_NEEDS_SOCIAL_WORKER = _("Only a social worker has a professional qualification.")
CERTIFICATE_REQUIRED = _("Enter the certificate number of your qualification.")


def _check_basics(*, village: Region, available_days, available_times, max_elders: int) -> None:
    if village is None or village.level != RegionLevel.VILLAGE:
        raise ValidationError({"village": NOT_A_VILLAGE})
    if not 0 <= max_elders <= MAX_PAIRED_ELDERS:
        raise ValidationError({"max_elders": ValidationError(TOO_MANY_ELDERS, params={"max": MAX_PAIRED_ELDERS})})
    if not set(available_days) <= {d for d, _l in WEEKDAYS} or not set(available_times) <= {t for t, _l in DAY_TIMES}:
        raise ValidationError({"available_days": BAD_DAY})


@transaction.atomic
def profile_create(
    *,
    user,
    kind: str,
    village: Region,
    skills=(),
    available_days: list[str] = (),
    available_times: list[str] = (),
    max_elders: int = 1,
    about: str = "",
    request=None,
) -> VolunteerProfile:
    """Sign a user up as a volunteer, social worker or mutual-aid helper."""
    if VolunteerProfile.objects.filter(user=user).exists():
        raise ValidationError(ALREADY_VOLUNTEER, code="already_volunteer")
    _check_basics(
        village=village, available_days=available_days, available_times=available_times, max_elders=max_elders
    )
    profile = VolunteerProfile(
        user=user,
        kind=GiverKind(kind),
        village=village,
        available_days=sorted(set(available_days)),
        available_times=[t for t, _l in DAY_TIMES if t in available_times],
        max_elders=max_elders,
        about=about.strip(),
    )
    profile.full_clean(exclude=["skills"])
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError as exc:  # a second tab submitted at the same moment
        raise ValidationError(ALREADY_VOLUNTEER, code="already_volunteer") from exc
    profile.skills.set(skills)
    audit.record(AuditAction.CREATE, request=request, actor=user, obj=profile, changes={"kind": kind})
    return profile


@transaction.atomic
def profile_update(
    *,
    profile: VolunteerProfile,
    kind: str,
    village: Region,
    skills=(),
    available_days: list[str] = (),
    available_times: list[str] = (),
    max_elders: int = 1,
    about: str = "",
    request=None,
) -> VolunteerProfile:
    _check_basics(
        village=village, available_days=available_days, available_times=available_times, max_elders=max_elders
    )
    profile.kind = GiverKind(kind)
    if profile.kind != GiverKind.SOCIAL_WORKER:
        profile.qualification = ""
    profile.village = village
    profile.available_days = sorted(set(available_days))
    profile.available_times = [t for t, _l in DAY_TIMES if t in available_times]
    profile.max_elders = max_elders
    profile.about = about.strip()
    profile.full_clean(exclude=["skills"])
    profile.save()
    profile.skills.set(skills)
    audit.record(AuditAction.CHANGE, request=request, obj=profile, actor=profile.user, changes={"fields": "profile"})
    return profile


@transaction.atomic
def profile_set_identity(
    *,
    profile: VolunteerProfile,
    sex: str,
    birth_date: datetime.date,
    resident_id: str,
    request=None,
) -> VolunteerProfile:
    """Record the real-name details: the ID number must be valid, agree with birth date and sex, and be unused."""
    number, _birth, _sex = parse_resident_id(resident_id)
    check_agrees(number, birth_date=birth_date, sex=sex)
    digest = keyed_hash(number)
    if VolunteerProfile.objects.filter(resident_id_hash=digest).exclude(pk=profile.pk).exists():
        raise ValidationError({"resident_id": DUPLICATE_ID}, code="duplicate_id")
    profile.sex, profile.birth_date = sex, birth_date
    profile.resident_id, profile.resident_id_hash = number, digest
    try:
        with transaction.atomic():
            profile.save(update_fields=["sex", "birth_date", "resident_id", "resident_id_hash", "updated_at"])
    except IntegrityError as exc:
        raise ValidationError({"resident_id": DUPLICATE_ID}, code="duplicate_id") from exc
    # never the number itself in the audit trail
    audit.record(AuditAction.CHANGE, request=request, actor=profile.user, obj=profile, changes={"fields": "identity"})
    return profile


@transaction.atomic
def profile_set_professional(
    *,
    profile: VolunteerProfile,
    qualification: str,
    certificate_number: str,
    employer: str = "",
    request=None,
) -> VolunteerProfile:
    """The social worker's professional profile: it unlocks professional service items."""
    if profile.kind != GiverKind.SOCIAL_WORKER and qualification:
        raise ValidationError({"qualification": QUALIFICATION_NEEDS_SOCIAL_WORKER})
    if qualification and not certificate_number.strip():
        raise ValidationError({"certificate_number": CERTIFICATE_REQUIRED})
    profile.qualification = Qualification(qualification) if qualification else ""
    profile.certificate_number = certificate_number.strip()
    profile.employer = employer.strip()
    profile.full_clean(exclude=["skills"])
    profile.save(update_fields=["qualification", "certificate_number", "employer", "updated_at"])
    audit.record(
        AuditAction.CHANGE, request=request, actor=profile.user, obj=profile, changes={"fields": "professional"}
    )
    return profile


def service_items_for(profile: VolunteerProfile | None) -> QuerySet:
    """The published service items a giver may deliver: professional ones only for a qualified social worker."""
    items = deliverable_items()
    if profile is None or not profile.is_professional:
        items = items.filter(professional=False)
    return items


# --- the giver's own page -------------------------------------------------------------------------


def giver_organisations(*, user) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .exclude(status=MembershipStatus.DECLINED)
        .select_related("organisation__kind", "organisation__region")
        .order_by("-is_admin", "organisation__name")
    )


def giver_signups(*, user) -> QuerySet[ActivitySignup]:
    return (
        ActivitySignup.objects.filter(user=user, status=SignupStatus.SIGNED_UP)
        .select_related("activity__village", "activity__organisation")
        .order_by("-activity__start")
    )


def giver_attended_minutes(*, user) -> int:
    return ActivitySignup.objects.filter(user=user, attended=True).aggregate(total=Sum("minutes"))["total"] or 0


# --- the staff's list of givers -------------------------------------------------------------------

# Who may list givers: the officers over their home villages (read-only supervisors included), and a
# village's liaison for that village. Region administrators grant roles; they do not read people's data.
STAFF_LIST_ROLES = (
    RoleKind.VILLAGE_LIAISON,
    RoleKind.TOWNSHIP_OFFICER,
    RoleKind.COUNTY_OFFICER,
    RoleKind.SUPERVISOR,
)


def organisations_for_staff(user) -> QuerySet[Organisation]:
    """Organisations a staff member may filter givers by: those based in their scope, and the townships'
    own organisations above it (a village liaison's volunteers often belong to the township's team)."""
    prefixes = scope_prefixes(user, STAFF_LIST_ROLES)
    queryset = Organisation.objects.only("pk", "name", "region_id").order_by("name", "pk")
    if prefixes is None:
        return queryset
    townships = {p[:9].ljust(12, "0") for p in prefixes if len(p) > 9}
    in_scope = scope_queryset(user, queryset, region_field="region", roles=STAFF_LIST_ROLES)
    return queryset.filter(Q(pk__in=in_scope.values("pk")) | Q(region_id__in=townships))


@receiver(account_closing)
def profile_erase_on_account_close(sender, *, user, request=None, **kwargs):
    """A closed account keeps no giver profile details: ID, birth date, qualification, about, employer; it
    offers no more places, so no matching proposes it again."""
    VolunteerProfile.objects.filter(user=user).update(
        resident_id="",
        resident_id_hash=None,
        sex="",
        birth_date=None,
        about="",
        certificate_number="",
        employer="",
        qualification="",
        max_elders=0,
    )
