"""Reads of the elder ledger: the elders a user may see or edit, masking, change snapshots and diffs, and the
family-duty findings (supporters reminded again and again)."""

import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.identity import mask_resident_id
from portal.models import Region, RegionLevel, RoleKind
from portal.phone import mask_phone
from portal.scoping import can_write, in_scope, scope_queryset, staff_roles
from services.ledger.models import (
    Elder,
)

STALE_EDIT = _(
    "Someone else saved this elder while you were editing, so your changes are not saved yet. "
    "What they changed is listed below and your input is still in the form: check it and save again."
)
DUPLICATE_ID = _("An elder with this ID number is already on the ledger.")
VILLAGE_OUT_OF_SCOPE = _("This village is outside your area.")
NOT_A_VILLAGE = _("Choose a village or community, not a township or county.")
READ_ONLY = _("Your role may only read; it cannot change records.")
REASON_REQUIRED = _("Give the reason for the change of status.")
STATUS_UNCHANGED = _("The elder already has this status.")
ONE_PRIMARY = _("An elder has one primary contact; this one replaces the previous one.")

# Fields a liaison keeps on the ledger (history records each of them).
LEDGER_FIELDS = (
    "name",
    "gender",
    "birth_date",
    "id_number",
    "village",
    "address",
    "phone",
    "income_sources",
    "family_structure",
    "children_count",
    "living_arrangement",
    "health",
    "ability_level",
    "economic_status",
    "care_situation",
    "left_behind_basis",
    "difficulties",
    "family_doctor_signed",
    "fire_safety_needed",
    "smoke_alarm",
    "sprinkler",
)
MASKERS = {"id_number": mask_resident_id, "phone": mask_phone}

# Roles who may see an elder's full ID number and phone, on the detail page only: the people who act on
# them (the village's liaison, the township and county officers over it). Supervisors and region
# administrators oversee the work and see them masked, like everyone in lists and exports.
FULL_IDENTITY_ROLES = (RoleKind.VILLAGE_LIAISON, RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER)
WRITE_ROLES = (RoleKind.VILLAGE_LIAISON, RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER, RoleKind.REGION_ADMIN)


# --- selectors -------------------------------------------------------------------------------------


def elders_for(user) -> QuerySet:
    """Every elder the user may see (all statuses). Each elder lookup goes through here."""
    return scope_queryset(user, Elder.objects.all(), region_field="village")


def can_see_full_identity(user, elder: Elder) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return in_scope(user, elder.village_id, roles=FULL_IDENTITY_ROLES)


def can_edit(user, village: Region | str) -> bool:
    """May the user change elders of this village (a write role covering it)?"""
    if getattr(user, "is_superuser", False):
        return True
    return can_write(user) and in_scope(user, village, roles=WRITE_ROLES)


def writable_villages(user) -> QuerySet:
    return scope_queryset(
        user, Region.objects.filter(level=RegionLevel.VILLAGE), region_field="self", roles=WRITE_ROLES
    )


def mask_value(field: str, value: Any) -> Any:
    if field in MASKERS:
        return MASKERS[field](value or "")
    return value


def plain(field: str, value: Any) -> Any:
    """A JSON-safe, masked value for history and audit."""
    if isinstance(value, Region):
        value = value.code
    elif isinstance(value, datetime.date):
        value = value.isoformat()
    return mask_value(field, value)


def snapshot(elder: Elder) -> dict[str, Any]:
    return {f: plain(f, getattr(elder, "village_id" if f == "village" else f)) for f in LEDGER_FIELDS}


def diff(before: dict, after: dict) -> dict[str, list]:
    return {f: [before.get(f), after.get(f)] for f in after if before.get(f) != after.get(f)}


def _raw_diff(elder: Elder, data: dict) -> dict[str, list]:
    """Changes between the stored elder and the submitted values, compared in clear, recorded masked."""
    changes = {}
    for field, new in data.items():
        old = getattr(elder, "village" if field == "village" else field)
        if field == "village":
            old, new = elder.village_id, (new.code if isinstance(new, Region) else new)
        if old != new:
            changes[field] = [plain(field, old), plain(field, new)]
    return changes


def duty_repeat_settings() -> tuple[int, int]:
    """(threshold, months): supporters reminded this many times within so many months are listed."""
    return (
        int(getattr(settings, "LEDGER_DUTY_REPEAT_COUNT", 2)),
        int(getattr(settings, "LEDGER_DUTY_REPEAT_MONTHS", 12)),
    )


def repeated_duty_findings(user, *, threshold: int | None = None, months: int | None = None) -> QuerySet:
    """Elders in scope whose supporters were reminded `threshold`+ times in the last `months` months."""
    default_threshold, default_months = duty_repeat_settings()
    threshold = threshold or default_threshold
    months = months or default_months
    since = timezone.now() - datetime.timedelta(days=round(months * 30.44))
    window = Q(duty_reminders__reminded_at__gte=since)
    return (
        elders_for(user)
        .annotate(
            reminder_count=Count("duty_reminders", filter=window),
            last_reminder_at=Max("duty_reminders__reminded_at", filter=window),
        )
        .filter(reminder_count__gte=threshold)
        .select_related("village__parent")
        .order_by("-reminder_count", "-last_reminder_at")
    )


def staff_summary(user) -> str:
    return "；".join(f"{r.get_role_display()} · {r.region.name}" for r in staff_roles(user))
