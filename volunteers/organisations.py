"""Organisations (老年协会, 志愿服务队…): registration, approval by the county officer, membership."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction, Region, RegionLevel, RoleKind
from portal.phone import clean_phone
from portal.scoping import in_scope
from volunteers.models import (
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
)

# GB 32100-2015: 18 characters from 31 (no I, O, Z, S, V); the last is a check character.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
CREDIT_RE = re.compile(rf"^[{CREDIT_CHARS}]{{18}}$")

DEFAULT_KINDS = [
    ("laonian-xiehui", "老年协会"),
    ("zhiyuan-fuwudui", "志愿服务队"),
    ("shehui-gongzuozhan", "社会工作站"),
    ("weilao-fuwu-jigou", "为老服务机构"),
    ("huzhu-xingfuyuan", "互助幸福院"),
    ("nongcun-laofanzhuo", "农村老饭桌"),
]

INVALID_CREDIT_FORMAT = _(
    "A unified social credit code has 18 characters: digits and capital letters except I, O, Z, S, V."
)
INVALID_CREDIT_CHECK = _("The unified social credit code's check character is wrong; please check the code.")
DUPLICATE_CREDIT = _("An organisation with this unified social credit code is already registered.")
BAD_REGION = _("Choose the village or township where the organisation is based.")
NOT_COUNTY_OFFICER = _("Only the county civil-affairs officer over this organisation's county can decide on it.")
REASON_REQUIRED = _("Give the reason, so the organisation knows what to change.")
BAD_TRANSITION = _("This organisation cannot go from “%(from)s” to “%(to)s”.")
ALREADY_MEMBER = _("You are already a member or have already asked to join.")
NOT_PUBLIC = _("This organisation is not approved yet; nobody can join it.")
NOT_ORG_ADMIN = _("Only the organisation's admins can do this.")
LAST_ADMIN = _("An organisation needs at least one admin; appoint another before stepping down.")
NOT_PENDING = _("This request has already been decided.")
NOT_MEMBER = _("Only an accepted member can be made an admin.")

# from → allowed targets
TRANSITIONS = {
    OrganisationStatus.PENDING: {OrganisationStatus.APPROVED, OrganisationStatus.REJECTED},
    OrganisationStatus.APPROVED: {OrganisationStatus.SUSPENDED},
    OrganisationStatus.SUSPENDED: {OrganisationStatus.APPROVED},
    OrganisationStatus.REJECTED: {OrganisationStatus.APPROVED},
}


def credit_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def validate_credit_code(raw: str | None) -> str:
    """Normalise (upper case, no spaces) and check a 统一社会信用代码; '' stays ''."""
    value = re.sub(r"\s", "", raw or "").upper()
    if not value:
        return ""
    if not CREDIT_RE.match(value):
        raise ValidationError(INVALID_CREDIT_FORMAT, code="credit_format")
    if credit_check_char(value[:17]) != value[17]:
        raise ValidationError(INVALID_CREDIT_CHECK, code="credit_check")
    return value


@transaction.atomic
def kinds_ensure() -> list[OrganisationKind]:
    """Create the default organisation kinds if missing (idempotent; never renames edited ones)."""
    return [
        OrganisationKind.objects.get_or_create(slug=slug, defaults={"name": name, "sort_order": order})[0]
        for order, (slug, name) in enumerate(DEFAULT_KINDS, start=1)
    ]


# --- reads ----------------------------------------------------------------------------------------


def organisations_public() -> QuerySet[Organisation]:
    return organisations_public_base().select_related("kind", "region__parent__parent")


def organisations_directory() -> QuerySet[Organisation]:
    """The public directory's rows: name, kind and the place's names, in one query of only those columns.

    `only()` keeps the rows small (no descriptions, contacts or audit columns), and the pagination COUNT
    stays a count of organisations alone: select_related joins are dropped from it.
    """
    return (
        organisations_public_base()
        .select_related("kind", "region__parent__parent")
        .only(
            "name",
            "kind__name",
            "region__name",
            "region__level",
            "region__parent__name",
            "region__parent__parent__name",
        )
    )


def organisations_public_base() -> QuerySet[Organisation]:
    return Organisation.objects.filter(status=OrganisationStatus.APPROVED)


def membership_of(*, user, organisation: Organisation) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, organisation=organisation).first()


def is_org_admin(*, user, organisation: Organisation) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(
        user=user, organisation=organisation, is_admin=True, status=MembershipStatus.ACTIVE
    ).exists()


def organisation_for_admin(*, user, pk: int, with_counts: bool = False) -> Organisation:
    """The organisation if `user` is one of its admins; 404 for anyone else (it is not theirs to know).

    One query on the normal path: the organisation joined with the user's admin membership. With
    `with_counts`, the same query also counts the members per status (`member_counts`), so the member
    list's pagination needs no COUNT of its own.
    """
    if getattr(user, "is_authenticated", False):
        queryset = Organisation.objects.select_related("kind", "region").filter(
            pk=pk, memberships__user=user, memberships__is_admin=True, memberships__status=MembershipStatus.ACTIVE
        )
        if with_counts:
            counted = Membership.objects.filter(organisation_id=pk)
            queryset = queryset.annotate(
                **{
                    f"members_{status}": counted.filter(status=status)
                    .order_by()
                    .values("organisation_id")
                    .annotate(n=Count("pk"))
                    .values("n")
                    for status in MembershipStatus.values
                }
            )
        organisation = queryset.first()
        if organisation is not None and with_counts:
            organisation.member_counts = {
                status: getattr(organisation, f"members_{status}") or 0 for status in MembershipStatus.values
            }
        if organisation is not None:
            return organisation
        if Membership.objects.filter(organisation_id=pk, user=user, status=MembershipStatus.ACTIVE).exists():
            raise PermissionDenied(NOT_ORG_ADMIN)
    raise Http404


def members_for(*, organisation: Organisation) -> QuerySet[Membership]:
    return organisation.memberships.select_related("user").order_by("-is_admin", "status", "created_at")


def may_decide(user, organisation: Organisation) -> bool:
    return bool(user.is_superuser or in_scope(user, organisation.region, roles=[RoleKind.COUNTY_OFFICER]))


# --- writes ---------------------------------------------------------------------------------------


@transaction.atomic
def organisation_create(
    *,
    actor,
    name: str,
    kind: OrganisationKind,
    region: Region,
    contact_name: str,
    contact_phone: str,
    address: str = "",
    credit_code: str = "",
    description: str = "",
    request=None,
) -> Organisation:
    """Register an organisation (pending approval); the person registering it becomes its first admin."""
    if region is None or region.level not in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise ValidationError({"region": BAD_REGION})
    credit_code = validate_credit_code(credit_code)
    if credit_code and Organisation.objects.filter(credit_code=credit_code).exists():
        raise ValidationError({"credit_code": DUPLICATE_CREDIT})
    organisation = Organisation(
        name=" ".join(name.split()),
        kind=kind,
        region=region,
        address=address.strip(),
        contact_name=contact_name.strip(),
        contact_phone=clean_phone(contact_phone),
        credit_code=credit_code,
        description=description.strip(),
        created_by=actor,
    )
    organisation.full_clean()
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError as exc:
        raise ValidationError({"credit_code": DUPLICATE_CREDIT}) from exc
    Membership.objects.create(
        organisation=organisation, user=actor, status=MembershipStatus.ACTIVE, is_admin=True, decided_at=timezone.now()
    )
    audit.record(AuditAction.CREATE, request=request, actor=actor, obj=organisation)
    return organisation


@transaction.atomic
def organisation_decide(*, actor, organisation: Organisation, status: str, reason: str = "", request=None):
    """Approve, reject (with reason) or suspend (with reason): the county officer over its region only."""
    if not may_decide(actor, organisation):
        raise PermissionDenied(NOT_COUNTY_OFFICER)
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    target = OrganisationStatus(status)
    current = OrganisationStatus(organisation.status)
    if target not in TRANSITIONS[current]:
        raise ValidationError(BAD_TRANSITION, code="bad_transition", params={"from": current.label, "to": target.label})
    reason = reason.strip()
    if target in (OrganisationStatus.REJECTED, OrganisationStatus.SUSPENDED) and not reason:
        raise ValidationError({"reason": REASON_REQUIRED})
    organisation.status = target
    organisation.status_reason = reason if target != OrganisationStatus.APPROVED else ""
    organisation.decided_by = actor
    organisation.decided_at = timezone.now()
    organisation.save(update_fields=["status", "status_reason", "decided_by", "decided_at"])
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=organisation,
        changes={"status": [current.value, target.value], "reason": reason},
    )
    return organisation


@transaction.atomic
def membership_request(*, user, organisation: Organisation, request=None) -> Membership:
    """Ask to join; a declined request may ask again."""
    if organisation.status != OrganisationStatus.APPROVED:
        raise ValidationError(NOT_PUBLIC, code="not_public")
    existing = Membership.objects.select_for_update().filter(user=user, organisation=organisation).first()
    if existing and existing.status != MembershipStatus.DECLINED:
        raise ValidationError(ALREADY_MEMBER, code="already_member")
    if existing:
        existing.status, existing.decided_at = MembershipStatus.PENDING, None
        existing.save(update_fields=["status", "decided_at"])
        membership = existing
    else:
        try:
            with transaction.atomic():
                membership = Membership.objects.create(user=user, organisation=organisation)
        except IntegrityError as exc:
            raise ValidationError(ALREADY_MEMBER, code="already_member") from exc
    audit.record(AuditAction.CREATE, request=request, actor=user, obj=membership)
    return membership


def _check_admin(actor, membership: Membership) -> None:
    if not is_org_admin(user=actor, organisation=membership.organisation):
        raise Http404


@transaction.atomic
def membership_decide(*, actor, membership: Membership, accept: bool, request=None) -> Membership:
    _check_admin(actor, membership)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.status != MembershipStatus.PENDING:
        raise ValidationError(NOT_PENDING, code="not_pending")
    membership.status = MembershipStatus.ACTIVE if accept else MembershipStatus.DECLINED
    membership.decided_at = timezone.now()
    membership.save(update_fields=["status", "decided_at"])
    audit.record(
        AuditAction.CHANGE, request=request, actor=actor, obj=membership, changes={"status": membership.status}
    )
    return membership


@transaction.atomic
def membership_set_admin(*, actor, membership: Membership, is_admin: bool, request=None) -> Membership:
    _check_admin(actor, membership)
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if is_admin and membership.status != MembershipStatus.ACTIVE:
        raise ValidationError(NOT_MEMBER, code="not_member")
    if not is_admin:
        admins = Membership.objects.select_for_update().filter(
            organisation_id=membership.organisation_id, is_admin=True
        )
        if admins.exclude(pk=membership.pk).count() == 0:
            raise ValidationError(LAST_ADMIN, code="last_admin")
    membership.is_admin = is_admin
    membership.save(update_fields=["is_admin"])
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=membership, changes={"is_admin": is_admin})
    return membership
