"""The pairing lifecycle, each operation keyword-only, atomic and audited:

    proposed ──accept──▶ offered ──volunteer accepts──▶ active ──end (reason)──▶ ended
        │                   └──volunteer declines / no answer──▶ declined      (services.pairing.offers)
        ├──accept (an organisation)──▶ active
        └──reject / superseded──▶ declined

A person is asked before a pairing starts: the officer's acceptance makes an offer, texted to the volunteer
with a link. An organisation's places (一帮多) are set by its admins, so its pairings start at once.
Givers are told by SMS when a pairing is offered, starts or ends."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone, translation

from portal import audit
from portal.models import AuditAction, AuditEvent, User
from portal.sms import send_sms
from services.catalogue.models import ServiceCategory
from services.ledger.models import Elder, ElderStatus
from services.pairing import offers
from services.pairing import rules as pairing_rules
from services.pairing.models import (
    OPEN_STATUSES,
    EndReason,
    Pairing,
    PairingOrigin,
    PairingStatus,
)
from volunteers.models import Membership, MembershipStatus, Organisation, OrganisationStatus, VolunteerProfile

# --- the lifecycle ----------------------------------------------------------------------------------


def _user(actor):
    return actor if actor is not None and getattr(actor, "pk", None) else None


def _giver_capacity(giver_user) -> int:
    profile = getattr(giver_user, "volunteer_profile", None)
    return profile.max_elders if profile else 0


def _check_giver(*, elder: Elder, giver_user, giver_organisation) -> None:
    if (giver_user is None) == (giver_organisation is None):
        raise ValidationError(pairing_rules.ONE_GIVER, code="one_giver")
    if giver_user is not None:
        if not giver_user.is_active:
            raise ValidationError(pairing_rules.GIVER_INACTIVE, code="giver_inactive")
        profile = VolunteerProfile.objects.filter(user=giver_user).only("village_id").first()
        if profile is None:
            raise ValidationError(pairing_rules.GIVER_NOT_REGISTERED, code="giver_not_registered")
        home = profile.village_id
        memberships = set(Membership.objects.filter(user=giver_user).values_list("status", flat=True))
        if MembershipStatus.PENDING in memberships and MembershipStatus.ACTIVE not in memberships:
            raise ValidationError(pairing_rules.GIVER_PENDING, code="giver_pending")
    else:
        if giver_organisation.status != OrganisationStatus.APPROVED:
            raise ValidationError(pairing_rules.ORGANISATION_NOT_APPROVED, code="organisation_not_approved")
        home = giver_organisation.region_id
    if home[:6] != elder.village_id[:6]:
        raise ValidationError(pairing_rules.GIVER_TOO_FAR, code="giver_too_far")


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
    if not pairing_rules.can_confirm(actor, elder.village_id):
        raise ValidationError(pairing_rules.READ_ONLY, code="read_only")
    if elder.status != ElderStatus.ACTIVE:
        raise ValidationError(pairing_rules.ELDER_NOT_ACTIVE, code="elder_not_active")
    _check_giver(elder=elder, giver_user=giver_user, giver_organisation=giver_organisation)
    if giver_user is not None and _open_pairs(giver_user) >= _giver_capacity(giver_user):
        raise ValidationError(pairing_rules.GIVER_FULL, code="giver_full")
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
        raise ValidationError(pairing_rules.PAIRING_DUPLICATE, code="pairing_duplicate") from None
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
    'elders'. The pairings carry `elder.village` (select_related). Offers get their own SMS with the link."""
    offers.notify_offered([p for p in pairings if p.status == PairingStatus.OFFERED])
    by_giver: dict[tuple, list[Pairing]] = defaultdict(list)
    for p in pairings:
        if p.status != PairingStatus.ACTIVE:
            continue
        by_giver[("u", p.giver_user_id) if p.giver_user_id else ("o", p.giver_organisation_id)].append(p)
    people, organisations = _giver_phones(
        [k[1] for k in by_giver if k[0] == "u"], [k[1] for k in by_giver if k[0] == "o"]
    )
    with translation.override(settings.LANGUAGE_CODE):
        for (kind, pk), group in by_giver.items():
            phones = [people[pk]] if kind == "u" and pk in people else organisations.get(pk, []) if kind == "o" else []
            if len(group) == 1:
                text = str(pairing_rules.SMS_PAIRED).format(village=group[0].elder.village.name)
            else:
                text = str(pairing_rules.SMS_PAIRED_MANY)
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

    order = {pk: i for i, pk in enumerate(dict.fromkeys(pairing_ids))}
    refused: dict[int, ValidationError] = {}
    locked = list(
        Pairing.objects.select_for_update(of=("self",))
        .filter(pk__in=list(order), status=PairingStatus.PROPOSED)
        .select_related("elder__village", "giver_user", "giver_organisation")
        .order_by("pk")
    )
    for pk in set(order) - {p.pk for p in locked}:
        refused[pk] = ValidationError(pairing_rules.NOT_PROPOSED, code="not_proposed")
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
    # Offers waiting for the volunteer's answer hold their place too.
    active = Pairing.objects.filter(status__in=(PairingStatus.ACTIVE, PairingStatus.OFFERED))
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
        if not pairing_rules.can_confirm(actor, p.elder.village_id):
            refused[p.pk] = ValidationError(pairing_rules.READ_ONLY, code="read_only")
        elif p.elder.status != ElderStatus.ACTIVE:
            refused[p.pk] = ValidationError(pairing_rules.ELDER_NOT_ACTIVE, code="elder_not_active")
        elif p.giver_user_id and not p.giver_user.is_active:
            refused[p.pk] = ValidationError(pairing_rules.GIVER_INACTIVE, code="giver_inactive")
        elif (
            p.giver_user_id
            and used_users[p.giver_user_id] >= places.get(p.giver_user_id, 0)
            or (
                p.giver_organisation_id
                and org_places.get(p.giver_organisation_id, 0) > 0  # 0: not offered to matching; by hand, no limit
                and used_orgs[p.giver_organisation_id] >= org_places[p.giver_organisation_id]
            )
        ):
            refused[p.pk] = ValidationError(pairing_rules.GIVER_FULL, code="giver_full")
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
    # Organisations start at once; a person is offered the pairing and answers (services.pairing.offers).
    org_ids_ok = [p.pk for p in ok if p.giver_organisation_id]
    if org_ids_ok:
        Pairing.objects.filter(pk__in=org_ids_ok, status=PairingStatus.PROPOSED).update(
            status=PairingStatus.ACTIVE, confirmed_by=confirmed_by, confirmed_at=now, start_date=today
        )
    people = [p for p in ok if p.giver_user_id]
    for p in ok:
        p.confirmed_by, p.confirmed_at = confirmed_by, now
        if p.giver_user_id:
            for name, value in offers.offer_fields(now).items():
                setattr(p, name, value)
        else:
            p.status, p.start_date = PairingStatus.ACTIVE, today
    if people:
        Pairing.objects.bulk_update(
            people, ["status", "confirmed_by", "confirmed_at", "offer_token", "offered_at", "offer_expires_at"]
        )
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
                changes={"status": [PairingStatus.PROPOSED, p.status]},
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
    """Confirm a proposal: an organisation's pairing starts today; a person is offered it (SMS with a link)
    and it starts when they accept (`services.pairing.offers.offer_accept`).

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
    """Decline a proposal, or withdraw an offer the volunteer has not answered yet."""
    if not pairing_rules.can_confirm(actor, pairing.elder.village_id):
        raise ValidationError(pairing_rules.READ_ONLY, code="read_only")
    before = Pairing.objects.filter(pk=pairing.pk).values_list("status", flat=True).first()
    updated = Pairing.objects.filter(pk=pairing.pk, status__in=(PairingStatus.PROPOSED, PairingStatus.OFFERED)).update(
        status=PairingStatus.DECLINED, end_reason=EndReason.REJECTED, end_note=(note or "")[:300], ended_by=_user(actor)
    )
    if not updated:
        raise ValidationError(pairing_rules.NOT_PROPOSED, code="not_proposed")
    pairing.refresh_from_db()
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=_user(actor),
        obj=pairing,
        changes={"status": [before, PairingStatus.DECLINED]},
    )
    return pairing


def _end(pairing_ids: list[int], *, reason: str, note: str, actor) -> int:
    """End active pairings and decline open proposals among `pairing_ids`; return how many changed."""
    today = timezone.localdate()
    ended = Pairing.objects.filter(pk__in=pairing_ids, status=PairingStatus.ACTIVE).update(
        status=PairingStatus.ENDED, end_reason=reason, end_note=note[:300], end_date=today, ended_by=_user(actor)
    )
    declined = Pairing.objects.filter(
        pk__in=pairing_ids, status__in=(PairingStatus.PROPOSED, PairingStatus.OFFERED)
    ).update(status=PairingStatus.DECLINED, end_reason=reason, end_note=note[:300], ended_by=_user(actor))
    return ended + declined


@transaction.atomic
def pairing_end(*, actor, pairing: Pairing, reason: str, note: str = "", request=None) -> Pairing:
    """End an active pairing with a reason; the giver is told by SMS and loses access to the elder."""
    if not pairing_rules.can_confirm(actor, pairing.elder.village_id):
        raise ValidationError(pairing_rules.READ_ONLY, code="read_only")
    if reason not in pairing_rules.OFFICER_END_REASONS:
        raise ValidationError({"reason": ValidationError(pairing_rules.BAD_END_REASON, code="bad_end_reason")})
    today = timezone.localdate()
    updated = Pairing.objects.filter(pk=pairing.pk, status=PairingStatus.ACTIVE).update(
        status=PairingStatus.ENDED,
        end_reason=reason,
        end_note=(note or "").strip()[:300],
        end_date=today,
        ended_by=_user(actor),
    )
    if not updated:
        raise ValidationError(pairing_rules.NOT_ACTIVE, code="not_active")
    pairing.refresh_from_db()
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=_user(actor),
        obj=pairing,
        changes={"status": [PairingStatus.ACTIVE, PairingStatus.ENDED], "reason": reason},
    )
    transaction.on_commit(lambda: _notify(pairing, pairing_rules.SMS_ENDED))
    return pairing


@transaction.atomic
def pairings_end_for_elder(*, elder: Elder, reason: str, actor=None, note: str = "", request=None) -> int:
    """End every open pairing of an elder who left the ledger. `reason`: an EndReason or the elder's new
    ElderStatus (moved / deceased / not_left_behind). Call it from `ledger.elder_change_status`."""
    reason = pairing_rules.ELDER_STATUS_REASON.get(reason, reason)
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

    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 0:
        raise ValidationError({"pairing_capacity": ValidationError(pairing_rules.BAD_CAPACITY, code="bad_capacity")})
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
        object_type="services.pairing",
        object_repr=f"pairings of {giver_user or giver_organisation}"[:200],
        changes={"pairings_ended": ids, "reason": reason},
    )
    return changed
