"""Pairing (结对帮扶): needs, the pairing lifecycle and matching runs.

Every operation is keyword-only and atomic and writes its audit event. The lifecycle:

    proposed ──accept──▶ active ──end (reason)──▶ ended
        └──reject / superseded──▶ declined

`match_run` builds the plain inputs of `services.pairing.scoring` from the ORM, solves with
`services.pairing.matching.assign` and stores a `MatchRun` with the proposals (or, with ``apply``, active
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
* organisations (一帮多: an elder association, a 互助幸福院 …) are givers too when they are approved, based
  in the county and offer places (`Organisation.pairing_capacity` > 0, set by their admins): id
  ``o<pk>``, place = their region (a village or a township), capacity = places minus open pairings,
  skills = what their kind usually offers (`ORGANISATION_KIND_SKILLS`) plus the skills of their active
  members, a social worker when one of their active members is a qualified one. They get their
  proposals, acceptance and SMS like people (the SMS goes to the organisation's admins); they can still
  be paired by hand when they offer no places.

Runs work off the request (`match_start`): the officer's POST creates a queued `MatchRun` and a thread
started on commit works it (`match_execute`), writing its progress (stage and percent) in autocommit so
the proposals page can show it; only the final write (supersede, proposals, run) is one transaction.
A thread is enough here: a county runs in a few seconds, the web workers are long-lived, and a run
whose worker died (a restart) is marked failed after `RUN_STALE_AFTER` so that it does not hold its
area. One run at a time per area: a run for an area that overlaps a queued or running one is refused.
With `settings.MATCH_RUN_INLINE` (tests) or through `match_run` (the `match` command) it runs inline.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, connections, transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction, AuditEvent, Region, RoleKind
from portal.scoping import can_write, has_role, in_scope, scope_queryset
from portal.sms import send_sms
from services.catalogue.models import ServiceCategory
from services.ledger.actions import can_edit
from services.ledger.models import Elder, ElderStatus, PriorityLevel
from services.pairing import matching, scoring
from services.pairing.models import (
    OPEN_STATUSES,
    UNFINISHED_RUN_STATUSES,
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
RUN_BUSY = _("A matching run for this area (or an area that overlaps it) is still working; wait until it is done.")
BAD_CAPACITY = _("Give a whole number of elders, 0 or more.")
RUN_STALE = _("The run stopped without finishing (the server was restarted?). Run the matching again.")

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
SMS_PAIRED_MANY = _("You have been paired with elders (结对帮扶). Sign in to the care portal to see them.")

logger = logging.getLogger(__name__)

# A queued or running run older than this is taken as dead (its worker was restarted) and marked failed.
RUN_STALE_AFTER = datetime.timedelta(minutes=10)
RUN_START_ATTEMPTS = 5
# The stages a run goes through (stored as the key in MatchRun.stage) and what the page shows.
RUN_STAGES = {
    "queued": _("Waiting to start"),
    "reading": _("Reading elders, needs and givers"),
    "scoring": _("Scoring the possible pairs"),
    "solving": _("Finding the best set of pairs"),
    "saving": _("Saving the proposals"),
    "done": _("Done"),
    "failed": _("Failed"),
}
# What an organisation of a kind usually offers (its members' own skills are added to this).
ORGANISATION_KIND_SKILLS = {
    "laonian-xiehui": ("jingshen-weijie", "anquan-jianhu", "wenti-yule"),  # 老年协会: visits, watch, recreation
    "zhiyuan-fuwudui": ("shenghuo-zhaoliao", "jingshen-weijie"),  # 志愿服务队
    "shehui-gongzuozhan": ("jingshen-weijie", "quanyi-weihu"),  # 社会工作站
    "weilao-fuwu-jigou": ("shenghuo-zhaoliao", "jiankang-guanli", "kangfu-huli"),  # 为老服务机构
    "huzhu-xingfuyuan": ("shenghuo-zhaoliao", "jingshen-weijie", "wenti-yule"),  # 互助幸福院
    "nongcun-laofanzhuo": ("shenghuo-zhaoliao",),  # 农村老饭桌
}


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


def _giver_phones(user_ids: Iterable[int], organisation_ids: Iterable[int]) -> tuple[dict[int, str], dict[int, list]]:
    """Phones to tell: each person's own; for an organisation its active admins (its contact phone when it
    has none). Two queries, whatever the number of givers."""
    from portal.models import User
    from volunteers.models import MembershipStatus, Organisation

    user_ids, organisation_ids = set(user_ids), set(organisation_ids)
    people = dict(User.objects.filter(pk__in=user_ids, is_active=True).values_list("pk", "phone")) if user_ids else {}
    organisations: dict[int, list] = defaultdict(list)
    if organisation_ids:
        rows = Organisation.objects.filter(pk__in=organisation_ids).values_list(
            "pk", "contact_phone", "memberships__user__phone", "memberships__is_admin", "memberships__status"
        )
        contact = {}
        for org_id, contact_phone, phone, is_admin, status in rows:
            contact[org_id] = contact_phone
            if phone and is_admin and status == MembershipStatus.ACTIVE and phone not in organisations[org_id]:
                organisations[org_id].append(phone)
        for org_id, phone in contact.items():
            if not organisations[org_id] and phone:
                organisations[org_id].append(phone)
    return people, dict(organisations)


def _notify(pairing: Pairing, template) -> None:
    """SMS to the giver (the person, or the organisation's admins); no elder details in it."""
    people, organisations = _giver_phones(
        [pairing.giver_user_id] if pairing.giver_user_id else [],
        [pairing.giver_organisation_id] if pairing.giver_organisation_id else [],
    )
    phones = [people[pairing.giver_user_id]] if pairing.giver_user_id in people else []
    phones += organisations.get(pairing.giver_organisation_id, [])
    with translation.override(settings.LANGUAGE_CODE):
        for phone in phones:
            if phone:
                send_sms(phone, str(template).format(village=pairing.elder.village.name))


def _notify_paired(pairings: list[Pairing]) -> None:
    """One SMS per giver for a batch of new pairings: the village when it is one elder, else a count-free
    'elders'. The pairings carry `elder.village` (select_related)."""
    by_giver: dict[tuple, list[Pairing]] = defaultdict(list)
    for p in pairings:
        by_giver[("u", p.giver_user_id) if p.giver_user_id else ("o", p.giver_organisation_id)].append(p)
    people, organisations = _giver_phones(
        [k[1] for k in by_giver if k[0] == "u"], [k[1] for k in by_giver if k[0] == "o"]
    )
    with translation.override(settings.LANGUAGE_CODE):
        for (kind, pk), group in by_giver.items():
            phones = [people[pk]] if kind == "u" and pk in people else organisations.get(pk, []) if kind == "o" else []
            if len(group) == 1:
                text = str(SMS_PAIRED).format(village=group[0].elder.village.name)
            else:
                text = str(SMS_PAIRED_MANY)
            for phone in phones:
                if phone:
                    send_sms(phone, text)


def _accept_many(*, actor, pairing_ids: list[int], request=None) -> tuple[list[Pairing], dict[int, ValidationError]]:
    """Accept proposals in bulk: the proposals and their givers are locked, checked together, then made
    active by one UPDATE, audited by one INSERT; the SMS (one per giver) go out on commit.

    The query count does not depend on how many proposals there are (the tests pin it). Each refusal is
    per proposal (READ_ONLY, ELDER_NOT_ACTIVE, GIVER_INACTIVE, GIVER_FULL, NOT_PROPOSED): one that
    cannot be accepted does not stop the rest. Capacity is shared out in the order of `pairing_ids`.
    """
    from volunteers.models import Organisation, VolunteerProfile

    order = {pk: i for i, pk in enumerate(dict.fromkeys(pairing_ids))}
    refused: dict[int, ValidationError] = {}
    locked = list(
        Pairing.objects.select_for_update(of=("self",))
        .filter(pk__in=list(order), status=PairingStatus.PROPOSED)
        .select_related("elder__village", "giver_user", "giver_organisation")
        .order_by("pk")
    )
    for pk in set(order) - {p.pk for p in locked}:
        refused[pk] = ValidationError(NOT_PROPOSED, code="not_proposed")
    locked.sort(key=lambda p: order[p.pk])
    user_ids = sorted({p.giver_user_id for p in locked if p.giver_user_id})
    org_ids = sorted({p.giver_organisation_id for p in locked if p.giver_organisation_id})
    # Lock the givers too, so that two officers accepting at once cannot overfill one giver.
    places = dict(
        VolunteerProfile.objects.select_for_update()
        .filter(user_id__in=user_ids)
        .order_by("pk")
        .values_list("user_id", "max_elders")
    )
    org_places = dict(
        Organisation.objects.select_for_update()
        .filter(pk__in=org_ids)
        .order_by("pk")
        .values_list("pk", "pairing_capacity")
    )
    active = Pairing.objects.filter(status=PairingStatus.ACTIVE)
    used_users = Counter(
        dict(
            active.filter(giver_user_id__in=user_ids)
            .values_list("giver_user_id")
            .annotate(n=Count("pk"))
            .values_list("giver_user_id", "n")
        )
    )
    used_orgs = Counter(
        dict(
            active.filter(giver_organisation_id__in=org_ids)
            .values_list("giver_organisation_id")
            .annotate(n=Count("pk"))
            .values_list("giver_organisation_id", "n")
        )
    )
    ok: list[Pairing] = []
    for p in locked:
        if not can_confirm(actor, p.elder.village_id):
            refused[p.pk] = ValidationError(READ_ONLY, code="read_only")
        elif p.elder.status != ElderStatus.ACTIVE:
            refused[p.pk] = ValidationError(ELDER_NOT_ACTIVE, code="elder_not_active")
        elif p.giver_user_id and not p.giver_user.is_active:
            refused[p.pk] = ValidationError(GIVER_INACTIVE, code="giver_inactive")
        elif (
            p.giver_user_id
            and used_users[p.giver_user_id] >= places.get(p.giver_user_id, 0)
            or (
                p.giver_organisation_id
                and org_places.get(p.giver_organisation_id, 0) > 0  # 0: not offered to matching; by hand, no limit
                and used_orgs[p.giver_organisation_id] >= org_places[p.giver_organisation_id]
            )
        ):
            refused[p.pk] = ValidationError(GIVER_FULL, code="giver_full")
        else:
            ok.append(p)
            if p.giver_user_id:
                used_users[p.giver_user_id] += 1
            else:
                used_orgs[p.giver_organisation_id] += 1
    if not ok:
        return [], refused
    now = timezone.now()
    today = timezone.localdate(now)
    confirmed_by = _user(actor)
    ids = [p.pk for p in ok]
    Pairing.objects.filter(pk__in=ids, status=PairingStatus.PROPOSED).update(
        status=PairingStatus.ACTIVE, confirmed_by=confirmed_by, confirmed_at=now, start_date=today
    )
    for p in ok:
        p.status, p.confirmed_by, p.confirmed_at, p.start_date = PairingStatus.ACTIVE, confirmed_by, now, today
    if confirmed_by is None and request is not None and request.user.is_authenticated:
        confirmed_by = request.user
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=confirmed_by,
                action=AuditAction.CHANGE,
                object_type=Pairing._meta.label_lower,
                object_id=str(p.pk),
                object_repr=str(p)[:200],
                changes={"status": [PairingStatus.PROPOSED, PairingStatus.ACTIVE]},
                ip_address=audit.client_ip(request),
                user_agent=(request.META.get("HTTP_USER_AGENT", "")[:300] if request else ""),
                path=(request.get_full_path()[:300] if request else ""),
            )
            for p in ok
        ]
    )
    return ok, refused


@transaction.atomic
def pairing_accept(*, actor, pairing: Pairing, request=None, notify: bool = True) -> Pairing:
    """Make a proposal active: confirmed by the officer, starting today; the giver is told by SMS.

    The proposal is locked and changed only while still proposed, so a replayed or concurrent accept
    changes nothing and gets NOT_PROPOSED.
    """
    accepted, refused = _accept_many(actor=actor, pairing_ids=[pairing.pk], request=request)
    if refused:
        raise refused[pairing.pk]
    pairing.refresh_from_db()
    if notify:
        transaction.on_commit(lambda: _notify_paired(accepted))
    return pairing


@transaction.atomic
def pairings_accept(*, actor, pairings: Iterable[Pairing], request=None) -> tuple[list[Pairing], list[tuple]]:
    """Accept several proposals at once ("accept all"): one UPDATE, one INSERT of audit events, one SMS
    per giver — a constant number of queries for any number of proposals. One that cannot be accepted
    does not stop the rest.

    Returns (accepted, [(pairing, message), …] for those refused), in the order given.
    """
    pairings = list(pairings)
    accepted, refused = _accept_many(actor=actor, pairing_ids=[p.pk for p in pairings], request=request)
    if accepted:
        transaction.on_commit(lambda: _notify_paired(accepted))
    done = {p.pk: p for p in accepted}
    return (
        [done[p.pk] for p in pairings if p.pk in done],
        [(p, " ".join(refused[p.pk].messages)) for p in pairings if p.pk in refused],
    )


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
def organisation_set_capacity(*, actor, organisation, capacity: int, request=None):
    """Set how many elders the matching may pair with an organisation (0: not offered). The caller has
    checked that `actor` is one of its admins (`volunteers.organisations.organisation_for_admin`).
    Lowering it ends no pairing: the matching only stops proposing new ones."""
    from volunteers.models import Organisation

    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
        raise ValidationError({"pairing_capacity": ValidationError(BAD_CAPACITY, code="bad_capacity")})
    before = organisation.pairing_capacity
    Organisation.objects.filter(pk=organisation.pk).update(pairing_capacity=capacity)
    organisation.pairing_capacity = capacity
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=_user(actor),
        obj=organisation,
        changes={"pairing_capacity": [before, capacity]},
    )
    return organisation


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
        object_type="services.pairing.lifecycle",
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
    organisations = list(_offering_organisations(prefix).values_list("pk", "region_id", "pairing_capacity"))
    if organisations:
        org_used = dict(
            Pairing.objects.filter(giver_organisation_id__in=[o[0] for o in organisations], status=PairingStatus.ACTIVE)
            .values_list("giver_organisation_id")
            .annotate(n=Count("pk"))
            .values_list("giver_organisation_id", "n")
        )
        for org_id, place, places in organisations:
            spare[_giver_key(None, org_id)] = (place, max(places - org_used.get(org_id, 0), 0))
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


def _giver_key(user_id: int | None, organisation_id: int | None) -> str:
    return f"u{user_id}" if user_id else f"o{organisation_id}"


def _giver_fields(key: str) -> dict:
    """The Pairing fields of a giver id in matching ("u12" → giver_user_id=12, "o3" → giver_organisation_id=3)."""
    return {"giver_user_id": int(key[1:])} if key[0] == "u" else {"giver_organisation_id": int(key[1:])}


def _offering_organisations(prefix: str) -> QuerySet:
    """Approved organisations based in the area that offer places to the matching."""
    from volunteers.models import Organisation, OrganisationStatus

    return Organisation.objects.filter(
        region__code__startswith=prefix, status=OrganisationStatus.APPROVED, pairing_capacity__gt=0
    )


def _giver_inputs(county_prefix: str, continuing: dict[str, set[int]], replaced: Q) -> list[scoring.GiverInput]:
    """People with a volunteer profile and organisations offering places, in the county. `replaced`: the
    proposals this run replaces (they do not take a place)."""
    from volunteers.models import Membership, MembershipStatus, VolunteerProfile

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
    taken = Pairing.objects.filter(status__in=OPEN_STATUSES).exclude(replaced)
    used = dict(
        taken.filter(giver_user_id__in=[p[1] for p in profiles])
        .values_list("giver_user_id")
        .annotate(n=Count("pk"))
        .values_list("giver_user_id", "n")
    )
    givers = []
    for pk, user_id, village, kind, max_elders, qualification, certificate, days, times in profiles:
        key = _giver_key(user_id, None)
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

    organisations = list(
        _offering_organisations(county_prefix).values_list("pk", "region_id", "kind__slug", "pairing_capacity")
    )
    if not organisations:
        return givers
    org_ids = [o[0] for o in organisations]
    org_skills: dict[int, set[str]] = defaultdict(set)
    org_social_worker: set[int] = set()
    for org_id, slug, kind, qualification, certificate in Membership.objects.filter(
        organisation_id__in=org_ids, status=MembershipStatus.ACTIVE, user__is_active=True
    ).values_list(
        "organisation_id",
        "user__volunteer_profile__skills__slug",
        "user__volunteer_profile__kind",
        "user__volunteer_profile__qualification",
        "user__volunteer_profile__certificate_number",
    ):
        if slug:
            org_skills[org_id].add(slug)
        if kind == "social_worker" and qualification and certificate:
            org_social_worker.add(org_id)
    org_used = dict(
        taken.filter(giver_organisation_id__in=org_ids)
        .values_list("giver_organisation_id")
        .annotate(n=Count("pk"))
        .values_list("giver_organisation_id", "n")
    )
    for org_id, place, kind_slug, places in organisations:
        key = _giver_key(None, org_id)
        givers.append(
            scoring.GiverInput(
                id=key,
                village_code=place,
                capacity=max(places - org_used.get(org_id, 0), 0),
                skills=frozenset(ORGANISATION_KIND_SKILLS.get(kind_slug, ())) | org_skills.get(org_id, set()),
                is_social_worker=org_id in org_social_worker,
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
    elders: list[scoring.ElderInput],
    givers: list[scoring.GiverInput],
    *,
    per_elder: int | None = None,
    progress=None,
    county_wide: frozenset = frozenset(),
    open_givers: frozenset | None = None,
) -> dict[tuple, Edge]:
    """Candidate pairs with their scores, as `scoring.score_candidates` gives them, but generated near
    the elder first so that a county stays fast.

    An elder with needs is scored only against givers who list one of those needs (or already serve
    them: continuity) — givers who cover nothing are never candidates anyway; an elder without needs
    against every giver. The priority tier weights are computed, as `scoring` does, from the largest
    possible number of pairs among the candidates kept. (A county of 5,000 elders and 1,500 givers has
    ~4 million same-county pairs; this keeps a few hundred thousand.)

    Which givers an elder is scored against (the candidate graph): givers of the elder's own township
    first; the rest of the county only when the township gives fewer than `NEARBY_MIN` candidates.
    What is then cut, and why the priority guarantee survives the cut:

    * 一般 (normal) elders keep only their `per_elder` best candidates by the priority-free points
      (distance, skills, availability, continuity).
    * 重点 and 关注 elders are never cut: they keep every candidate.

    Every candidate pair of a 重点 or 关注 elder is therefore in the graph given to `assign`. Take an
    optimum of the uncut graph and keep only its 重点/关注 pairs: that is still a feasible solution of the
    cut graph (dropping pairs frees places, never uses them) with the same numbers of 重点 and 关注 pairs.
    The tier weights make `assign` maximise the number of 重点 pairs first, then of 关注 pairs (proof in
    `services.pairing.scoring`), so the optimum of the cut graph covers exactly as many 重点 and 关注 places as the
    optimum of the uncut graph: an unpaired priority elder is never left out while a lower-priority elder
    holds a giver it is a candidate for. Only the 一般 elders' share of the places left may differ.
    Cutting on the giver side instead (each giver keeps its best K elders, priority first) is not enough:
    a giver may drop the one priority elder that has no other giver while keeping K priority elders who
    are all served elsewhere.

    The township-first rule is part of the candidate definition for every elder: a priority elder whose
    township offers `NEARBY_MIN` candidates or more is not scored against the rest of the county. Making
    priority elders county-wide was measured on the benchmark county (5,000 elders, 1,500 givers): 3.9 M
    candidate pairs instead of 0.4 M and several times the 15 s budget, so it is not done for all of them.
    Instead `match_run` repairs: the priority elders its first solution leaves short are passed back in
    `county_wide` (ids of elders to score against the whole county whatever their township offers, but
    outside their township only against `open_givers`, the givers that could still make room for them)
    and the matching is solved again (see `_solve`).

    `progress`, if given, is called with the share of elders done (0…1) every few hundred elders.
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
    # continuity: score each such group once, then redo only the givers an elder already had. Givers
    # outside the township score the same for every village of that township: one list per township.
    inside_cache: dict[tuple, list] = {}
    outside_cache: dict[tuple, list] = {}
    by_signature: dict[tuple, list] = {}
    kept: list[tuple[scoring.ElderInput, object, int, tuple[str, ...]]] = []
    wanting = [e for e in elders if e.demand > 0]
    step = max(len(wanting) // 20, 200)
    for done, elder in enumerate(wanting):
        if progress is not None and done % step == 0:
            progress(done / len(wanting))
        needs = set(elder.needs) | set(elder.professional_needs)
        township, county = elder.village_code[:9], elder.village_code[:6]
        wide = elder.priority != scoring.NORMAL
        whole_county = elder.id in county_wide
        labels = (frozenset(elder.needs), frozenset(elder.professional_needs), frozenset(elder.availability))
        signature = (elder.village_code, whole_county, *labels)
        found = by_signature.get(signature)
        if found is None:
            anyone = dataclasses.replace(elder, id=_NOBODY)
            inside = inside_cache.get((elder.village_code, *labels))
            if inside is None:
                inside = score(anyone, pool(anyone, needs, township_all, township_skill, township), township, False)
                inside_cache[(elder.village_code, *labels)] = inside
            found = list(inside)
            if whole_county and len(found) >= NEARBY_MIN and open_givers is not None:
                # the repair pass: only the givers of the rest of the county that could make room
                found += [
                    f
                    for f in score(anyone, pool(anyone, needs, county_all, county_skill, county), township, True)
                    if f[2] in open_givers
                ]
            elif len(found) < NEARBY_MIN or whole_county:
                outside = outside_cache.get((township, *labels))
                if outside is None:
                    outside = score(anyone, pool(anyone, needs, county_all, county_skill, county), township, True)
                    outside_cache[(township, *labels)] = outside
                found += outside
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
        if not wide:
            found = found[:per_elder]
        kept.extend((elder, giver_id, -points, reasons) for points, _key, giver_id, reasons in found)

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
    if progress is not None:
        progress(1.0)
    return edges


REPAIR_PASSES = 2


def _solve(elders, givers, already_open: set, progress) -> tuple[dict, list]:
    """Score, solve, and repair the township-first shortcut for priority elders.

    The first pass scores a priority elder against its own township only when that township offers
    `NEARBY_MIN` candidates (see `candidate_edges`). A 重点/关注 elder it leaves short of its demand is then
    scored against the whole county and the matching solved again — at most `REPAIR_PASSES` times, each
    pass keeping every earlier candidate, so the number of priority pairs never goes down. The few
    elders repaired keep the cost near one pass.
    """
    demands = {e.id: e.demand for e in elders}
    capacities = {g.id: g.capacity for g in givers}
    tier = {e.id: scoring.PRIORITIES.index(e.priority) for e in elders}  # 0 = 重点 first
    priority = {e.id for e in elders if e.priority != scoring.NORMAL and e.demand > 0}
    county_wide: frozenset = frozenset()
    open_givers: frozenset | None = None
    for attempt in range(REPAIR_PASSES + 1):
        edges = candidate_edges(
            elders,
            givers,
            county_wide=county_wide,
            open_givers=open_givers,
            progress=(lambda share: progress(10 + int(45 * share), "scoring")) if attempt == 0 else None,
        )
        for pair in already_open:
            edges.pop(pair, None)
        progress(60 + 10 * attempt, "solving")
        chosen = matching.assign(demands, capacities, {k: e.score for k, e in edges.items()})
        served = Counter(elder_id for elder_id, _giver in chosen)
        short = frozenset(e for e in priority if served[e] < demands[e]) - county_wide
        if not short:
            break
        # Givers that could make room for a short priority elder: places left, or serving a lower tier.
        worst = min(tier[e] for e in short)
        used = Counter(giver for _elder, giver in chosen)
        open_givers = (
            (open_givers or frozenset())
            | frozenset(g for g in capacities if used[g] < capacities[g])
            | frozenset(g for elder, g in chosen if tier[elder] > worst)
        )
        county_wide |= short
    return edges, chosen


def _overlaps(a: Region, b: Region) -> bool:
    """Do two areas overlap (is one inside the other)?"""
    return a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)


def _fail_stale_runs() -> None:
    MatchRun.objects.filter(status__in=UNFINISHED_RUN_STATUSES, created_at__lt=timezone.now() - RUN_STALE_AFTER).update(
        status=MatchRunStatus.FAILED, stage="failed", message=str(RUN_STALE), finished_at=timezone.now()
    )


def match_start(
    *, region: Region, user=None, apply: bool = False, request=None, background: bool | None = None
) -> MatchRun:
    """Queue a matching run for an area and start it off the request; return the run (queued, or done /
    failed when it ran inline).

    `user` None is the system; a person must be an officer over `region` (else OUT_OF_SCOPE). Refused
    with RUN_BUSY while a run for an overlapping area is queued or running: the start is serialised by
    locking the province's region row, so two officers pressing the button at once get one run.
    `background` None: in a thread started on commit unless `settings.MATCH_RUN_INLINE`; False: inline.
    """
    if user is not None and not can_run(user, region):
        raise ValidationError(OUT_OF_SCOPE, code="out_of_scope")
    if background is None:
        background = not getattr(settings, "MATCH_RUN_INLINE", False)
    with transaction.atomic():
        list(Region.objects.select_for_update().filter(code=region.code[:2] + "0" * 10).values_list("pk"))
        _fail_stale_runs()
        unfinished = MatchRun.objects.filter(status__in=UNFINISHED_RUN_STATUSES).select_related("region")
        if any(_overlaps(other.region, region) for other in unfinished):
            raise ValidationError(RUN_BUSY, code="run_busy")
        run = MatchRun.objects.create(
            region=region, run_by=_user(user), applied=apply, status=MatchRunStatus.QUEUED, stage="queued"
        )
        audit.record(
            AuditAction.CREATE,
            request=request,
            actor=_user(user),
            obj=run,
            changes={"region": region.code, "applied": apply},
        )
    if background:
        transaction.on_commit(lambda: _start_thread(run.pk))
        return run
    return match_execute(run.pk)


def _start_thread(run_pk: int) -> None:
    def work():
        try:
            # A busy database (SQLite: "database table is locked") may refuse the first writes; claiming
            # the run is a conditional UPDATE, so trying again is safe.
            for attempt in range(RUN_START_ATTEMPTS):
                try:
                    match_execute(run_pk)
                    return
                except OperationalError:
                    if attempt == RUN_START_ATTEMPTS - 1:
                        logger.exception("Matching run %s could not start", run_pk)
                    time.sleep(0.5 * (attempt + 1))
        finally:
            connections.close_all()  # this thread's own connection

    threading.Thread(target=work, name=f"match-run-{run_pk}", daemon=True).start()


def match_execute(run_pk: int) -> MatchRun:
    """Work a queued run: claim it (queued → running, once: a replay does nothing), compute, save.
    Any error marks the run failed with its message instead of propagating: the page shows it."""
    if not MatchRun.objects.filter(pk=run_pk, status=MatchRunStatus.QUEUED).update(
        status=MatchRunStatus.RUNNING, stage="reading", progress=1
    ):
        return MatchRun.objects.get(pk=run_pk)
    run = MatchRun.objects.select_related("region", "run_by").get(pk=run_pk)
    try:
        if connection.in_atomic_block:  # inline, inside a request: a savepoint keeps the request usable
            with transaction.atomic():
                _compute(run)
        else:  # in its thread: autocommit, so that the page sees the progress
            _compute(run)
    except Exception as exc:  # reported on the run, not raised: nobody waits on this thread
        logger.exception("Matching run %s failed", run_pk)
        for attempt in range(RUN_START_ATTEMPTS):  # the database may be busy, as it was for the run
            try:
                MatchRun.objects.filter(pk=run_pk).update(
                    status=MatchRunStatus.FAILED,
                    stage="failed",
                    message=f"{type(exc).__name__}: {exc}"[:1000],
                    finished_at=timezone.now(),
                )
                break
            except OperationalError:
                time.sleep(0.5 * (attempt + 1))
    run.refresh_from_db()
    return run


def match_run(*, region: Region, user=None, apply: bool = False, request=None) -> MatchRun:
    """Run the matching for an area now (inline) and store the proposals (or, with `apply`, active
    pairings); the `match` command and the benchmarks use it. See `match_start` for the checks."""
    return match_start(region=region, user=user, apply=apply, request=request, background=False)


def _compute(run: MatchRun) -> None:
    """The run itself. Reading and solving happen outside any transaction with progress written as it
    goes; the earlier proposals are replaced and the new ones saved in one transaction at the end."""
    started = time.perf_counter()
    region, user, apply = run.region, run.run_by, run.applied
    prefix = region.prefix

    def progress(percent: int, stage: str) -> None:
        MatchRun.objects.filter(pk=run.pk).update(progress=percent, stage=stage)

    # Open proposals of earlier runs in the area: replaced by this run (they take no place meanwhile)
    # and kept as "current" pairs for continuity.
    replaced = Q(elder__village__code__startswith=prefix, status=PairingStatus.PROPOSED, origin=PairingOrigin.MATCHING)
    continuing: dict[str, set[int]] = defaultdict(set)
    for elder_id, user_id, org_id in Pairing.objects.filter(replaced).values_list(
        "elder_id", "giver_user_id", "giver_organisation_id"
    ):
        continuing[_giver_key(user_id, org_id)].add(elder_id)

    area = _read_area(prefix)
    before = _coverage(area)
    elders, _villages = _elder_inputs(prefix, area)
    givers = _giver_inputs(prefix[:6], continuing, replaced)
    progress(10, "scoring")
    already_open = {
        (elder_id, _giver_key(user_id, org_id))
        for elder_id, user_id, org_id in Pairing.objects.filter(
            elder__village__code__startswith=prefix, status__in=OPEN_STATUSES
        )
        .exclude(replaced)
        .values_list("elder_id", "giver_user_id", "giver_organisation_id")
    }
    edges, chosen = _solve(elders, givers, already_open, progress)
    demands = {e.id: e.demand for e in elders}
    capacities = {g.id: g.capacity for g in givers}
    progress(85, "saving")

    categories = {c.slug: c for c in ServiceCategory.objects.all()}
    elder_needs = {e.id: e.needs | e.professional_needs for e in elders}
    status = PairingStatus.ACTIVE if apply else PairingStatus.PROPOSED
    with transaction.atomic():
        Pairing.objects.filter(replaced).update(status=PairingStatus.DECLINED, end_reason=EndReason.SUPERSEDED)
        # Pairs made by hand while the run worked are not proposed a second time.
        open_now = {
            (elder_id, _giver_key(user_id, org_id))
            for elder_id, user_id, org_id in Pairing.objects.filter(
                elder__village__code__startswith=prefix, status__in=OPEN_STATUSES
            ).values_list("elder_id", "giver_user_id", "giver_organisation_id")
        }
        chosen = [pair for pair in chosen if pair not in open_now]
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
                    **_giver_fields(giver_key),
                    status=status,
                    origin=PairingOrigin.MATCHING,
                    match_run=run,
                    score=edge.score,
                    component=edge.component,
                    reasons=list(edge.reasons),
                    confirmed_by=user if apply else None,
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
            "organisations": sum(1 for g in givers if str(g.id).startswith("o")),
            "demand": sum(demands.values()),
            "capacity": sum(capacities.values()),
            "candidates": len(edges),
        }
        run.scores = {
            "count": len(values),
            "min": min(values, default=0),
            "max": max(values, default=0),
            "edges": [[e, g, s.score, s.component] for (e, g), s in edges.items()]
            if len(edges) <= KEEP_ALL_SCORES
            else [],
        }
        run.chosen = chosen_rows
        run.total_score = sum(r["score"] for r in chosen_rows)
        run.coverage_before, run.coverage_after = before, after
        run.status = MatchRunStatus.DONE
        run.progress, run.stage = 100, "done"
        run.finished_at = timezone.now()
        run.seconds = round(time.perf_counter() - started, 3)
        run.save()
        audit.record(
            AuditAction.CHANGE,
            actor=user,
            obj=run,
            changes={"region": region.code, "pairs": len(chosen_rows), "applied": apply, "status": run.status},
        )
        if apply and created:
            made = list(Pairing.objects.filter(match_run=run).select_related("elder__village"))
            transaction.on_commit(lambda: _notify_paired(made))


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
