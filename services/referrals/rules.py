"""Messages and checks of the referrals."""

from django.utils.translation import gettext_lazy as _

from portal.models import RoleKind
from portal.scoping import can_write, in_scope, staff_roles

# Who refers (from an alert or a visit of their area).
REFERRER_ROLES = (RoleKind.VILLAGE_LIAISON, RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER)
# Who reads the referrals of their villages.
AREA_READER_ROLES = REFERRER_ROLES + (RoleKind.SUPERVISOR,)
LIST_ROLES = AREA_READER_ROLES + (RoleKind.DEPARTMENT,)

NOT_REFERRER = _("Only the liaison or an officer over this village refers a case.")
NOT_DEPARTMENT = _("Only the receiving department answers a referral.")
NO_SOURCE = _("A referral starts from an alert about an elder or from a visit.")
REASON_REQUIRED = _("Say what the receiving unit should know.")
OUTCOME_REQUIRED = _("Say what was done.")
WRONG_STEP = _("This referral is “%(status)s”; that step is not possible now.")
BAD_LEVEL = _("Choose whether the township's or the county's unit receives it.")


def may_refer(user, village_code: str) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return in_scope(user, village_code, roles=REFERRER_ROLES) and can_write(user)


def is_receiver(user, referral) -> bool:
    """A department role held over the referral's receiving region (its own region or one above it)."""
    code = referral.department_region_id
    return any(r.role == RoleKind.DEPARTMENT and code.startswith(r.prefix) for r in staff_roles(user))
