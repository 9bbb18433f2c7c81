"""Writes of the spot checks: the monthly draw and the call-back result, with its dispute.

"Did not happen" on a purchased-service record reverses the record (services.records.actions.write_reversal):
a record in a draft settlement leaves it when the draft is built again here; a record already settled becomes
a negative adjustment line, at the price it was paid, in the next settlement built
(services.purchasing.settlements). The provider's admins and the village liaison are told by SMS.
"""

import datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from portal import audit
from portal.formatting import cn_date
from portal.models import AuditAction, Region, RoleKind, StaffRole
from portal.sms_templates import send_template
from services.purchasing import settlements
from services.purchasing.models import SettlementRecord, SettlementStatus
from services.records.actions import write_reversal
from services.records.models import COUNTED_STATUSES, ServiceRecord
from services.spotchecks import draw as drawing
from services.spotchecks import rules
from services.spotchecks.models import MAX_TRIES, SpotCheck, SpotCheckDraw, SpotCheckKind, SpotCheckOutcome
from volunteers.models import Membership, MembershipStatus

NO_ANSWER = "no_answer"  # a call nobody answered: counts a try; the third makes the check "unreachable"
RESULTS = (SpotCheckOutcome.CONFIRMED, SpotCheckOutcome.NOT_HAPPENED, SpotCheckOutcome.PARTLY, NO_ANSWER)


def summary(draw: SpotCheckDraw, *, created: bool) -> dict:
    kinds = dict.fromkeys(SpotCheckKind.values, 0)
    for kind in draw.checks.values_list("kind", flat=True):
        kinds[kind] += 1
    return {
        "region": draw.region_id,
        "month": f"{draw.month:%Y-%m}",
        "seed": draw.seed,
        "share": str(draw.share),
        "population": draw.population,
        "drawn": draw.drawn,
        "visits": kinds[SpotCheckKind.VISIT],
        "records": kinds[SpotCheckKind.PURCHASED],
        "created": created,
    }


@transaction.atomic
def draw_month(
    *,
    actor,
    region: Region,
    month: datetime.date,
    seed: int | None = None,
    share: Decimal | None = None,
    system: bool = False,
    request=None,
) -> tuple[SpotCheckDraw, bool]:
    """Draw the month's spot checks of a county or township; a month already drawn is returned as it is."""
    if region.level not in rules.DRAW_LEVELS:
        raise ValidationError(rules.NOT_DRAW_LEVEL, code="level")
    if not system and not rules.may_draw(actor, region):
        raise PermissionDenied(rules.NOT_DRAWER)
    month = month.replace(day=1)
    existing = SpotCheckDraw.objects.filter(region=region, month=month).first()
    if existing is not None:
        return existing, False
    # A draw of a township whose county was drawn (or the reverse) would call the same elders twice.
    overlapping = SpotCheckDraw.objects.filter(month=month).select_related("region")
    for other in overlapping:
        if other.region.contains(region) or region.contains(other.region):
            return other, False
    share = (drawing.default_share() if share is None else Decimal(share)).quantize(Decimal("0.0001"))
    seed = drawing.new_seed() if seed is None else int(seed)
    strata = drawing.population(region.prefix, month)
    picked = drawing.sample(strata, seed=seed, share=share)
    try:
        with transaction.atomic():
            draw = SpotCheckDraw.objects.create(
                region=region,
                month=month,
                share=share,
                seed=seed,
                population=sum(len(items) for items in strata.values()),
                drawn=len(picked),
                drawn_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        return SpotCheckDraw.objects.get(region=region, month=month), False
    SpotCheck.objects.bulk_create(
        SpotCheck(
            draw=draw,
            kind=kind,
            visit_id=pk if kind == drawing.VISIT else None,
            record_id=pk if kind == drawing.PURCHASED else None,
            elder_id=elder_id,
            village_id=village,
            organisation_id=organisation_id,
        )
        for kind, pk, elder_id, village, organisation_id in picked
    )
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        obj=draw,
        changes={"seed": seed, "share": str(share), "drawn": len(picked)},
    )
    return draw, True


def _phones_to_tell(check: SpotCheck) -> list[str]:
    phones = set(
        StaffRole.objects.filter(
            region_id=check.village_id, role=RoleKind.VILLAGE_LIAISON, user__is_active=True
        ).values_list("user__phone", flat=True)
    )
    if check.organisation_id:
        phones |= set(
            Membership.objects.filter(
                organisation_id=check.organisation_id, is_admin=True, status=MembershipStatus.ACTIVE
            ).values_list("user__phone", flat=True)
        )
    return sorted(p for p in phones if p)


def _tell(check: SpotCheck, when: datetime.datetime) -> None:
    values = {
        "what": str(check.get_kind_display()),
        "date": cn_date(when),
        "village": check.village.name,
    }
    for phone in _phones_to_tell(check):
        transaction.on_commit(lambda phone=phone: send_template(phone, "spotcheck_dispute", **values))


def _dispute_record(*, actor, check: SpotCheck, request=None) -> ServiceRecord | None:
    """Reverse the record; a draft settlement holding it is built again without it."""
    original = ServiceRecord.objects.select_for_update().filter(pk=check.record_id).first()
    if original is None or original.status not in COUNTED_STATUSES:
        return None
    if ServiceRecord.objects.filter(reverses=original).exists():
        return None
    reversal = write_reversal(actor=actor, original=original, reason=str(rules.DISPUTE_REASON), request=request)
    drafts = (
        SettlementRecord.objects.filter(record=original, settlement__status=SettlementStatus.DRAFT)
        .select_related("settlement__contract")
        .values_list("settlement__contract", "settlement__month")
    )
    for contract_id, month in list(drafts):
        contract = settlements.PurchaseContract.objects.get(pk=contract_id)
        settlements.settlement_build(actor=actor, contract=contract, month=month, system=True, request=request)
    return reversal


@transaction.atomic
def record_result(*, actor, check: SpotCheck, result: str, note: str = "", request=None) -> SpotCheck:
    """Record one call-back. `result` is an outcome or NO_ANSWER (a try; the third makes it unreachable)."""
    locked = (
        SpotCheck.objects.select_for_update(of=("self",))
        .filter(pk=check.pk)
        .select_related("village", "record")
        .first()
    )
    if locked is None:
        raise Http404
    if not rules.may_call(actor, locked.village_id):
        raise PermissionDenied(rules.NOT_CALLER)
    if result not in RESULTS:
        raise ValidationError(rules.UNKNOWN_RESULT, code="result")
    if locked.outcome != SpotCheckOutcome.PENDING:
        raise ValidationError(rules.ALREADY_DONE, code="done", params={"outcome": locked.get_outcome_display()})
    note = (note or "").strip()[:300]
    if result in (SpotCheckOutcome.NOT_HAPPENED, SpotCheckOutcome.PARTLY) and not note:
        raise ValidationError(rules.NOTE_REQUIRED, code="note")
    before = locked.outcome
    now = timezone.now()
    if result == NO_ANSWER:
        locked.tries += 1
        if locked.tries >= MAX_TRIES:
            locked.outcome = SpotCheckOutcome.UNREACHABLE
    else:
        locked.outcome = result
    if note:
        locked.note = note
    locked.called_by = actor
    locked.called_at = now
    if locked.outcome == SpotCheckOutcome.NOT_HAPPENED:
        if locked.kind == SpotCheckKind.PURCHASED:
            locked.reversal = _dispute_record(actor=actor, check=locked, request=request)
        when = locked.record.start if locked.record_id else locked.visit.visited_at
        _tell(locked, when)
    locked.save()
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=locked,
        changes={
            "outcome": [before, locked.outcome],
            "tries": locked.tries,
            **({"reversal": locked.reversal_id} if locked.reversal_id else {}),
        },
    )
    return locked


def result_label(result: str) -> str:
    if result == NO_ANSWER:
        return gettext("Nobody answered")
    return str(SpotCheckOutcome(result).label)
