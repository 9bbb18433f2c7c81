"""Pairing (结对帮扶): needs, the pairing lifecycle and matching runs.

Every operation is keyword-only and atomic and writes its audit event. The lifecycle:

    proposed ──accept──▶ active ──end (reason)──▶ ended
        └──reject / superseded──▶ declined

`match_run` builds the plain inputs of `services.scoring` from the ORM, solves with
`services.matching.assign` and stores a `MatchRun` with the proposals (or, with ``apply``, active
pairings). How the inputs are built:

* elders: active elders of the region; priority from `Elder.objects.with_priority()`; needs are their
  open `Need` categories (slugs), professional ones apart; **demand** = the number of givers the elder
  should have (重点 2, 关注 1, 一般 1 if they have an open need, else 0) minus the active pairings they
  already have.
* givers: people with a volunteer profile (volunteers, social workers, mutual-aid helpers) living in the
  same county as the region (candidates beyond the county are never generated); **capacity** =
  `max_elders` minus their open pairings; skills = their service categories; availability = days and
  times they gave; social worker = a qualified one (`VolunteerProfile.is_professional`).
* continuity: proposals of earlier runs that this run replaces count as "current" pairs, so running the
  matching twice proposes the same pairs unless something changed.
* pairs already open (active or proposed by hand) are not proposed again.

Organisations are paired by hand (`pairing_propose` with `giver_organisation`), not by the engine: they
have no capacity of their own in the givers' records.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction, Region, RoleKind
from portal.scoping import can_write, has_role, in_scope, scope_queryset
from portal.sms import send_sms

from . import matching, scoring
from .ledger import can_edit
from .models.catalogue import ServiceCategory
from .models.ledger import Elder, ElderStatus, PriorityLevel
from .models.pairing import (
    OPEN_STATUSES,
    EndReason,
    MatchRun,
    MatchRunStatus,
    Need,
    NeedSource,
    Pairing,
    PairingOrigin,
    PairingStatus,
    Urgency,
)

# --- messages (the tests reuse them) ----------------------------------------------------------------

READ_ONLY = _("Your role may not change pairings here.")
OUT_OF_SCOPE = _("This region is outside your area.")
ELDER_NOT_ACTIVE = _("This elder is no longer on the active ledger.")
NEED_DUPLICATE = _("This elder already has an open need in this category.")
NEED_ALREADY_CLOSED = _("This need is already closed.")
BAD_URGENCY = _("Choose how urgent the need is.")
ONE_GIVER = _("Choose exactly one giver: a person or an organisation.")
GIVER_NOT_REGISTERED = _("This person has no volunteer profile; they cannot be paired.")
GIVER_INACTIVE = _("This giver's account is closed.")
ORGANISATION_NOT_APPROVED = _("This organisation is not approved; it cannot be paired.")
GIVER_TOO_FAR = _("The giver lives outside the elder's county.")
GIVER_FULL = _("This giver already has as many elders as they can take.")
PAIRING_DUPLICATE = _("This elder and giver are already paired or proposed.")
NOT_PROPOSED = _("This pairing is no longer a proposal; it was accepted or declined already.")
NOT_ACTIVE = _("This pairing is not active.")
BAD_END_REASON = _("Choose why the pairing ends.")
NOTHING_CHOSEN = _("Choose at least one proposal.")
RUN_FAILED = _("The matching could not be completed: {error}")

# Who may run matching and accept, reject or end pairings: the officers over the elder's village.
OFFICER_ROLES = (RoleKind.TOWNSHIP_OFFICER, RoleKind.COUNTY_OFFICER, RoleKind.REGION_ADMIN)
# Reasons an officer may give by hand (the others are set by the system).
OFFICER_END_REASONS = (EndReason.OFFICER, EndReason.GIVER_LEFT, EndReason.ELDER_MOVED, EndReason.ELDER_DECEASED)
# Elder status → why the pairings end.
ELDER_STATUS_REASON = {
    ElderStatus.MOVED: EndReason.ELDER_MOVED,
    ElderStatus.DECEASED: EndReason.ELDER_DECEASED,
    ElderStatus.NOT_LEFT_BEHIND: EndReason.ELDER_NOT_LEFT_BEHIND,
}
# Givers an elder should have by priority (一般 only when they have an open need).
TARGET_GIVERS = {PriorityLevel.KEY: 2, PriorityLevel.ATTENTION: 1, PriorityLevel.NORMAL: 1}
# Candidates kept per elder (the best by distance, skills, availability, continuity).
CANDIDATES_PER_ELDER = 50
_NOBODY = object()  # stands for any elder of a group: serves nobody yet
# Look beyond the elder's township only when it offers fewer candidates than this.
NEARBY_MIN = 10
# Keep every candidate's score in the run when there are at most this many; else a summary.
KEEP_ALL_SCORES = 2000

SMS_PAIRED = _(
    "You have been paired with an elder in {village} (结对帮扶). Sign in to the care portal to see how to reach them."
)
SMS_ENDED = _("Your pairing with an elder in {village} has ended. Thank you for your care.")


class Mode:
    """一帮一 / 多帮一 / 一帮多, read from the set of active pairings."""

    ONE_TO_ONE = "one_to_one"
    MANY_TO_ONE = "many_to_one"
    ONE_TO_MANY = "one_to_many"
    LABELS = {
        ONE_TO_ONE: _("One helps one (一帮一)"),
        MANY_TO_ONE: _("Many help one (多帮一)"),
        ONE_TO_MANY: _("One helps many (一帮多)"),
    }


# --- permissions and selectors ----------------------------------------------------------------------


def can_confirm(user, village_code: str) -> bool:
    """May the user accept, reject or end pairings of elders in this village (an officer over it)?"""
    if getattr(user, "is_superuser", False):
        return True
    return can_write(user) and in_scope(user, village_code, roles=OFFICER_ROLES)


def can_run(user, region: Region) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return can_write(user) and in_scope(user, region, roles=OFFICER_ROLES)


def can_run_somewhere(user) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    return can_write(user) and has_role(user, *OFFICER_ROLES)


def pairings_for(user) -> QuerySet:
    """Every pairing the staff user may see: those of elders in their area."""
    return scope_queryset(user, Pairing.objects.all(), region_field="elder__village")


def runs_for(user) -> QuerySet:
    return scope_queryset(user, MatchRun.objects.all(), region_field="region", roles=OFFICER_ROLES)


def needs_for(user) -> QuerySet:
    return scope_queryset(user, Need.objects.all(), region_field="elder__village")


def _organisations_admined(user) -> QuerySet:
    from volunteers.models import Membership, MembershipStatus

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
        return Mode.MANY_TO_ONE
    if giver_elders > 1:
        return Mode.ONE_TO_MANY
    return Mode.ONE_TO_ONE


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


# --- needs ------------------------------------------------------------------------------------------


@transaction.atomic
def need_record(
    *,
    actor,
    elder: Elder,
    category: ServiceCategory,
    urgency: str = Urgency.MEDIUM,
    professional: bool = False,
    note: str = "",
    source: str = NeedSource.LIAISON,
    request=None,
) -> Need:
    """Record an elder's need in one service category (one open need per category)."""
    if not can_edit(actor, elder.village_id):
        raise ValidationError(READ_ONLY, code="read_only")
    if elder.status != ElderStatus.ACTIVE:
        raise ValidationError(ELDER_NOT_ACTIVE, code="elder_not_active")
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": ValidationError(BAD_URGENCY, code="bad_urgency")})
    if Need.objects.filter(elder=elder, category=category, closed_at__isnull=True).exists():
        raise ValidationError({"category": ValidationError(NEED_DUPLICATE, code="need_duplicate")})
    need = Need(
        elder=elder,
        category=category,
        urgency=urgency,
        professional=bool(professional),
        note=(note or "").strip(),
        source=source,
        recorded_by=_user(actor),
    )
    need.full_clean()
    try:
        with transaction.atomic():
            need.save()
    except IntegrityError:  # a concurrent submission recorded the same need
        raise ValidationError({"category": ValidationError(NEED_DUPLICATE, code="need_duplicate")}) from None
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=_user(actor),
        obj=need,
        changes={"category": category.slug, "urgency": urgency, "professional": need.professional},
    )
    return need


@transaction.atomic
def need_close(*, actor, need: Need, request=None) -> Need:
    if not can_edit(actor, need.elder.village_id):
        raise ValidationError(READ_ONLY, code="read_only")
    if not Need.objects.filter(pk=need.pk, closed_at__isnull=True).update(closed_at=timezone.now()):
        raise ValidationError(NEED_ALREADY_CLOSED, code="need_closed")
    need.refresh_from_db()
    audit.record(AuditAction.CHANGE, request=request, actor=_user(actor), obj=need, changes={"closed": True})
    return need


# --- the lifecycle ----------------------------------------------------------------------------------


def _user(actor):
    return actor if actor is not None and getattr(actor, "pk", None) else None


def _giver_capacity(giver_user) -> int:
    profile = getattr(giver_user, "volunteer_profile", None)
    return profile.max_elders if profile else 0


def _check_giver(*, elder: Elder, giver_user, giver_organisation) -> None:
    from volunteers.models import OrganisationStatus, VolunteerProfile

    if (giver_user is None) == (giver_organisation is None):
        raise ValidationError(ONE_GIVER, code="one_giver")
    if giver_user is not None:
        if not giver_user.is_active:
            raise ValidationError(GIVER_INACTIVE, code="giver_inactive")
        profile = VolunteerProfile.objects.filter(user=giver_user).only("village_id").first()
        if profile is None:
            raise ValidationError(GIVER_NOT_REGISTERED, code="giver_not_registered")
        home = profile.village_id
    else:
        if giver_organisation.status != OrganisationStatus.APPROVED:
            raise ValidationError(ORGANISATION_NOT_APPROVED, code="organisation_not_approved")
        home = giver_organisation.region_id
    if home[:6] != elder.village_id[:6]:
        raise ValidationError(GIVER_TOO_FAR, code="giver_too_far")


def _open_pairs(giver_user) -> int:
    return Pairing.objects.filter(giver_user=giver_user, status__in=OPEN_STATUSES).count()


@transaction.atomic
def pairing_propose(
    *,
    actor,
    elder: Elder,
    giver_user=None,
    giver_organisation=None,
    categories: Iterable[ServiceCategory] = (),
    request=None,
) -> Pairing:
    """Propose a pairing by hand (an officer adjusting the proposals); accept it with `pairing_accept`."""
    if not can_confirm(actor, elder.village_id):
        raise ValidationError(READ_ONLY, code="read_only")
    if elder.status != ElderStatus.ACTIVE:
        raise ValidationError(ELDER_NOT_ACTIVE, code="elder_not_active")
    _check_giver(elder=elder, giver_user=giver_user, giver_organisation=giver_organisation)
    if giver_user is not None and _open_pairs(giver_user) >= _giver_capacity(giver_user):
        raise ValidationError(GIVER_FULL, code="giver_full")
    pairing = Pairing(
        elder=elder,
        giver_user=giver_user,
        giver_organisation=giver_organisation,
        origin=PairingOrigin.MANUAL,
        status=PairingStatus.PROPOSED,
    )
    try:
        with transaction.atomic():
            pairing.save()
    except IntegrityError:
        raise ValidationError(PAIRING_DUPLICATE, code="pairing_duplicate") from None
    categories = list(categories)
    pairing.categories.set(categories)
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=_user(actor),
        obj=pairing,
        changes={"giver": pairing.giver_key, "categories": [c.slug for c in categories]},
    )
    return pairing


def _notify(pairing: Pairing, template) -> None:
    """One SMS to the giver (the person, or the organisation's contact); no elder details in it."""
    phone = pairing.giver_user.phone if pairing.giver_user_id else pairing.giver_organisation.contact_phone
    if not phone:
        return
    with translation.override(settings.LANGUAGE_CODE):
        send_sms(phone, str(template).format(village=pairing.elder.village.name))


@transaction.atomic
def pairing_accept(*, actor, pairing: Pairing, request=None, notify: bool = True) -> Pairing:
    """Make a proposal active: confirmed by the officer, starting today; the giver is told by SMS.

    The change is one conditional UPDATE (status still proposed), so a replayed or concurrent accept
    changes nothing and gets NOT_PROPOSED.
    """
    elder = pairing.elder
    if not can_confirm(actor, elder.village_id):
        raise ValidationError(READ_ONLY, code="read_only")
    if elder.status != ElderStatus.ACTIVE:
        raise ValidationError(ELDER_NOT_ACTIVE, code="elder_not_active")
    if pairing.giver_user_id:
        giver = pairing.giver_user
        if not giver.is_active:
            raise ValidationError(GIVER_INACTIVE, code="giver_inactive")
        active = Pairing.objects.filter(giver_user_id=pairing.giver_user_id, status=PairingStatus.ACTIVE).count()
        if active >= _giver_capacity(giver):
            raise ValidationError(GIVER_FULL, code="giver_full")
    now = timezone.now()
    updated = Pairing.objects.filter(pk=pairing.pk, status=PairingStatus.PROPOSED).update(
        status=PairingStatus.ACTIVE,
        confirmed_by=_user(actor),
        confirmed_at=now,
        start_date=timezone.localdate(now),
    )
    if not updated:
        raise ValidationError(NOT_PROPOSED, code="not_proposed")
    pairing.refresh_from_db()
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=_user(actor),
        obj=pairing,
        changes={"status": [PairingStatus.PROPOSED, PairingStatus.ACTIVE]},
    )
    if notify:
        transaction.on_commit(lambda: _notify(pairing, SMS_PAIRED))
    return pairing


def pairings_accept(*, actor, pairings: Iterable[Pairing], request=None) -> tuple[list[Pairing], list[tuple]]:
    """Accept several proposals; each one on its own (one that cannot be accepted does not stop the rest).

    Returns (accepted, [(pairing, message), …] for those refused).
    """
    accepted, refused = [], []
    for pairing in pairings:
        try:
            accepted.append(pairing_accept(actor=actor, pairing=pairing, request=request))
        except ValidationError as exc:
            refused.append((pairing, " ".join(exc.messages)))
    return accepted, refused


@transaction.atomic
def pairing_reject(*, actor, pairing: Pairing, note: str = "", request=None) -> Pairing:
    """Decline a proposal."""
    if not can_confirm(actor, pairing.elder.village_id):
        raise ValidationError(READ_ONLY, code="read_only")
    updated = Pairing.objects.filter(pk=pairing.pk, status=PairingStatus.PROPOSED).update(
        status=PairingStatus.DECLINED, end_reason=EndReason.REJECTED, end_note=(note or "")[:300], ended_by=_user(actor)
    )
    if not updated:
        raise ValidationError(NOT_PROPOSED, code="not_proposed")
    pairing.refresh_from_db()
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=_user(actor),
        obj=pairing,
        changes={"status": [PairingStatus.PROPOSED, PairingStatus.DECLINED]},
    )
    return pairing


def _end(pairing_ids: list[int], *, reason: str, note: str, actor) -> int:
    """End active pairings and decline open proposals among `pairing_ids`; return how many changed."""
    today = timezone.localdate()
    ended = Pairing.objects.filter(pk__in=pairing_ids, status=PairingStatus.ACTIVE).update(
        status=PairingStatus.ENDED, end_reason=reason, end_note=note[:300], end_date=today, ended_by=_user(actor)
    )
    declined = Pairing.objects.filter(pk__in=pairing_ids, status=PairingStatus.PROPOSED).update(
        status=PairingStatus.DECLINED, end_reason=reason, end_note=note[:300], ended_by=_user(actor)
    )
    return ended + declined


@transaction.atomic
def pairing_end(*, actor, pairing: Pairing, reason: str, note: str = "", request=None) -> Pairing:
    """End an active pairing with a reason; the giver is told by SMS and loses access to the elder."""
    if not can_confirm(actor, pairing.elder.village_id):
        raise ValidationError(READ_ONLY, code="read_only")
    if reason not in OFFICER_END_REASONS:
        raise ValidationError({"reason": ValidationError(BAD_END_REASON, code="bad_end_reason")})
    today = timezone.localdate()
    updated = Pairing.objects.filter(pk=pairing.pk, status=PairingStatus.ACTIVE).update(
        status=PairingStatus.ENDED,
        end_reason=reason,
        end_note=(note or "").strip()[:300],
        end_date=today,
        ended_by=_user(actor),
    )
    if not updated:
        raise ValidationError(NOT_ACTIVE, code="not_active")
    pairing.refresh_from_db()
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=_user(actor),
        obj=pairing,
        changes={"status": [PairingStatus.ACTIVE, PairingStatus.ENDED], "reason": reason},
    )
    transaction.on_commit(lambda: _notify(pairing, SMS_ENDED))
    return pairing


@transaction.atomic
def pairings_end_for_elder(*, elder: Elder, reason: str, actor=None, note: str = "", request=None) -> int:
    """End every open pairing of an elder who left the ledger. `reason`: an EndReason or the elder's new
    ElderStatus (moved / deceased / not_left_behind). Call it from `ledger.elder_change_status`."""
    reason = ELDER_STATUS_REASON.get(reason, reason)
    if reason not in EndReason.values:
        raise ValueError(f"Unknown end reason {reason!r}")
    ids = list(Pairing.objects.filter(elder=elder, status__in=OPEN_STATUSES).values_list("pk", flat=True))
    if not ids:
        return 0
    changed = _end(ids, reason=reason, note=note, actor=actor)
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=_user(actor),
        obj=elder,
        changes={"pairings_ended": ids, "reason": reason},
    )
    return changed


@transaction.atomic
def pairings_end_for_giver(
    *, giver_user=None, giver_organisation=None, reason: str = EndReason.GIVER_LEFT, actor=None, note="", request=None
) -> int:
    """End every open pairing of a giver who left (profile withdrawn, account closed, organisation
    suspended). Call it where the givers app records that."""
    if (giver_user is None) == (giver_organisation is None):
        raise ValueError("Give exactly one of giver_user and giver_organisation.")
    if reason not in EndReason.values:
        raise ValueError(f"Unknown end reason {reason!r}")
    which = {"giver_user": giver_user} if giver_user is not None else {"giver_organisation": giver_organisation}
    ids = list(Pairing.objects.filter(**which, status__in=OPEN_STATUSES).values_list("pk", flat=True))
    if not ids:
        return 0
    changed = _end(ids, reason=reason, note=note, actor=actor)
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=_user(actor),
        object_type="services.pairing",
        object_repr=f"pairings of {giver_user or giver_organisation}"[:200],
        changes={"pairings_ended": ids, "reason": reason},
    )
    return changed


# --- coverage ---------------------------------------------------------------------------------------


@dataclass
class _Area:
    """What coverage needs to know about an area, read in a few queries."""

    elders: list[tuple[int, str, str]]  # (id, village code, priority)
    needs: dict[int, set[str]]  # elder → open need slugs
    covered: dict[int, set[str]]  # elder → categories of active pairings
    paired: set[int]  # elders with an active pairing
    spare: dict[str, tuple[str, int]]  # giver key → (village code, spare places)


def _read_area(prefix: str) -> _Area:
    from volunteers.models import VolunteerProfile

    elders = list(
        Elder.objects.active()
        .filter(village__code__startswith=prefix)
        .with_priority()
        .values_list("id", "village_id", "priority_level")
    )
    ids = Elder.objects.active().filter(village__code__startswith=prefix).values("id")
    needs: dict[int, set[str]] = defaultdict(set)
    for elder_id, slug in Need.objects.filter(elder_id__in=ids, closed_at__isnull=True).values_list(
        "elder_id", "category__slug"
    ):
        needs[elder_id].add(slug)
    active = Pairing.objects.filter(elder_id__in=ids, status=PairingStatus.ACTIVE)
    paired = set(active.values_list("elder_id", flat=True))
    covered: dict[int, set[str]] = defaultdict(set)
    for elder_id, slug in Pairing.categories.through.objects.filter(pairing__in=active).values_list(
        "pairing__elder_id", "servicecategory__slug"
    ):
        covered[elder_id].add(slug)
    profiles = list(
        VolunteerProfile.objects.filter(village__code__startswith=prefix, user__is_active=True).values_list(
            "user_id", "village_id", "max_elders"
        )
    )
    used = dict(
        Pairing.objects.filter(giver_user_id__in=[p[0] for p in profiles], status=PairingStatus.ACTIVE)
        .values_list("giver_user_id")
        .annotate(n=Count("pk"))
        .values_list("giver_user_id", "n")
    )
    spare = {f"u{uid}": (village, max(cap - used.get(uid, 0), 0)) for uid, village, cap in profiles}
    return _Area(elders=elders, needs=needs, covered=covered, paired=paired, spare=spare)


def _coverage(area: _Area, extra: Iterable[tuple[int, str, Iterable[str]]] = ()) -> dict:
    """Totals and per-village rows; `extra`: pairs (elder id, giver key, categories) taken as active."""
    paired = set(area.paired)
    covered = {k: set(v) for k, v in area.covered.items()}
    spare = {k: list(v) for k, v in area.spare.items()}
    for elder_id, giver_key, cats in extra:
        paired.add(elder_id)
        covered.setdefault(elder_id, set()).update(cats)
        if giver_key in spare:
            spare[giver_key][1] = max(spare[giver_key][1] - 1, 0)
    rows: dict[str, Counter] = defaultdict(Counter)
    for elder_id, village, priority in area.elders:
        row = rows[village]
        row["elders"] += 1
        if priority == PriorityLevel.KEY:
            row["key_total"] += 1
            row["key_covered"] += elder_id in paired
        elif priority == PriorityLevel.ATTENTION:
            row["attention_total"] += 1
            row["attention_covered"] += elder_id in paired
        if area.needs.get(elder_id, set()) - covered.get(elder_id, set()):
            row["unmet_needs"] += 1
    for village, places in spare.values():
        if places > 0:
            rows[village]["givers_spare"] += 1
    keys = ("elders", "key_total", "key_covered", "attention_total", "attention_covered", "unmet_needs", "givers_spare")
    totals = {k: sum(r[k] for r in rows.values()) for k in keys}
    totals["villages"] = [{"code": code, **{k: rows[code][k] for k in keys}} for code in sorted(rows)]
    return totals


def coverage(region: Region) -> dict:
    """Coverage of an area now: 重点/关注 elders with an active pairing, elders with unmet needs, givers
    with spare capacity — totals and per village (`villages`: rows with `code`)."""
    return _coverage(_read_area(region.prefix))


# --- matching ---------------------------------------------------------------------------------------


def _elder_inputs(prefix: str, area: _Area) -> tuple[list[scoring.ElderInput], dict[int, str]]:
    open_counts = dict(
        Pairing.objects.filter(elder_id__in=[e[0] for e in area.elders], status=PairingStatus.ACTIVE)
        .values_list("elder_id")
        .annotate(n=Count("pk"))
        .values_list("elder_id", "n")
    )
    professional: dict[int, set[str]] = defaultdict(set)
    for elder_id, slug in Need.objects.filter(
        elder__village__code__startswith=prefix,
        elder__status=ElderStatus.ACTIVE,
        closed_at__isnull=True,
        professional=True,
    ).values_list("elder_id", "category__slug"):
        professional[elder_id].add(slug)
    inputs = []
    for elder_id, village, priority in area.elders:
        needs = area.needs.get(elder_id, set())
        target = TARGET_GIVERS[priority] if (priority != PriorityLevel.NORMAL or needs) else 0
        inputs.append(
            scoring.ElderInput(
                id=elder_id,
                village_code=village,
                priority=priority,
                needs=frozenset(needs),
                professional_needs=frozenset(professional.get(elder_id, ())),
                demand=max(target - open_counts.get(elder_id, 0), 0),
            )
        )
    return inputs, {e[0]: e[1] for e in area.elders}


def _giver_inputs(county_prefix: str, continuing: dict[str, set[int]]) -> list[scoring.GiverInput]:
    from volunteers.models import VolunteerProfile

    profiles = list(
        VolunteerProfile.objects.filter(village__code__startswith=county_prefix, user__is_active=True).values_list(
            "pk",
            "user_id",
            "village_id",
            "kind",
            "max_elders",
            "qualification",
            "certificate_number",
            "available_days",
            "available_times",
        )
    )
    skills: dict[int, set[str]] = defaultdict(set)
    for profile_id, slug in VolunteerProfile.skills.through.objects.filter(
        volunteerprofile__village__code__startswith=county_prefix
    ).values_list("volunteerprofile_id", "servicecategory__slug"):
        skills[profile_id].add(slug)
    used = dict(
        Pairing.objects.filter(giver_user_id__in=[p[1] for p in profiles], status__in=OPEN_STATUSES)
        .values_list("giver_user_id")
        .annotate(n=Count("pk"))
        .values_list("giver_user_id", "n")
    )
    givers = []
    for pk, user_id, village, kind, max_elders, qualification, certificate, days, times in profiles:
        key = f"u{user_id}"
        givers.append(
            scoring.GiverInput(
                id=key,
                village_code=village,
                capacity=max(max_elders - used.get(user_id, 0), 0),
                skills=frozenset(skills.get(pk, ())),
                is_social_worker=kind == "social_worker" and bool(qualification and certificate),
                availability=frozenset([*(days or []), *(times or [])]),
                current_elders=frozenset(continuing.get(key, ())),
            )
        )
    return givers


class Edge(NamedTuple):
    """A candidate pair's score for `assign`, its priority-free points and its reason codes
    (the fields of `scoring.ScoredEdge`, as a plain tuple: a county has ~200,000 of them)."""

    score: int
    component: int
    reasons: tuple[str, ...]


def candidate_edges(
    elders: list[scoring.ElderInput], givers: list[scoring.GiverInput], *, per_elder: int | None = None
) -> dict[tuple, Edge]:
    """Candidate pairs with their scores, as `scoring.score_candidates` gives them, but generated near
    the elder first so that a county stays fast.

    An elder with needs is scored only against givers who list one of those needs (or already serve
    them: continuity) — givers who cover nothing are never candidates anyway; an elder without needs
    against every giver. Givers of the elder's own township come first; the rest of the county is tried
    only when the township gives fewer than `NEARBY_MIN` candidates. Of an elder's candidates the
    `per_elder` best by the priority-free points (distance, skills, availability, continuity) are kept.
    The priority tier weights are then computed, as `scoring` does, from the largest possible number of
    pairs among the candidates kept, so priority still dominates. (A county of 5,000 elders and 1,500
    givers has ~4 million same-county pairs; this keeps at most 50 per elder.)
    """
    per_elder = per_elder or CANDIDATES_PER_ELDER
    township_all: dict[str, list] = defaultdict(list)
    county_all: dict[str, list] = defaultdict(list)
    township_skill: dict[tuple[str, str], list] = defaultdict(list)
    county_skill: dict[tuple[str, str], list] = defaultdict(list)
    continuing: dict[object, list] = defaultdict(list)
    for giver in givers:
        if giver.capacity <= 0:
            continue
        township, county = giver.village_code[:9], giver.village_code[:6]
        township_all[township].append(giver)
        county_all[county].append(giver)
        for skill in giver.skills:
            township_skill[(township, skill)].append(giver)
            county_skill[(county, skill)].append(giver)
        for elder_id in giver.current_elders:
            continuing[elder_id].append(giver)

    def pool(elder, needs, index_all, index_skill, key):
        if not needs:
            return index_all.get(key, ())
        chosen = {g.id: g for need in needs for g in index_skill.get((key, need), ())}
        for g in continuing.get(elder.id, ()):
            chosen.setdefault(g.id, g)
        return chosen.values()

    def score(elder, pool_, township, outside):
        found = []
        for giver in pool_:
            if (giver.village_code[:9] == township) == outside:
                continue
            if outside and giver.village_code[:6] != elder.village_code[:6]:
                continue
            scored = scoring.component_score(elder, giver)
            if scored is not None:
                found.append((-scored[0], str(giver.id), giver.id, scored[1]))
        return found

    # Elders of one village with the same needs and time slots have the same candidates, except for
    # continuity: score each such group once, then redo only the givers an elder already had.
    by_signature: dict[tuple, list] = {}
    kept: list[tuple[scoring.ElderInput, object, int, tuple[str, ...]]] = []
    for elder in elders:
        if elder.demand <= 0:
            continue
        needs = set(elder.needs) | set(elder.professional_needs)
        township, county = elder.village_code[:9], elder.village_code[:6]
        signature = (
            elder.village_code,
            frozenset(elder.needs),
            frozenset(elder.professional_needs),
            frozenset(elder.availability),
        )
        found = by_signature.get(signature)
        if found is None:
            anyone = dataclasses.replace(elder, id=_NOBODY)
            found = score(anyone, pool(anyone, needs, township_all, township_skill, township), township, False)
            if len(found) < NEARBY_MIN:
                found += score(anyone, pool(anyone, needs, county_all, county_skill, county), township, True)
            found.sort()
            by_signature[signature] = found
        mine = continuing.get(elder.id)
        if mine:
            again = {g.id for g in mine}
            redone = [
                (-scored[0], str(g.id), g.id, scored[1])
                for g in mine
                if g.village_code[:6] == county and (scored := scoring.component_score(elder, g)) is not None
            ]
            found = sorted([f for f in found if f[2] not in again] + redone)
        kept.extend((elder, giver_id, -points, reasons) for points, _key, giver_id, reasons in found[:per_elder])

    degree_elder: Counter = Counter(e.id for e, *_ in kept)
    degree_giver: Counter = Counter(g for _, g, *_ in kept)
    demand = {e.id: e.demand for e in elders}
    capacity = {g.id: g.capacity for g in givers}
    max_pairs = min(
        sum(min(demand[e], d) for e, d in degree_elder.items()),
        sum(min(capacity[g], d) for g, d in degree_giver.items()),
    )
    weights = scoring.tier_weights(max_pairs)
    prefix = {p: (scoring.REASON_PRIORITY.format(priority=p),) for p in scoring.PRIORITIES if p != scoring.NORMAL}
    prefix[scoring.NORMAL] = ()
    edges = {}
    for elder, giver_id, points, reasons in kept:
        edges[(elder.id, giver_id)] = Edge(weights[elder.priority] + points, points, prefix[elder.priority] + reasons)
    return edges


@transaction.atomic
def match_run(*, region: Region, user=None, apply: bool = False, request=None) -> MatchRun:
    """Run the matching for an area and store the proposals (or, with `apply`, active pairings).

    `user` None is the system (the `match` command); a person must be an officer over `region`.
    Open proposals of earlier runs in the area are replaced (declined as superseded).
    """
    if user is not None and not can_run(user, region):
        raise ValidationError(OUT_OF_SCOPE, code="out_of_scope")
    started = time.perf_counter()
    run = MatchRun.objects.create(region=region, run_by=_user(user), applied=apply)
    prefix = region.prefix

    earlier = Pairing.objects.filter(
        elder__village__code__startswith=prefix, status=PairingStatus.PROPOSED, origin=PairingOrigin.MATCHING
    )
    continuing: dict[str, set[int]] = defaultdict(set)
    for elder_id, user_id in earlier.values_list("elder_id", "giver_user_id"):
        continuing[f"u{user_id}"].add(elder_id)
    earlier.update(status=PairingStatus.DECLINED, end_reason=EndReason.SUPERSEDED)

    area = _read_area(prefix)
    before = _coverage(area)
    elders, _villages = _elder_inputs(prefix, area)
    givers = _giver_inputs(prefix[:6], continuing)
    edges = candidate_edges(elders, givers)
    open_pairs = set(
        Pairing.objects.filter(
            elder__village__code__startswith=prefix, status__in=OPEN_STATUSES, giver_user__isnull=False
        ).values_list("elder_id", "giver_user_id")
    )
    for elder_id, user_id in open_pairs:
        edges.pop((elder_id, f"u{user_id}"), None)
    demands = {e.id: e.demand for e in elders}
    capacities = {g.id: g.capacity for g in givers}
    chosen = matching.assign(demands, capacities, {k: e.score for k, e in edges.items()})

    categories = {c.slug: c for c in ServiceCategory.objects.all()}
    elder_needs = {e.id: e.needs | e.professional_needs for e in elders}
    status = PairingStatus.ACTIVE if apply else PairingStatus.PROPOSED
    now = timezone.now()
    pairings, links, chosen_rows = [], [], []
    for elder_id, giver_key in chosen:
        edge = edges[(elder_id, giver_key)]
        covers = [r.split(":", 1)[1] for r in edge.reasons if r.startswith("covers:")]
        chosen_rows.append(
            {
                "elder": elder_id,
                "giver": giver_key,
                "score": edge.score,
                "fit": edge.component,
                "reasons": list(edge.reasons),
            }
        )
        pairings.append(
            Pairing(
                elder_id=elder_id,
                giver_user_id=int(giver_key[1:]),
                status=status,
                origin=PairingOrigin.MATCHING,
                match_run=run,
                score=edge.score,
                component=edge.component,
                reasons=list(edge.reasons),
                confirmed_by=_user(user) if apply else None,
                confirmed_at=now if apply else None,
                start_date=timezone.localdate(now) if apply else None,
            )
        )
        links.append(covers or sorted(elder_needs.get(elder_id, ())))
    created = Pairing.objects.bulk_create(pairings, batch_size=1000)
    if any(p.pk is None for p in created):  # a backend without RETURNING: read them back
        created = list(Pairing.objects.filter(match_run=run).order_by("pk"))
    through = Pairing.categories.through
    through.objects.bulk_create(
        [
            through(pairing_id=p.pk, servicecategory_id=categories[slug].pk)
            for p, slugs in zip(created, links, strict=True)
            for slug in slugs
            if slug in categories
        ],
        batch_size=2000,
    )

    after = _coverage(area, [(row["elder"], row["giver"], links[i]) for i, row in enumerate(chosen_rows)])
    values = [e.score for e in edges.values()]
    run.inputs = {
        "elders": len(elders),
        "elders_wanting": sum(1 for e in elders if e.demand > 0),
        "givers": len(givers),
        "givers_with_room": sum(1 for g in givers if g.capacity > 0),
        "demand": sum(demands.values()),
        "capacity": sum(capacities.values()),
        "candidates": len(edges),
    }
    run.scores = {
        "count": len(values),
        "min": min(values, default=0),
        "max": max(values, default=0),
        "edges": [[e, g, s.score, s.component] for (e, g), s in edges.items()] if len(edges) <= KEEP_ALL_SCORES else [],
    }
    run.chosen = chosen_rows
    run.total_score = sum(r["score"] for r in chosen_rows)
    run.coverage_before, run.coverage_after = before, after
    run.status = MatchRunStatus.DONE
    run.finished_at = timezone.now()
    run.seconds = round(time.perf_counter() - started, 3)
    run.save()
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=_user(user),
        obj=run,
        changes={"region": region.code, "pairs": len(chosen_rows), "applied": apply},
    )
    if apply:
        givers_told = {p.giver_user_id for p in created}
        transaction.on_commit(lambda: _notify_many(givers_told))
    return run


def _notify_many(user_ids: set[int]) -> None:
    from portal.models import User

    with translation.override(settings.LANGUAGE_CODE):
        for phone in User.objects.filter(pk__in=user_ids).values_list("phone", flat=True):
            send_sms(
                phone, gettext("You have been paired with elders (结对帮扶). Sign in to the care portal to see them.")
            )


def run_summary(run: MatchRun) -> dict:
    """The JSON summary the `match` command prints (and the run page shows)."""
    before, after = run.coverage_before or {}, run.coverage_after or {}

    def cover(c):
        return {
            k: c.get(k, 0)
            for k in ("key_covered", "key_total", "attention_covered", "attention_total", "unmet_needs", "givers_spare")
        }

    return {
        "run": run.pk,
        "region": run.region_id,
        "applied": run.applied,
        "pairs": len(run.chosen),
        "total_score": run.total_score,
        "priority_covered": after.get("key_covered", 0),
        "priority_total": after.get("key_total", 0),
        "coverage_before": cover(before),
        "coverage_after": cover(after),
        "inputs": run.inputs,
        "seconds": run.seconds,
    }
