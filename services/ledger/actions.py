"""The elder ledger's operations: create, edit (optimistic locking), change status, families, duty.

Every function is keyword-only, atomic and writes its history entry (ElderChange) and audit event.
ID numbers and phones are masked in every history entry and audit event; the clear ID number lives
only in the encrypted column."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.identity import check_agrees, keyed_hash, parse_resident_id
from portal.models import AuditAction, Region, RegionLevel
from portal.phone import clean_phone
from portal.scoping import can_write
from services.care.state import refresh_elders
from services.ledger import selectors as ledger_reads
from services.ledger.eligibility import check_eligibility
from services.ledger.models import (
    CareAgreement,
    DutyReminder,
    Elder,
    ElderChange,
    ElderChangeKind,
    ElderStatus,
    FamilyContact,
    LeftBehindBasis,
)
from services.pairing.lifecycle import pairings_end_for_elder


class StaleEdit(ValidationError):
    """Raised when the record changed since the form was loaded."""

    def __init__(self):
        super().__init__(ledger_reads.STALE_EDIT, code="stale_edit")


# --- checks shared with the forms and the import ---------------------------------------------------


def identity_check(*, id_number: str, birth_date: datetime.date | None, gender: str | None) -> str:
    """Normalise and check an ID number and its agreement with birth date and sex; return the number."""
    number = parse_resident_id(id_number)[0]
    check_agrees(number, birth_date=birth_date, sex=gender)
    return number


def _check_village(actor, village: Region) -> None:
    if village.level != RegionLevel.VILLAGE:
        raise ValidationError({"village": ValidationError(ledger_reads.NOT_A_VILLAGE, code="not_village")})
    if not ledger_reads.can_edit(actor, village):
        raise ValidationError({"village": ValidationError(ledger_reads.VILLAGE_OUT_OF_SCOPE, code="village_scope")})


def eligibility_check(*, birth_date, basis: str) -> None:
    """Refuse someone outside the policy's definition (services.ledger.eligibility), naming the reason."""
    result = check_eligibility(birth_date=birth_date, basis=basis or "")
    if not result.eligible:
        raise ValidationError({result.field: ValidationError(result.reason, code="not_eligible")})


def _normalise(data: dict) -> dict:
    data = dict(data)
    if data.get("phone"):
        data["phone"] = clean_phone(data["phone"])
    if "id_number" in data:
        data["id_number"] = identity_check(
            id_number=data["id_number"], birth_date=data.get("birth_date"), gender=data.get("gender")
        )
    return data


# --- operations ------------------------------------------------------------------------------------


@transaction.atomic
def elder_create(*, actor, data: dict, request=None) -> Elder:
    """Put an elder on the ledger. `data` holds LEDGER_FIELDS (village a Region)."""
    if not can_write(actor):
        raise ValidationError(ledger_reads.READ_ONLY, code="read_only")
    data = _normalise({k: v for k, v in data.items() if k in ledger_reads.LEDGER_FIELDS})
    _check_village(actor, data["village"])
    eligibility_check(birth_date=data.get("birth_date"), basis=data.get("left_behind_basis", ""))
    id_hash = keyed_hash(data["id_number"])
    if Elder.objects.filter(id_hash=id_hash).exists():
        raise ValidationError({"id_number": ValidationError(ledger_reads.DUPLICATE_ID, code="duplicate_id")})
    elder = Elder(**data, id_hash=id_hash, created_by=actor if actor and actor.pk else None)
    elder.full_clean(exclude=["id_hash"])
    elder.save()
    changes = {f: [None, v] for f, v in ledger_reads.snapshot(elder).items() if v not in ("", None, False, 0)}
    ElderChange.objects.create(elder=elder, kind=ElderChangeKind.CREATE, actor=_user(actor), changes=changes)
    audit.record(AuditAction.CREATE, request=request, actor=_user(actor), obj=elder, changes=changes)
    return elder


@transaction.atomic
def elder_update(*, actor, elder: Elder, data: dict, expected_version: int, request=None) -> Elder:
    """Save changed fields if nobody saved the elder since `expected_version`; else raise StaleEdit."""
    if not ledger_reads.can_edit(actor, elder.village_id):
        raise ValidationError(ledger_reads.READ_ONLY, code="read_only")
    current = Elder.objects.select_for_update().get(pk=elder.pk)
    if current.version != expected_version:
        raise StaleEdit()
    data = {k: v for k, v in data.items() if k in ledger_reads.LEDGER_FIELDS}
    if "id_number" in data or "birth_date" in data or "gender" in data:
        data.setdefault("id_number", current.id_number)
        data.setdefault("birth_date", current.birth_date)
        data.setdefault("gender", current.gender)
    data = _normalise(data)
    if "village" in data and data["village"].code != current.village_id:
        _check_village(actor, data["village"])
    changes = ledger_reads._raw_diff(current, data)
    if not changes:
        return current
    if "birth_date" in changes or "left_behind_basis" in changes:
        eligibility_check(
            birth_date=data.get("birth_date", current.birth_date),
            basis=data.get("left_behind_basis", current.left_behind_basis),
        )
    for field, value in data.items():
        setattr(current, field, value)
    if "id_number" in changes:
        current.id_hash = keyed_hash(current.id_number)
        if Elder.objects.filter(id_hash=current.id_hash).exclude(pk=current.pk).exists():
            raise ValidationError({"id_number": ValidationError(ledger_reads.DUPLICATE_ID, code="duplicate_id")})
    current.full_clean(exclude=["id_hash"])
    # the conditional UPDATE is the lock that also holds on databases without SELECT … FOR UPDATE
    if not Elder.objects.filter(pk=current.pk, version=expected_version).update(version=F("version") + 1):
        raise StaleEdit()
    current.version = expected_version + 1
    current.save()
    ElderChange.objects.create(elder=current, kind=ElderChangeKind.CHANGE, actor=_user(actor), changes=changes)
    audit.record(AuditAction.CHANGE, request=request, actor=_user(actor), obj=current, changes=changes)
    return current


@transaction.atomic
def eligibility_reviewed(*, actor, elder: Elder, basis: str, request=None) -> Elder:
    """The yearly review: the elder is still left behind for `basis`. Refused with the policy's reason when the
    data say otherwise (under 60: correct the birth date or change the status to 不再留守)."""
    if not ledger_reads.can_edit(actor, elder.village_id):
        raise ValidationError(ledger_reads.READ_ONLY, code="read_only")
    if basis not in (LeftBehindBasis.CHILDREN_AWAY, LeftBehindBasis.NO_CAPABLE_SUPPORTER):
        raise ValidationError({"basis": ValidationError(_("Choose why the elder is left behind."), code="basis")})
    current = Elder.objects.select_for_update().get(pk=elder.pk)
    eligibility_check(birth_date=current.birth_date, basis=basis)
    today = timezone.localdate()
    changes = {"eligibility_reviewed_on": [plain_date(current.eligibility_reviewed_on), plain_date(today)]}
    if current.left_behind_basis != basis:
        changes["left_behind_basis"] = [current.left_behind_basis, basis]
    Elder.objects.filter(pk=current.pk).update(
        left_behind_basis=basis, eligibility_reviewed_on=today, version=F("version") + 1, updated_at=timezone.now()
    )
    current.refresh_from_db()
    ElderChange.objects.create(elder=current, kind=ElderChangeKind.CHANGE, actor=_user(actor), changes=changes)
    audit.record(AuditAction.CHANGE, request=request, actor=_user(actor), obj=current, changes=changes)
    return current


def plain_date(value) -> str | None:
    return value.isoformat() if value else None


@transaction.atomic
def elder_change_status(
    *, actor, elder: Elder, status: str, reason: str, expected_version: int | None = None, request=None
) -> Elder:
    """Mark an elder moved / deceased / no longer left behind (or back on the ledger), with a reason."""
    if not ledger_reads.can_edit(actor, elder.village_id):
        raise ValidationError(ledger_reads.READ_ONLY, code="read_only")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError(ledger_reads.REASON_REQUIRED, code="reason_required")})
    if status not in ElderStatus.values:
        raise ValidationError({"status": ValidationError(_("Choose a status."), code="bad_status")})
    current = Elder.objects.select_for_update().get(pk=elder.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleEdit()
    if current.status == status:
        raise ValidationError({"status": ValidationError(ledger_reads.STATUS_UNCHANGED, code="status_unchanged")})
    changes = {"status": [current.status, status]}
    Elder.objects.filter(pk=current.pk).update(
        status=status,
        status_reason=reason,
        status_changed_at=timezone.now(),
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    refresh_elders([current.pk])  # off the ledger: no visit due, not overdue (stored state)
    current.refresh_from_db()
    ElderChange.objects.create(
        elder=current, kind=ElderChangeKind.STATUS, actor=_user(actor), changes=changes, reason=reason
    )
    audit.record(
        AuditAction.CHANGE, request=request, actor=_user(actor), obj=current, changes={**changes, "reason": reason}
    )
    if status != ElderStatus.ACTIVE:
        # An elder who moves, dies or is no longer left behind keeps no open pairing.

        pairings_end_for_elder(elder=current, reason=status, actor=_user(actor), note=reason, request=request)
    return current


def _user(actor):
    return actor if actor is not None and getattr(actor, "pk", None) else None


def _touch(elder: Elder) -> None:
    Elder.objects.filter(pk=elder.pk).update(version=F("version") + 1, updated_at=timezone.now())


# --- families --------------------------------------------------------------------------------------

CONTACT_FIELDS = ("name", "relation", "phone", "works_in", "can_support", "is_primary")


def _contact_plain(contact: FamilyContact) -> dict:
    return {f: ledger_reads.plain(f, getattr(contact, f)) for f in CONTACT_FIELDS}


@transaction.atomic
def family_contact_save(
    *, actor, elder: Elder, data: dict, contact: FamilyContact | None = None, request=None
) -> FamilyContact:
    """Add or change a supporter/family contact; a new primary contact replaces the old one."""
    if not ledger_reads.can_edit(actor, elder.village_id):
        raise ValidationError(ledger_reads.READ_ONLY, code="read_only")
    data = {k: v for k, v in data.items() if k in CONTACT_FIELDS}
    if data.get("phone"):
        data["phone"] = clean_phone(data["phone"])
    before = _contact_plain(contact) if contact else {}
    contact = contact or FamilyContact(elder=elder)
    if contact.elder_id != elder.pk:
        raise ValidationError(_("This contact belongs to another elder."), code="wrong_elder")
    for field, value in data.items():
        setattr(contact, field, value)
    contact.full_clean(exclude=["elder"])
    if contact.is_primary:
        FamilyContact.objects.filter(elder=elder, is_primary=True).exclude(pk=contact.pk).update(is_primary=False)
    contact.save()
    changes = {f"contact:{contact.name}": [before or None, _contact_plain(contact)]}
    ElderChange.objects.create(elder=elder, kind=ElderChangeKind.FAMILY, actor=_user(actor), changes=changes)
    audit.record(
        AuditAction.CREATE if not before else AuditAction.CHANGE,
        request=request,
        actor=_user(actor),
        obj=contact,
        changes=changes,
    )
    _touch(elder)
    return contact


@transaction.atomic
def family_contact_delete(*, actor, contact: FamilyContact, request=None) -> None:
    elder = contact.elder
    if not ledger_reads.can_edit(actor, elder.village_id):
        raise ValidationError(ledger_reads.READ_ONLY, code="read_only")
    changes = {f"contact:{contact.name}": [_contact_plain(contact), None]}
    ElderChange.objects.create(elder=elder, kind=ElderChangeKind.FAMILY, actor=_user(actor), changes=changes)
    audit.record(AuditAction.DELETE, request=request, actor=_user(actor), obj=contact, changes=changes)
    contact.delete()
    _touch(elder)


@transaction.atomic
def agreement_create(*, actor, elder: Elder, data: dict, request=None) -> CareAgreement:
    """Record an entrusted-care agreement (委托照顾协议), with its scan if there is one."""
    if not ledger_reads.can_edit(actor, elder.village_id):
        raise ValidationError(ledger_reads.READ_ONLY, code="read_only")
    fields = ("supporter", "carer_name", "carer_relation", "carer_phone", "start_date", "end_date", "scan", "notes")
    data = {k: v for k, v in data.items() if k in fields}
    if data.get("carer_phone"):
        data["carer_phone"] = clean_phone(data["carer_phone"])
    supporter = data.get("supporter")
    if supporter is not None and supporter.elder_id != elder.pk:
        raise ValidationError({"supporter": ValidationError(_("Choose one of this elder's family contacts."))})
    agreement = CareAgreement(elder=elder, created_by=_user(actor), **data)
    agreement.full_clean(exclude=["elder"])
    agreement.save()
    changes = {
        "agreement": [
            None,
            {
                "carer": agreement.carer_name,
                "from": agreement.start_date.isoformat(),
                "until": agreement.end_date.isoformat() if agreement.end_date else None,
                "scan": bool(agreement.scan),
            },
        ]
    }
    ElderChange.objects.create(elder=elder, kind=ElderChangeKind.FAMILY, actor=_user(actor), changes=changes)
    audit.record(AuditAction.CREATE, request=request, actor=_user(actor), obj=agreement, changes=changes)
    return agreement


# --- family duty -----------------------------------------------------------------------------------


@transaction.atomic
def duty_reminder_create(*, actor, elder: Elder, data: dict, request=None) -> DutyReminder:
    """Record a reminder to a supporter to keep their duty of support (督促履行赡养义务)."""
    if not ledger_reads.can_edit(actor, elder.village_id):
        raise ValidationError(ledger_reads.READ_ONLY, code="read_only")
    fields = ("contact", "reminded_at", "method", "finding", "said", "answer")
    data = {k: v for k, v in data.items() if k in fields}
    contact = data.get("contact")
    if contact is not None and contact.elder_id != elder.pk:
        raise ValidationError({"contact": ValidationError(_("Choose one of this elder's family contacts."))})
    if data.get("reminded_at") and data["reminded_at"] > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"reminded_at": ValidationError(_("The reminder cannot be in the future."))})
    reminder = DutyReminder(elder=elder, recorded_by=_user(actor), **data)
    reminder.full_clean(exclude=["elder"])
    reminder.save()
    audit.record(AuditAction.CREATE, request=request, actor=_user(actor), obj=reminder)
    return reminder
