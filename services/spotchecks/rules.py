"""Messages and checks of the spot-check call-backs."""

from django.utils.translation import gettext_lazy as _

from portal.models import RegionLevel, RoleKind
from portal.scoping import can_write, in_scope

# Who calls back (and draws): the township or county officer over the village.
CALLER_ROLES = (RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER)
# Who reads the results: the callers and the supervisors above them.
READER_ROLES = (RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER, RoleKind.SUPERVISOR)
DRAW_LEVELS = (RegionLevel.COUNTY, RegionLevel.TOWNSHIP)

NOT_CALLER = _("Only the township or county officer over this village records call-backs.")
NOT_DRAWER = _("Only a township or county officer draws the spot checks of their area.")
NOT_DRAW_LEVEL = _("Spot checks are drawn for a county or a township.")
ALREADY_DONE = _("This call-back is already recorded as “%(outcome)s”.")
UNKNOWN_RESULT = _("Choose what the call-back found.")
NOTE_REQUIRED = _("Say briefly what the elder or family said.")
DISPUTE_REASON = _("Spot-check call-back: the service did not happen")
ALREADY_DRAWN = _("The spot checks of %(region)s for %(month)s were already drawn.")


def may_call(user, village_code: str) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return in_scope(user, village_code, roles=CALLER_ROLES) and can_write(user)


def may_draw(user, region) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return in_scope(user, region, roles=CALLER_ROLES) and can_write(user)
