"""Retention (PIPL arts. 19 and 47): personal data of elders who left the ledger is kept for a set period after
the status change (`LEDGER_RETENTION_DAYS`, default 3 years), then erased by the daily task.

What erasure keeps: the row itself (counts, visits, alerts and settled records still add up), the village,
the sex, the birth *year* and the status. What it erases: the name, the ID number (its hash is replaced, so the
same person can be entered again), phone, address and every free text about the person — on the elder, their
family contacts, care agreements (with the scanned file), duty reminders, visits, alerts, history entries and the
photos of service records. Each erasure writes an audit event; the region administrator sees the coming month's
list beforehand (`elders_due`)."""

import datetime
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction
from portal.scoping import scope_queryset
from services.care.models import Alert, Visit
from services.family.models import WhereaboutsChange
from services.ledger.models import CareAgreement, DutyReminder, Elder, ElderChange, ElderStatus, FamilyContact
from services.records.models import ServiceRecord

ERASED_NAME = _("(erased)")


def retention_days() -> int:
    return int(getattr(settings, "LEDGER_RETENTION_DAYS", 3 * 365))


def cutoff(now: datetime.datetime | None = None) -> datetime.datetime:
    """Elders whose status changed before this moment are due."""
    return (now or timezone.now()) - datetime.timedelta(days=retention_days())


def elders_due(*, by: datetime.datetime | None = None) -> QuerySet[Elder]:
    """Elders off the ledger whose retention period ends by `by` (default: now) and who are not erased yet."""
    return Elder.objects.filter(
        anonymised_at__isnull=True,
        status_changed_at__lt=cutoff(by),
    ).exclude(status=ElderStatus.ACTIVE)


def elders_due_next_month(user, *, now: datetime.datetime | None = None) -> QuerySet[Elder]:
    """What the daily task will erase in the user's area within the next 31 days (for the region administrator)."""
    by = (now or timezone.now()) + datetime.timedelta(days=31)
    return scope_queryset(user, elders_due(by=by), region_field="village").select_related("village__parent")


@transaction.atomic
def elder_anonymise(*, elder: Elder, actor=None, now: datetime.datetime | None = None) -> Elder:
    """Erase one elder's personal data (idempotent: an erased elder is left as it is)."""
    now = now or timezone.now()
    elder = Elder.objects.select_for_update().get(pk=elder.pk)
    if elder.anonymised_at is not None:
        return elder
    blank = ""
    elder.name = str(ERASED_NAME)
    elder.id_number = blank  # the field encrypts what it stores
    elder.id_hash = f"erased-{uuid.uuid4().hex}"
    elder.birth_date = elder.birth_date.replace(month=1, day=1)
    elder.phone = elder.address = elder.income_sources = blank
    elder.family_structure = elder.health = elder.care_situation = elder.difficulties = elder.status_reason = blank
    elder.anonymised_at = now
    elder.save()
    FamilyContact.objects.filter(elder=elder).update(name=str(ERASED_NAME), phone=blank, works_in=blank)
    for agreement in CareAgreement.objects.filter(elder=elder).exclude(scan=""):
        agreement.scan.delete(save=False)
    CareAgreement.objects.filter(elder=elder).update(
        carer_name=str(ERASED_NAME), carer_phone=blank, scan="", notes=blank, duties=blank, accept_code_digest=blank
    )
    WhereaboutsChange.objects.filter(elder=elder).update(city=str(ERASED_NAME), employer=blank, phone=blank)
    DutyReminder.objects.filter(elder=elder).update(finding=blank, said=blank, answer=blank)
    Visit.objects.filter(elder=elder).update(safety_risks=blank, notes=blank)
    Alert.objects.filter(elder=elder).update(
        description=str(ERASED_NAME), place=blank, person_name=blank, reporter_phone=blank
    )
    ElderChange.objects.filter(elder=elder).update(changes={}, reason=blank)
    for record in ServiceRecord.objects.filter(elder=elder).exclude(photo=""):
        record.photo.delete(save=False)
    ServiceRecord.objects.filter(elder=elder).exclude(photo="").update(photo="")
    audit.record(
        AuditAction.DELETE,
        actor=actor,
        object_type="services.elder",
        object_id=str(elder.pk),
        object_repr=str(ERASED_NAME),
        changes={"anonymised": True, "status": elder.status},
    )
    return elder


def anonymise_due(*, now: datetime.datetime | None = None) -> int:
    """The daily task: erase every elder whose retention period has ended. Returns how many were erased."""
    done = 0
    for pk in elders_due(by=now).values_list("pk", flat=True).iterator():
        elder_anonymise(elder=Elder(pk=pk), now=now)
        done += 1
    return done
