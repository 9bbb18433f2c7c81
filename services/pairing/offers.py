"""The volunteer's consent to a pairing (结对邀请): an accepted proposal for a person becomes an offer.

    proposed ──officer accepts──▶ offered ──volunteer accepts──▶ active
                                     ├──volunteer declines──▶ declined (giver_declined)
                                     └──no answer by the deadline──▶ declined (offer_expired)

An offer holds the giver's place (it is open) but shows the volunteer only the elder's village, age and
needs: the phone and address appear once the pairing is active. The SMS carries a link to the offer page
(a random token, never the elder's details); the page answers only the volunteer it is addressed to
(anyone else gets 404). Declined and expired offers free the place for the next matching run.
Organisations are asked no consent: their admins offered their places to the matching themselves.
"""

from __future__ import annotations

import datetime
import secrets
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone, translation

from portal import audit
from portal.formatting import cn_date
from portal.models import AuditAction, User
from portal.sms import send_sms
from services.ledger.models import ElderStatus
from services.pairing import rules as pairing_rules
from services.pairing.models import EndReason, Need, Pairing, PairingStatus

# How long a volunteer has to answer an offer.
OFFER_DAYS = 7


def new_token() -> str:
    return secrets.token_urlsafe(12)


def offer_fields(now: datetime.datetime) -> dict:
    """The fields that turn a proposal for a person into an offer made at `now` (a fresh token each call)."""
    return {
        "status": PairingStatus.OFFERED,
        "offer_token": new_token(),
        "offered_at": now,
        "offer_expires_at": now + datetime.timedelta(days=OFFER_DAYS),
    }


def offer_url(token: str) -> str:
    base = getattr(settings, "WAGTAILADMIN_BASE_URL", "").rstrip("/")
    return base + reverse("services:pairing-offer", args=[token])


def notify_offered(pairings: list[Pairing]) -> None:
    """One SMS per volunteer for a batch of offers: the village (one offer) or how many, the deadline and
    the link. Nothing about the elder beyond the village. The pairings carry `elder.village`."""
    by_user: dict[int, list[Pairing]] = defaultdict(list)
    for p in pairings:
        if p.giver_user_id and p.status == PairingStatus.OFFERED:
            by_user[p.giver_user_id].append(p)
    if not by_user:
        return
    phones = dict(User.objects.filter(pk__in=list(by_user), is_active=True).values_list("pk", "phone"))
    with translation.override(settings.LANGUAGE_CODE):
        for user_id, group in by_user.items():
            phone = phones.get(user_id)
            if not phone:
                continue
            deadline = cn_date(min(p.offer_expires_at for p in group))
            if len(group) == 1:
                text = str(pairing_rules.SMS_OFFER).format(
                    village=group[0].elder.village.name, deadline=deadline, url=offer_url(group[0].offer_token)
                )
            else:
                text = str(pairing_rules.SMS_OFFERS).format(count=len(group), deadline=deadline, url=offer_url_list())
            send_sms(phone, text)


def offer_url_list() -> str:
    base = getattr(settings, "WAGTAILADMIN_BASE_URL", "").rstrip("/")
    return base + reverse("services:pairing-mine")


# --- reads -------------------------------------------------------------------------------------------


def offers_for(user) -> QuerySet:
    """The open offers addressed to this volunteer, soonest deadline first."""
    if not getattr(user, "is_authenticated", False):
        return Pairing.objects.none()
    return (
        Pairing.objects.filter(giver_user=user, status=PairingStatus.OFFERED)
        .select_related("elder__village__parent")
        .prefetch_related("categories")
        .order_by("offer_expires_at", "pk")
    )


def offer_for(user, token: str) -> Pairing:
    """The pairing offered to `user` under `token` (any status), else Pairing.DoesNotExist."""
    if not getattr(user, "is_authenticated", False) or not isinstance(token, str) or not token:
        raise Pairing.DoesNotExist
    return (
        Pairing.objects.select_related("elder__village__parent", "confirmed_by")
        .prefetch_related(
            "categories",
            Prefetch(
                "elder__needs",
                queryset=Need.objects.filter(closed_at__isnull=True).select_related("category"),
                to_attr="open_needs",
            ),
        )
        .get(offer_token=token, giver_user=user)
    )


# --- writes ------------------------------------------------------------------------------------------


def _expire(pairing_ids: list[int], now) -> int:
    return Pairing.objects.filter(pk__in=pairing_ids, status=PairingStatus.OFFERED).update(
        status=PairingStatus.DECLINED, end_reason=EndReason.OFFER_EXPIRED, answered_at=now
    )


def _locked(actor, token: str) -> Pairing:
    if not getattr(actor, "is_authenticated", False) or not isinstance(token, str) or not token:
        raise Pairing.DoesNotExist
    return (
        Pairing.objects.select_for_update(of=("self",))
        .select_related("elder__village")
        .get(offer_token=token, giver_user=actor)
    )


def offer_accept(*, actor, token: str, request=None) -> Pairing:
    """The volunteer accepts: the pairing starts today and the elder's contact details show on 我的结对.

    Pairing.DoesNotExist when the token is not this volunteer's (the view answers 404). Refused, changing
    nothing: an offer answered already (a replay) — OFFER_ANSWERED; past its deadline — OFFER_EXPIRED (and
    the offer is closed, freeing the place); the elder off the ledger — ELDER_NOT_ACTIVE.
    """
    expired = False
    with transaction.atomic():
        pairing = _locked(actor, token)
        now = timezone.now()
        if pairing.status != PairingStatus.OFFERED:
            raise ValidationError(pairing_rules.OFFER_ANSWERED, code="offer_answered")
        if pairing.offer_expires_at and pairing.offer_expires_at <= now:
            _expire([pairing.pk], now)
            audit.record(
                AuditAction.CHANGE,
                request=request,
                actor=actor,
                obj=pairing,
                changes={"status": [PairingStatus.OFFERED, PairingStatus.DECLINED], "reason": EndReason.OFFER_EXPIRED},
            )
            expired = True
        else:
            if pairing.elder.status != ElderStatus.ACTIVE:
                raise ValidationError(pairing_rules.ELDER_NOT_ACTIVE, code="elder_not_active")
            Pairing.objects.filter(pk=pairing.pk, status=PairingStatus.OFFERED).update(
                status=PairingStatus.ACTIVE, start_date=timezone.localdate(now), answered_at=now
            )
            pairing.refresh_from_db()
            audit.record(
                AuditAction.CHANGE,
                request=request,
                actor=actor,
                obj=pairing,
                changes={"status": [PairingStatus.OFFERED, PairingStatus.ACTIVE]},
            )
    if expired:  # committed: the place is free even though the answer is refused
        raise ValidationError(pairing_rules.OFFER_EXPIRED, code="offer_expired")
    return pairing


@transaction.atomic
def offer_decline(*, actor, token: str, note: str = "", request=None) -> Pairing:
    """The volunteer declines: the offer closes and the place is free for the next matching run."""
    pairing = _locked(actor, token)
    if pairing.status != PairingStatus.OFFERED:
        raise ValidationError(pairing_rules.OFFER_ANSWERED, code="offer_answered")
    now = timezone.now()
    Pairing.objects.filter(pk=pairing.pk, status=PairingStatus.OFFERED).update(
        status=PairingStatus.DECLINED,
        end_reason=EndReason.GIVER_DECLINED,
        end_note=(note or "").strip()[:300],
        answered_at=now,
    )
    pairing.refresh_from_db()
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=pairing,
        changes={"status": [PairingStatus.OFFERED, PairingStatus.DECLINED], "reason": EndReason.GIVER_DECLINED},
    )
    return pairing


@transaction.atomic
def offers_expire(*, now: datetime.datetime | None = None) -> int:
    """Close every offer past its deadline (the scheduler runs it daily); returns how many."""
    now = now or timezone.now()
    ids = list(
        Pairing.objects.filter(status=PairingStatus.OFFERED, offer_expires_at__lte=now).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    changed = _expire(ids, now)
    audit.record(
        AuditAction.CHANGE,
        object_type="services.pairing",
        object_repr="offers past their deadline",
        changes={"pairings_expired": ids, "reason": EndReason.OFFER_EXPIRED},
    )
    return changed
