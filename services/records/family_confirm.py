"""Confirmation of a service record by the elder's family contact, by SMS code (家属短信确认).

The giver or the village liaison may send a code to a family contact of the elder (one with a phone). The
family member opens a public page, types their phone number and the code, and the record is confirmed —
the row says "家属 张三 短信确认". It is optional: the liaison can always confirm as before.

Safety, as for the SMS password reset (portal/password_reset.py): a 6-digit code kept only as a keyed hash,
valid `FAMILY_CONFIRM_TTL_MINUTES` (30), `MAX_ATTEMPTS` (5) wrong tries, spent on first use; sending is
limited per record; the public page is limited per client address. A record that is no longer submitted
(confirmed, rejected, changed to locked) cannot be confirmed by a stale code.

The elder-link rule still holds: the confirmed record must pass services.records.rules.check_record, so a giver not
paired with the elder still needs the liaison.
"""

import datetime
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.audit import client_ip
from portal.models import AuditAction
from portal.phone import mask_phone
from portal.sms import send_sms
from services.models import FamilyContact
from services.records.models import RecordStatus, ServiceRecord, hours_display
from services.records.rules import check_record, is_liaison_of
from volunteers.models import FamilyConfirmation

MAX_ATTEMPTS = 5
MAX_SENDS_PER_RECORD = 3
RESEND_AFTER = datetime.timedelta(minutes=1)
IP_LIMIT = 20  # tries per client address per IP_WINDOW
IP_WINDOW = 10 * 60

NOT_SENDER = _("Only the giver or the village liaison can ask the family to confirm this record.")
NOT_SUBMITTED = _("This record is no longer waiting for confirmation.")
NO_FAMILY_PHONE = _("The elder has no family contact with a mobile number.")
WRONG_CONTACT = _("Choose one of the elder's family contacts.")
SENT_TOO_OFTEN = _("A code was sent a moment ago, or too many codes were sent for this record. Wait and try again.")
CODE_GONE = _("This code has expired or was already used. Ask the volunteer or the liaison for a new one.")
CODE_WRONG = _("The mobile number or the code is not correct. Check the SMS and try again.")
CODE_LOCKED = _("Wrong code entered too many times. Ask the volunteer or the liaison for a new one.")
TOO_MANY_TRIES = _("Too many tries from this device. Wait ten minutes and try again.")
WHO_CONFIRMED = _("Family member %(name)s confirmed by SMS")


def ttl() -> datetime.timedelta:
    return datetime.timedelta(minutes=int(getattr(settings, "FAMILY_CONFIRM_TTL_MINUTES", 30)))


def _digest(record_pk: int, phone: str, code: str) -> str:
    key = hashlib.sha256(f"family-confirm:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{record_pk}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def contacts_with_phone(record: ServiceRecord):
    if record.elder_id is None:
        return FamilyContact.objects.none()
    return FamilyContact.objects.filter(elder_id=record.elder_id).exclude(phone="").order_by("-is_primary", "pk")


def may_send(user, record: ServiceRecord) -> bool:
    """The giver of the record or the liaison of its village, while it waits and the elder has family by phone."""
    if not getattr(user, "is_authenticated", False) or record.elder_id is None:
        return False
    if record.status != RecordStatus.SUBMITTED or record.is_reversal:
        return False
    return user.pk == record.giver_id or is_liaison_of(user, record.region_id)


def confirmation_of(record: ServiceRecord):
    """The family confirmation that confirmed this record, if any."""

    return FamilyConfirmation.objects.filter(record=record, confirmed_at__isnull=False).first()


def panel(user, record: ServiceRecord) -> dict:
    """What the record page shows about family confirmation (two small queries)."""
    confirmed = confirmation_of(record)
    contacts = list(contacts_with_phone(record)) if may_send(user, record) else []
    return {
        "confirmed": confirmed,
        "confirmed_text": WHO_CONFIRMED % {"name": confirmed.contact_name} if confirmed else "",
        "contacts": [(c.pk, f"{c.name}（{c.relation}）{mask_phone(c.phone)}") for c in contacts],
        "may_send": bool(contacts),
    }


@transaction.atomic
def send_code(*, actor, record: ServiceRecord, contact_pk: int | None = None, request=None, confirm_url: str = ""):
    """Send a confirmation code to a family contact of the record's elder; returns the FamilyConfirmation."""

    record = ServiceRecord.objects.select_for_update(of=("self",)).select_related("elder", "giver").get(pk=record.pk)
    if record.status != RecordStatus.SUBMITTED:
        raise ValidationError(NOT_SUBMITTED, code="not_submitted")
    if not may_send(actor, record):
        raise PermissionDenied(NOT_SENDER)
    contacts = contacts_with_phone(record)
    if not contacts.exists():
        raise ValidationError(NO_FAMILY_PHONE, code="no_family_phone")
    contact = contacts.filter(pk=contact_pk).first() if contact_pk else contacts.first()
    if contact is None:
        raise ValidationError(WRONG_CONTACT, code="wrong_contact")
    now = timezone.now()
    earlier = FamilyConfirmation.objects.filter(record=record)
    last = earlier.order_by("-sent_at").first()
    if earlier.count() >= MAX_SENDS_PER_RECORD or (last and last.sent_at > now - RESEND_AFTER):
        raise ValidationError(SENT_TOO_OFTEN, code="sent_too_often")
    # a new code replaces any earlier one still open for this record
    earlier.filter(confirmed_at__isnull=True).update(code_digest="")
    code = f"{secrets.randbelow(10**6):06d}"
    confirmation = FamilyConfirmation.objects.create(
        record=record,
        contact=contact,
        contact_name=contact.name,
        contact_relation=contact.relation,
        phone=contact.phone,
        code_digest=_digest(record.pk, contact.phone, code),
        expires_at=now + ttl(),
        sent_by=actor,
    )
    local = timezone.localtime(record.start)
    message = gettext(
        "%(giver)s recorded %(hours)s hours of service for %(elder)s on %(month)s/%(day)s (%(content)s). "
        "If this is true, enter code %(code)s at %(url)s within %(minutes)s minutes."
    ) % {
        "giver": record.giver,
        "hours": hours_display(record.minutes),
        "elder": record.elder.name,
        "month": local.month,
        "day": local.day,
        "content": record.content[:20],
        "code": code,
        "url": confirm_url,
        "minutes": int(ttl().total_seconds() // 60),
    }
    send_sms(contact.phone, message)
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=record,
        changes={"family_code_sent": mask_phone(contact.phone), "contact": contact.pk},
    )
    return confirmation


def _ip_allows(request) -> bool:
    key = f"family-confirm:ip:{client_ip(request) or 'unknown'}"
    cache.add(key, 0, IP_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, IP_WINDOW)
        count = 1
    return count <= IP_LIMIT


def confirm(*, phone: str, code: str, request=None) -> ServiceRecord:
    """The family member's code: confirm the record it was sent for, or raise ValidationError (nothing changes).

    Wrong tries are counted in their own transaction, so they stick even though the call fails."""

    if request is not None and not _ip_allows(request):
        raise ValidationError(TOO_MANY_TRIES, code="too_many_tries")
    now = timezone.now()
    open_codes = FamilyConfirmation.objects.filter(phone=phone, confirmed_at__isnull=True).exclude(code_digest="")
    with transaction.atomic():
        candidates = list(open_codes.select_for_update().order_by("-sent_at"))
        match = next(
            (c for c in candidates if hmac.compare_digest(c.code_digest, _digest(c.record_id, phone, code))), None
        )
        if match is None:
            live = [c for c in candidates if c.expires_at > now]
            for candidate in live:
                candidate.attempts += 1
                if candidate.attempts >= MAX_ATTEMPTS:
                    candidate.code_digest = ""  # locked: a new code is needed
                candidate.save(update_fields=["attempts", "code_digest"])
            if any(c.attempts >= MAX_ATTEMPTS for c in live):
                raise_later = ValidationError(CODE_LOCKED, code="code_locked")
            else:
                raise_later = ValidationError(CODE_WRONG, code="code_wrong")
        else:
            raise_later = None
    if raise_later is not None:
        raise raise_later
    with transaction.atomic():
        confirmation = FamilyConfirmation.objects.select_for_update().get(pk=match.pk)
        if not confirmation.code_digest or confirmation.confirmed_at is not None:
            raise ValidationError(CODE_GONE, code="code_gone")  # spent by a concurrent use
        if confirmation.expires_at <= now:
            confirmation.code_digest = ""
            confirmation.save(update_fields=["code_digest"])
            raise_later = ValidationError(CODE_GONE, code="code_gone")
        else:
            return _confirm_record(confirmation, now=now, request=request)
    raise raise_later


def _confirm_record(confirmation, *, now, request) -> ServiceRecord:
    record = ServiceRecord.objects.select_for_update().get(pk=confirmation.record_id)
    if record.status != RecordStatus.SUBMITTED:
        raise ValidationError(NOT_SUBMITTED, code="not_submitted")
    record.status, record.confirmed_by, record.confirmed_at = RecordStatus.CONFIRMED, None, now
    check_record(record)
    changed = ServiceRecord.objects.filter(pk=record.pk, status=RecordStatus.SUBMITTED).update(
        status=RecordStatus.CONFIRMED, confirmed_by=None, confirmed_at=now, updated_at=now
    )
    if not changed:
        raise ValidationError(NOT_SUBMITTED, code="not_submitted")
    confirmation.confirmed_at, confirmation.code_digest = now, ""
    confirmation.save(update_fields=["confirmed_at", "code_digest"])
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=None,
        obj=record,
        changes={
            "status": [RecordStatus.SUBMITTED, RecordStatus.CONFIRMED],
            "confirmed_by_family": confirmation.contact_name,
            "confirmation": confirmation.pk,
        },
    )
    return record
