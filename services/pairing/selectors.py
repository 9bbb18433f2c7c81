"""Reads of pairing: the pairings, runs and needs a user may see, a giver's pairings, and the mode of a pairing
(一帮一、多帮一、一帮多)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from portal.scoping import scope_queryset
from services.catalogue.models import ServiceCategory
from services.ledger.models import Elder, ElderStatus
from services.pairing import rules as pairing_rules
from services.pairing import scoring
from services.pairing.models import (
    MatchRun,
    Need,
    Pairing,
    PairingStatus,
)
from volunteers.models import Membership, MembershipStatus


def pairings_for(user) -> QuerySet:
    """Every pairing the staff user may see: those of elders in their area."""
    return scope_queryset(user, Pairing.objects.all(), region_field="elder__village")


def runs_for(user) -> QuerySet:
    return scope_queryset(user, MatchRun.objects.all(), region_field="region", roles=pairing_rules.OFFICER_ROLES)


def needs_for(user) -> QuerySet:
    return scope_queryset(user, Need.objects.all(), region_field="elder__village")


def _organisations_admined(user) -> QuerySet:
    return Membership.objects.filter(user=user, is_admin=True, status=MembershipStatus.ACTIVE).values("organisation_id")


def pairings_for_giver(user) -> QuerySet:
    """The giver's active pairings: their own, and those of organisations they run. Nothing else."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Pairing.objects.none()
    return Pairing.objects.filter(
        Q(giver_user=user) | Q(giver_organisation__in=_organisations_admined(user)),
        status=PairingStatus.ACTIVE,
        elder__status=ElderStatus.ACTIVE,
    )


def is_paired(giver_user, elder: Elder | int, at: datetime.datetime | datetime.date | None = None) -> bool:
    """Was `giver_user` paired with `elder` (in person) at `at` (default: now, active pairings only)?

    For a past moment a pairing counts if it had been accepted (active or ended since) and its period
    covers that day.
    """
    if giver_user is None or not getattr(giver_user, "pk", None):
        return False
    elder_id = elder.pk if isinstance(elder, Elder) else elder
    qs = Pairing.objects.filter(giver_user=giver_user, elder_id=elder_id)
    if at is None:
        return qs.filter(status=PairingStatus.ACTIVE).exists()
    day = timezone.localdate(at) if isinstance(at, datetime.datetime) else at
    return (
        qs.filter(status__in=(PairingStatus.ACTIVE, PairingStatus.ENDED), start_date__lte=day)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=day))
        .exists()
    )


def pairing_modes(pairings: Iterable[Pairing]) -> dict[int, str]:
    """pk → mode for each pairing, from the number of active pairings of its elder and of its giver."""
    pairings = list(pairings)
    elder_ids = {p.elder_id for p in pairings}
    users = {p.giver_user_id for p in pairings if p.giver_user_id}
    orgs = {p.giver_organisation_id for p in pairings if p.giver_organisation_id}
    active = Pairing.objects.filter(status=PairingStatus.ACTIVE)
    per_elder = dict(
        active.filter(elder_id__in=elder_ids)
        .values_list("elder_id")
        .annotate(n=Count("pk"))
        .values_list("elder_id", "n")
    )
    per_user = dict(
        active.filter(giver_user_id__in=users)
        .values_list("giver_user_id")
        .annotate(n=Count("pk"))
        .values_list("giver_user_id", "n")
    )
    per_org = dict(
        active.filter(giver_organisation_id__in=orgs)
        .values_list("giver_organisation_id")
        .annotate(n=Count("pk"))
        .values_list("giver_organisation_id", "n")
    )
    result = {}
    for p in pairings:
        givers = per_elder.get(p.elder_id, 0)
        elders = per_user.get(p.giver_user_id, 0) if p.giver_user_id else per_org.get(p.giver_organisation_id, 0)
        result[p.pk] = pairing_mode(elder_givers=givers, giver_elders=elders)
    return result


def pairing_mode(*, elder_givers: int, giver_elders: int) -> str:
    """多帮一 when the elder has several givers, 一帮多 when the giver has several elders, else 一帮一."""
    if elder_givers > 1:
        return pairing_rules.Mode.MANY_TO_ONE
    if giver_elders > 1:
        return pairing_rules.Mode.ONE_TO_MANY
    return pairing_rules.Mode.ONE_TO_ONE


def reason_labels(codes: Iterable[str], categories: dict[str, str] | None = None) -> list[str]:
    """Translate the scoring reason codes: 同村, 可提供生活照料, 重点对象…"""
    if categories is None:
        categories = dict(ServiceCategory.objects.values_list("slug", "name"))
    fixed = {
        scoring.REASON_SAME_VILLAGE: gettext("same village"),
        scoring.REASON_SAME_TOWNSHIP: gettext("same township"),
        scoring.REASON_SAME_COUNTY: gettext("same county"),
        scoring.REASON_SOCIAL_WORKER: gettext("a qualified social worker"),
        scoring.REASON_AVAILABLE: gettext("available when needed"),
        scoring.REASON_CONTINUING: gettext("keeps an earlier pairing"),
        "priority:key": gettext("key elder (重点)"),
        "priority:attention": gettext("attention elder (关注)"),
    }
    labels = []
    for code in codes:
        if code in fixed:
            labels.append(fixed[code])
        elif code.startswith("covers:"):
            slug = code.split(":", 1)[1]
            labels.append(gettext("covers %(need)s") % {"need": categories.get(slug, slug)})
        else:
            labels.append(code)
    return labels
