"""An elder's needs (需求): recorded and closed by staff; open needs steer the matching."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from portal import audit
from portal.models import AuditAction
from services.catalogue.models import ServiceCategory
from services.ledger.models import Elder, ElderStatus
from services.ledger.selectors import can_edit
from services.pairing import lifecycle
from services.pairing import rules as pairing_rules
from services.pairing.models import (
    Need,
    NeedSource,
    Urgency,
)

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
        raise ValidationError(pairing_rules.READ_ONLY, code="read_only")
    if elder.status != ElderStatus.ACTIVE:
        raise ValidationError(pairing_rules.ELDER_NOT_ACTIVE, code="elder_not_active")
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": ValidationError(pairing_rules.BAD_URGENCY, code="bad_urgency")})
    if Need.objects.filter(elder=elder, category=category, closed_at__isnull=True).exists():
        raise ValidationError({"category": ValidationError(pairing_rules.NEED_DUPLICATE, code="need_duplicate")})
    need = Need(
        elder=elder,
        category=category,
        urgency=urgency,
        professional=bool(professional),
        note=(note or "").strip(),
        source=source,
        recorded_by=lifecycle._user(actor),
    )
    need.full_clean()
    try:
        with transaction.atomic():
            need.save()
    except IntegrityError:  # a concurrent submission recorded the same need
        raise ValidationError(
            {"category": ValidationError(pairing_rules.NEED_DUPLICATE, code="need_duplicate")}
        ) from None
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=lifecycle._user(actor),
        obj=need,
        changes={"category": category.slug, "urgency": urgency, "professional": need.professional},
    )
    return need


@transaction.atomic
def need_close(*, actor, need: Need, request=None) -> Need:
    if not can_edit(actor, need.elder.village_id):
        raise ValidationError(pairing_rules.READ_ONLY, code="read_only")
    if not Need.objects.filter(pk=need.pk, closed_at__isnull=True).update(closed_at=timezone.now()):
        raise ValidationError(pairing_rules.NEED_ALREADY_CLOSED, code="need_closed")
    need.refresh_from_db()
    audit.record(AuditAction.CHANGE, request=request, actor=lifecycle._user(actor), obj=need, changes={"closed": True})
    return need
