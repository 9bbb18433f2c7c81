"""Granting and revoking staff roles: only a region administrator, and only inside their own scope."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from . import audit
from .models import ROLE_LEVELS, AuditAction, Region, RegionLevel, RoleKind, StaffRole
from .scoping import has_role, in_scope

NOT_ADMIN = _("Only a region administrator can grant staff roles.")
OUT_OF_SCOPE = _("This region is outside your own scope; you cannot grant roles there.")
WRONG_LEVEL = _("A %(role)s is held at the %(levels)s level, not at a %(level)s.")
ALREADY = _("This user already holds this role in this region.")


def can_grant_in(assigner, region: Region) -> bool:
    if assigner.is_superuser:
        return True
    return in_scope(assigner, region, roles=[RoleKind.REGION_ADMIN])


def staffrole_validate(*, assigner, role: str, region: Region) -> None:
    if not assigner.is_superuser and not in_scope(assigner, region.code, roles=[RoleKind.REGION_ADMIN]):
        if has_role(assigner, RoleKind.REGION_ADMIN):
            raise ValidationError(OUT_OF_SCOPE, code="out_of_scope")
        raise ValidationError(NOT_ADMIN, code="not_admin")
    levels = ROLE_LEVELS[RoleKind(role)]
    if region.level not in levels:
        raise ValidationError(
            WRONG_LEVEL,
            code="wrong_level",
            params={
                "role": RoleKind(role).label,
                "levels": "、".join(str(RegionLevel(lv).label) for lv in sorted(levels)),
                "level": RegionLevel(region.level).label,
            },
        )


@transaction.atomic
def staffrole_grant(*, assigner, user, role: str, region: Region, request=None) -> StaffRole:
    staffrole_validate(assigner=assigner, role=role, region=region)
    if StaffRole.objects.filter(user=user, role=role, region=region).exists():
        raise ValidationError(ALREADY, code="already_held")
    granted = StaffRole.objects.create(user=user, role=role, region=region, granted_by=assigner)
    audit.record(
        AuditAction.GRANT,
        request=request,
        actor=assigner,
        obj=granted,
        changes={"user": user.pk, "role": role, "region": region.code},
    )
    return granted


@transaction.atomic
def staffrole_revoke(*, assigner, staff_role: StaffRole, request=None) -> None:
    if not can_grant_in(assigner, staff_role.region):
        raise PermissionDenied(OUT_OF_SCOPE)
    audit.record(
        AuditAction.REVOKE,
        request=request,
        actor=assigner,
        obj=staff_role,
        changes={"user": staff_role.user_id, "role": staff_role.role, "region": staff_role.region_id},
    )
    staff_role.delete()
