"""Writes of the family portal: contact reports, proposed changes of whereabouts and their confirmation by the
village, the monthly summary and the no-contact reminder (each sent once per period)."""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.models import AuditAction, User
from portal.phone import clean_phone
from portal.sms_templates import send_template
from services.family import selectors as family_reads
from services.family.models import (
    ChangeStatus,
    FamilyContactKind,
    FamilyContactLog,
    FamilyMessage,
    FamilyMessageKind,
    WhereaboutsChange,
)
from services.ledger import actions as ledger_actions
from services.ledger.models import Elder, ElderStatus, FamilyContact

NOT_YOUR_ELDER = _("You are not a family contact of this elder.")
DATE_IN_FUTURE = _("The date cannot be in the future.")
DATE_TOO_OLD = _("Report contacts of the last 90 days only.")
BAD_KIND = _("Choose a call, a video call or a visit home.")
ALREADY_DECIDED = _("This change has already been decided.")
NOT_LIAISON = _("Only the village liaison of this elder can confirm the change.")
REPORT_MAX_AGE_DAYS = 90


def _check_family(actor, elder: Elder) -> FamilyContact:
    contact = family_reads.own_contact(actor, elder)
    if contact is None:
        raise ValidationError(NOT_YOUR_ELDER, code="not_family")
    return contact


@transaction.atomic
def contact_report(*, actor, elder: Elder, kind: str, contact_date: datetime.date, request=None) -> FamilyContactLog:
    """A family member reports their own call, video call or visit home on a date."""
    contact = _check_family(actor, elder)
    if kind not in FamilyContactKind.values:
        raise ValidationError(BAD_KIND, code="bad_kind")
    today = timezone.localdate()
    if not isinstance(contact_date, datetime.date) or contact_date > today:
        raise ValidationError(DATE_IN_FUTURE, code="date_in_future")
    if contact_date < today - datetime.timedelta(days=REPORT_MAX_AGE_DAYS):
        raise ValidationError(DATE_TOO_OLD, code="date_too_old")
    log = FamilyContactLog.objects.create(
        elder=elder, contact=contact, reporter=actor, kind=kind, contact_date=contact_date
    )
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=log,
        changes={"kind": kind, "contact_date": contact_date.isoformat()},
    )
    return log


@transaction.atomic
def whereabouts_propose(
    *,
    actor,
    elder: Elder,
    city: str,
    employer: str = "",
    since: datetime.date | None = None,
    phone: str = "",
    request=None,
) -> WhereaboutsChange:
    """The family proposes its new whereabouts (and phone); it changes nothing until the liaison confirms."""
    contact = _check_family(actor, elder)
    city = " ".join((city or "").split())[:50]
    employer = " ".join((employer or "").split())[:100]
    if not city:
        raise ValidationError(_("Enter the city."), code="city_required")
    if since is not None and since > timezone.localdate():
        raise ValidationError(DATE_IN_FUTURE, code="date_in_future")
    phone = clean_phone(phone) if phone else ""
    change = WhereaboutsChange.objects.create(
        elder=elder, contact=contact, proposed_by=actor, city=city, employer=employer, since=since, phone=phone
    )
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=change,
        changes={"city": city, "employer": employer, "since": since.isoformat() if since else "", "phone": bool(phone)},
    )
    return change


def works_in_text(change: WhereaboutsChange) -> str:
    text = "·".join(part for part in (change.city, change.employer) if part)
    if change.since:
        text += str(_("(since %(month)s)") % {"month": f"{change.since.year}年{change.since.month}月"})
    return text[:100]


@transaction.atomic
def whereabouts_decide(*, actor, change: WhereaboutsChange, confirm: bool, request=None) -> WhereaboutsChange:
    """The liaison confirms (the contact is changed through the ledger, which keeps the history) or declines."""
    change = WhereaboutsChange.objects.select_for_update().select_related("contact", "elder").get(pk=change.pk)
    if not family_reads.pending_changes_for_liaison(actor).filter(pk=change.pk).exists():
        if change.status != ChangeStatus.PENDING:
            raise ValidationError(ALREADY_DECIDED, code="already_decided")
        raise ValidationError(NOT_LIAISON, code="not_liaison")
    if confirm:
        data = {"works_in": works_in_text(change)}
        if change.phone:
            data["phone"] = change.phone
        ledger_actions.family_contact_save(
            actor=actor, elder=change.elder, data=data, contact=change.contact, request=request
        )
    change.status = ChangeStatus.CONFIRMED if confirm else ChangeStatus.REJECTED
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(AuditAction.CHANGE, request=request, actor=actor, obj=change, changes={"status": change.status})
    return change


def record_view(*, request, elder: Elder, page: str) -> None:
    """Every family view of an elder's data is in the audit trail (no phone numbers in it)."""
    audit.record(AuditAction.VIEW, request=request, obj=elder, changes={"page": page, "as": "family"})


# --- sign-in ---------------------------------------------------------------------------------------


def provision_family_user(*, phone: str) -> User | None:
    """A number on some elder's family contacts gets an account (no password: it signs in by code) the first time
    it asks for a code. Any other number gets nothing."""
    if not FamilyContact.objects.filter(phone=phone, elder__anonymised_at__isnull=True).exists():
        return None
    user = User.objects.filter(phone=phone).first()
    if user is not None:
        return user
    try:
        with transaction.atomic():
            user = User(phone=phone, phone_verified=False)
            user.set_unusable_password()
            user.save()
    except IntegrityError:  # two requests at once: the other one created it
        user = User.objects.get(phone=phone)
    return user


# --- messages --------------------------------------------------------------------------------------


def _family_phones(elder: Elder) -> list[str]:
    return sorted(set(elder.family_contacts.exclude(phone="").values_list("phone", flat=True)))


def _claim(elder: Elder, kind: str, period: str, recipients: int) -> bool:
    """Write the once-per-period row; False if another run already did (the message then is not sent)."""
    try:
        with transaction.atomic():
            FamilyMessage.objects.create(elder=elder, kind=kind, period=period, recipients=recipients)
    except IntegrityError:
        return False
    return True


def _active_elders():
    return Elder.objects.filter(status=ElderStatus.ACTIVE, anonymised_at__isnull=True, family_contacts__phone__gt="")


def monthly_summary_send(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """On a month's last day: each family gets "本月巡访2次、服务3次" once. Returns (sent, skipped)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if (today + datetime.timedelta(days=1)).month == today.month:
        return 0, 0
    period = f"{today:%Y-%m}"
    sent = skipped = 0
    for elder in _active_elders().distinct().order_by("pk"):
        phones = _family_phones(elder)
        if not phones:
            continue
        if not _claim(elder, FamilyMessageKind.MONTHLY, period, len(phones)):
            skipped += 1
            continue
        counts = family_reads.month_counts(elder, today)
        for phone in phones:
            send_template(
                phone,
                "family_monthly",
                elder=elder.name,
                visits=counts["visits"],
                services=counts["volunteer"] + counts["purchased"],
            )
        sent += 1
    return sent, skipped


def no_contact_remind(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Families with no reported contact for 30 days (counted from the last report, or from the day the elder was
    entered) are reminded once per 30 days of silence. Returns (sent, skipped)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = family_reads.NO_CONTACT_DAYS
    elders = _active_elders().distinct().annotate(last=Max("family_contact_logs__contact_date")).order_by("pk")
    sent = skipped = 0
    for elder in elders:
        since = elder.last or timezone.localdate(elder.created_at)
        silent = (today - since).days
        if silent < days:
            continue
        phones = _family_phones(elder)
        if not phones:
            continue
        period = f"{since.isoformat()}+{silent // days}"
        if not _claim(elder, FamilyMessageKind.NO_CONTACT, period, len(phones)):
            skipped += 1
            continue
        for phone in phones:
            send_template(phone, "family_no_contact", elder=elder.name, days=silent)
        sent += 1
    return sent, skipped
