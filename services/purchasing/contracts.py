"""Purchase contracts (购买服务合同): checked and saved with their priced lines, audited."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from portal import audit
from portal.formatting import money
from portal.models import AuditAction, RegionLevel
from services.purchasing import rules as purchasing_rules
from services.purchasing import selectors as purchasing_reads
from services.purchasing.models import (
    ContractLine,
    PurchaseContract,
    Unit,
)
from volunteers.models import Organisation

# --- contracts -------------------------------------------------------------------------------------


def _overlaps(*, organisation, start, end, item_ids, exclude_pk=None) -> list[ContractLine]:
    lines = ContractLine.objects.filter(
        contract__organisation=organisation,
        contract__start__lte=end,
        contract__end__gte=start,
        service_item_id__in=item_ids,
    ).select_related("contract", "service_item")
    if exclude_pk:
        lines = lines.exclude(contract_id=exclude_pk)
    return list(lines)


def check_contract(contract: PurchaseContract, lines: list[dict]) -> None:
    """Every contract rule; one ValidationError listing all violations."""
    errors = []
    if contract.region_id and contract.region.level not in (RegionLevel.COUNTY, RegionLevel.TOWNSHIP):
        errors.append(ValidationError(purchasing_rules.BUYER_LEVEL, code="buyer_level"))
    if contract.organisation_id and contract.organisation.status != "approved":
        errors.append(ValidationError(purchasing_rules.ORG_NOT_APPROVED, code="org_not_approved"))
    if contract.start and contract.end and contract.end < contract.start:
        errors.append(ValidationError(purchasing_rules.PERIOD_ORDER, code="period_order"))
    if contract.budget is None or contract.budget <= 0:
        errors.append(ValidationError(purchasing_rules.BUDGET_POSITIVE, code="budget_positive"))
    if contract.pk and contract.budget is not None and contract.budget > 0:
        spent = purchasing_reads._exact_spent(contract)
        if contract.budget < spent:
            errors.append(
                ValidationError(
                    purchasing_rules.BUDGET_BELOW_SPENT, code="budget_below_spent", params={"spent": money(spent)}
                )
            )
    if not lines:
        errors.append(ValidationError(purchasing_rules.NO_LINES, code="no_lines"))
    seen = set()
    for line in lines:
        item = line["service_item"]
        if item.pk in seen:
            errors.append(
                ValidationError(purchasing_rules.DUPLICATE_ITEM, code="duplicate_item", params={"item": item.name})
            )
        seen.add(item.pk)
        price = line.get("unit_price")
        if price is None or Decimal(price) <= 0:
            errors.append(ValidationError(purchasing_rules.PRICE_POSITIVE, code="price_positive"))
        for cap in ("cap_per_elder", "cap_per_month"):
            if line.get(cap) is not None and Decimal(line[cap]) <= 0:
                errors.append(ValidationError(purchasing_rules.CAP_POSITIVE, code="cap_positive"))
    if contract.organisation_id and contract.start and contract.end and seen and not errors:
        for other in _overlaps(
            organisation=contract.organisation,
            start=contract.start,
            end=contract.end,
            item_ids=seen,
            exclude_pk=contract.pk,
        ):
            errors.append(
                ValidationError(
                    purchasing_rules.OVERLAP,
                    code="overlap",
                    params={
                        "organisation": contract.organisation.name,
                        "contract": other.contract.number or f"#{other.contract_id}",
                        "item": other.service_item.name,
                        "start": other.contract.start.isoformat(),
                        "end": other.contract.end.isoformat(),
                    },
                )
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def contract_save(*, actor, contract: PurchaseContract, lines: list[dict], request=None) -> PurchaseContract:
    """Create or change a contract and replace its priced lines (kept by item, so their ids survive)."""
    if not purchasing_rules.is_buyer_officer(actor, contract.region):
        raise PermissionDenied(purchasing_rules.NOT_OFFICER)
    creating = contract.pk is None
    if not creating:
        # Lock the row: two officers saving at once would otherwise both pass the overlap check.
        stored = PurchaseContract.objects.select_for_update().get(pk=contract.pk)
        if not purchasing_rules.is_buyer_officer(actor, stored.region):
            raise PermissionDenied(purchasing_rules.NOT_OFFICER)
        parties_changed = (stored.organisation_id, stored.region_id) != (contract.organisation_id, contract.region_id)
        if parties_changed and stored.settlements.exists():
            raise ValidationError(purchasing_rules.PARTIES_FIXED, code="parties_fixed")
    if contract.organisation_id and purchasing_rules.is_provider_admin(actor, contract):
        raise PermissionDenied(purchasing_rules.OWN_CONTRACT)
    # Serialise saves for one organisation (the overlap rule spans its contracts).

    Organisation.objects.select_for_update().filter(pk=contract.organisation_id).first()
    check_contract(contract, lines)
    if creating:
        contract.created_by = actor
    contract.save()
    existing = {line.service_item_id: line for line in contract.lines.all()}
    wanted = {line["service_item"].pk for line in lines}
    ContractLine.objects.filter(contract=contract).exclude(service_item_id__in=wanted).delete()
    for data in lines:
        line = existing.get(data["service_item"].pk) or ContractLine(
            contract=contract, service_item=data["service_item"]
        )
        line.unit = data.get("unit") or Unit.HOUR
        line.unit_price = Decimal(data["unit_price"])
        line.cap_per_elder = data.get("cap_per_elder")
        line.cap_per_month = data.get("cap_per_month")
        line.save()
    audit.record(
        AuditAction.CREATE if creating else AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=contract,
        changes={
            "organisation": contract.organisation_id,
            "period": [contract.start.isoformat(), contract.end.isoformat()],
            "budget": str(contract.budget),
            "lines": [[d["service_item"].pk, d.get("unit"), str(d["unit_price"])] for d in lines],
        },
    )
    return contract
