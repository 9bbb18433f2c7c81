"""The entrusted-care agreement online (委托照顾协议): the family drafts it, the village liaison records the elder's
consent, the entrusted person accepts by SMS code, a printable PDF with signature blocks, reminders before it ends.

It is the ledger's CareAgreement (one table for paper and online agreements): draft → consented → accepted (it
starts later) or active → ended. The acceptance code is kept only as a keyed hash, valid 3 days, 5 wrong tries,
spent on first use under a row lock (as the family confirmation of records, services.records.family_confirm).
"""

import datetime
import hashlib
import hmac
import io
import secrets

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.audit import client_ip
from portal.models import AuditAction
from portal.phone import clean_phone, mask_phone
from portal.scoping import scope_queryset
from portal.sms_templates import send_template
from services.family import selectors as family_reads
from services.family.models import FamilyMessage, FamilyMessageKind
from services.ledger.models import AgreementStatus, CareAgreement, Elder
from services.ledger.selectors import elders_for
from services.records.certificates import pdf_font

CODE_TTL = datetime.timedelta(days=3)
MAX_ATTEMPTS = 5
IP_LIMIT = 20
IP_WINDOW = 10 * 60
REMIND_DAYS_BEFORE_END = 14
MAX_DAYS = 3 * 366

NOT_FAMILY = _("You are not a family contact of this elder.")
DATES_ORDER = _("The end must not be before the start.")
START_PAST = _("The agreement cannot start in the past.")
TOO_LONG = _("An agreement runs at most three years; draft a new one after that.")
NOT_DRAFT = _("This agreement is not waiting for the elder's consent.")
CODE_WRONG = _("The mobile number or the code is not correct. Check the SMS and try again.")
CODE_LOCKED = _("Wrong code entered too many times. Ask the village liaison for a new one.")
TOO_MANY_TRIES = _("Too many tries from this device. Wait ten minutes and try again.")


def _digest(agreement_pk: int, phone: str, code: str) -> str:
    key = hashlib.sha256(f"agreement-accept:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{agreement_pk}:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


# --- reads -----------------------------------------------------------------------------------------


def agreements_for_family(user) -> QuerySet:
    return CareAgreement.objects.filter(elder__in=family_reads.elders_for_family(user))


def agreements_printable_by(user) -> QuerySet:
    """The family's agreements, and those of elders the staff member may see in the ledger."""
    return CareAgreement.objects.filter(
        Q(elder__in=family_reads.elders_for_family(user)) | Q(elder__in=elders_for(user))
    ).select_related("elder__village__parent", "supporter")


def agreements_awaiting_consent(user) -> QuerySet:
    queryset = CareAgreement.objects.filter(status=AgreementStatus.DRAFT)
    return scope_queryset(
        user, queryset, region_field="elder__village", roles=family_reads.LIAISON_ROLES
    ).select_related("elder__village", "supporter")


# --- writes ----------------------------------------------------------------------------------------


@transaction.atomic
def agreement_draft(
    *,
    actor,
    elder: Elder,
    carer_name: str,
    carer_relation: str,
    carer_phone: str,
    duties: str,
    start_date: datetime.date,
    end_date: datetime.date,
    request=None,
) -> CareAgreement:
    supporter = family_reads.own_contact(actor, elder)
    if supporter is None:
        raise ValidationError(NOT_FAMILY, code="not_family")
    today = timezone.localdate()
    if start_date < today:
        raise ValidationError(START_PAST, code="start_past")
    if end_date < start_date:
        raise ValidationError(DATES_ORDER, code="dates_order")
    if (end_date - start_date).days > MAX_DAYS:
        raise ValidationError(TOO_LONG, code="too_long")
    agreement = CareAgreement(
        elder=elder,
        supporter=supporter,
        carer_name=" ".join(carer_name.split())[:50],
        carer_relation=" ".join(carer_relation.split())[:20],
        carer_phone=clean_phone(carer_phone),
        duties=duties.strip()[:2000],
        start_date=start_date,
        end_date=end_date,
        status=AgreementStatus.DRAFT,
        created_by=actor,
    )
    agreement.full_clean(exclude=["scan"])
    agreement.save()
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=actor,
        obj=agreement,
        changes={"status": agreement.status, "start": str(start_date), "end": str(end_date)},
    )
    return agreement


@transaction.atomic
def agreement_consent(*, actor, agreement: CareAgreement, accept_url: str, request=None) -> CareAgreement:
    """The liaison records that the elder consents; the entrusted person gets the acceptance code by SMS."""
    agreement = agreements_awaiting_consent(actor).select_for_update(of=("self",)).filter(pk=agreement.pk).first()
    if agreement is None:
        raise ValidationError(NOT_DRAFT, code="not_draft")
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    agreement.status = AgreementStatus.CONSENTED
    agreement.consent_by = actor
    agreement.consent_at = now
    agreement.accept_code_digest = _digest(agreement.pk, agreement.carer_phone, code)
    agreement.accept_code_expires_at = now + CODE_TTL
    agreement.accept_attempts = 0
    agreement.save(
        update_fields=[
            "status",
            "consent_by",
            "consent_at",
            "accept_code_digest",
            "accept_code_expires_at",
            "accept_attempts",
        ]
    )
    send_template(
        agreement.carer_phone,
        "agreement_accept",
        family=agreement.supporter.name if agreement.supporter else "",
        elder=agreement.elder.name,
        start=_date_cn(agreement.start_date),
        end=_date_cn(agreement.end_date) if agreement.end_date else "",
        code=code,
        url=accept_url,
    )
    audit.record(
        AuditAction.CHANGE,
        request=request,
        actor=actor,
        obj=agreement,
        changes={
            "status": [AgreementStatus.DRAFT, AgreementStatus.CONSENTED],
            "code_sent": mask_phone(agreement.carer_phone),
        },
    )
    return agreement


def _ip_allows(request) -> bool:
    key = f"agreement-accept:ip:{client_ip(request) or 'unknown'}"
    cache.add(key, 0, IP_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, IP_WINDOW)
        count = 1
    return count <= IP_LIMIT


def agreement_accept(*, phone: str, code: str, request=None) -> CareAgreement:
    """The entrusted person's code: accept the agreement it was sent for, or raise (nothing changes). Wrong tries
    stick (their own transaction); the right code is spent under the row lock, so it works once."""
    if request is not None and not _ip_allows(request):
        raise ValidationError(TOO_MANY_TRIES, code="too_many_tries")
    now = timezone.now()
    error = None
    with transaction.atomic():
        candidates = list(
            CareAgreement.objects.select_for_update()
            .filter(carer_phone=phone, status=AgreementStatus.CONSENTED, accept_code_expires_at__gt=now)
            .exclude(accept_code_digest="")
            .order_by("-consent_at")
        )
        match = next(
            (a for a in candidates if hmac.compare_digest(a.accept_code_digest, _digest(a.pk, phone, code or ""))),
            None,
        )
        if match is None:
            locked = False
            for candidate in candidates:
                candidate.accept_attempts += 1
                if candidate.accept_attempts >= MAX_ATTEMPTS:
                    candidate.accept_code_digest = ""
                    locked = True
                candidate.save(update_fields=["accept_attempts", "accept_code_digest"])
            error = (
                ValidationError(CODE_LOCKED, code="code_locked")
                if locked
                else ValidationError(CODE_WRONG, code="code_wrong")
            )
        else:
            before = match.status
            match.status = (
                AgreementStatus.ACTIVE if match.start_date <= timezone.localdate(now) else AgreementStatus.ACCEPTED
            )
            match.accepted_at = now
            match.accept_code_digest = ""
            match.save(update_fields=["status", "accepted_at", "accept_code_digest"])
            audit.record(
                AuditAction.CHANGE,
                request=request,
                actor=None,
                obj=match,
                changes={"status": [before, match.status], "accepted_by": "carer by SMS code"},
            )
    if error is not None:
        raise error
    return match


def _claim(elder_id: int, kind: str, period: str, recipients: int) -> bool:
    try:
        with transaction.atomic():
            FamilyMessage.objects.create(elder_id=elder_id, kind=kind, period=period, recipients=recipients)
    except IntegrityError:
        return False
    return True


def agreement_end_remind(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Daily: accepted agreements whose first day came become active, those past their last day end, and the
    family and the liaison hear once, 14 days before an agreement ends. Returns (sent, skipped)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    CareAgreement.objects.filter(status=AgreementStatus.ACCEPTED, start_date__lte=today).update(
        status=AgreementStatus.ACTIVE
    )
    CareAgreement.objects.filter(
        status__in=(AgreementStatus.ACCEPTED, AgreementStatus.ACTIVE), end_date__lt=today
    ).update(status=AgreementStatus.ENDED)
    ending = (
        CareAgreement.objects.filter(
            status=AgreementStatus.ACTIVE,
            end_date__gte=today,
            end_date__lte=today + datetime.timedelta(days=REMIND_DAYS_BEFORE_END),
            elder__anonymised_at__isnull=True,
        )
        .select_related("elder")
        .order_by("pk")
    )
    sent = skipped = 0
    for agreement in ending:
        family = set(agreement.elder.family_contacts.exclude(phone="").values_list("phone", flat=True))
        staff = {u.phone for u in family_reads.liaisons(agreement.elder) if u.phone}
        phones = sorted(family | staff)
        if not phones:
            continue
        if not _claim(
            agreement.elder_id,
            FamilyMessageKind.AGREEMENT_ENDING,
            f"agreement-{agreement.pk}-{agreement.end_date}",
            len(phones),
        ):
            skipped += 1
            continue
        for phone in phones:
            send_template(phone, "agreement_ending", elder=agreement.elder.name, end=_date_cn(agreement.end_date))
        sent += 1
    return sent, skipped


# --- the printable PDF -----------------------------------------------------------------------------


def _date_cn(day: datetime.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


def _esc(value) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def agreement_pdf(agreement: CareAgreement) -> bytes:
    """The agreement on A4 in Chinese (an official paper): parties, duties, period and three signature blocks."""
    font = pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=10)
    heading = ParagraphStyle("heading", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)
    elder = agreement.elder
    supporter = agreement.supporter
    with translation.override("zh-hans"):
        story = [Paragraph(_esc(gettext("Entrusted-care agreement")), title)]
        village = f"{elder.village.parent.name if elder.village.parent else ''}{elder.village.name}"
        rows = [
            [gettext("Elder"), f"{elder.name}（{village}）"],
            [
                gettext("Entrusting party (supporter)"),
                f"{supporter.name}（{supporter.relation}）" if supporter else "—",
            ],
            [
                gettext("Entrusted person"),
                f"{agreement.carer_name}{f'（{agreement.carer_relation}）' if agreement.carer_relation else ''}　"
                f"{mask_phone(agreement.carer_phone)}",
            ],
            [gettext("Period"), f"{_date_cn(agreement.start_date)} — {_date_cn(agreement.end_date)}"],
            [gettext("Status"), str(agreement.get_status_display())],
        ]
        table = Table(
            [[Paragraph(_esc(a), base), Paragraph(_esc(b), base)] for a, b in rows], colWidths=[45 * mm, 125 * mm]
        )
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eef3f0")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story.append(table)
        story.append(Paragraph(_esc(gettext("Duties of the entrusted person")), heading))
        for line in (agreement.duties or "—").splitlines() or ["—"]:
            story.append(Paragraph(_esc(line), base))
        story.append(Paragraph(_esc(gettext("Terms")), heading))
        story.append(
            Paragraph(
                _esc(
                    gettext(
                        "The supporter remains chiefly responsible for the elder and keeps in regular contact. The "
                        "entrusted person looks after the elder as agreed above and tells the village committee and "
                        "the supporter at once of any emergency. The village committee supervises this agreement."
                    )
                ),
                base,
            )
        )
        if agreement.consent_at:
            story.append(
                Paragraph(
                    _esc(gettext("The elder's consent was recorded by the village on %(date)s."))
                    % {"date": _date_cn(timezone.localdate(agreement.consent_at))},
                    base,
                )
            )
        if agreement.accepted_at:
            story.append(
                Paragraph(
                    _esc(gettext("The entrusted person accepted by SMS code on %(date)s."))
                    % {"date": _date_cn(timezone.localdate(agreement.accepted_at))},
                    base,
                )
            )
        story.append(Spacer(1, 10 * mm))
        sign = gettext("Signature")
        date_label = gettext("Date")
        blocks = [
            [
                Paragraph(_esc(f"{label}\n"), base),
                Paragraph(_esc(f"{sign}：＿＿＿＿＿＿＿＿"), base),
                Paragraph(_esc(f"{date_label}：＿＿年＿＿月＿＿日"), base),
            ]
            for label in (
                gettext("Elder (or guardian)"),
                gettext("Entrusting party (supporter)"),
                gettext("Entrusted person"),
                gettext("Village committee (seal)"),
            )
        ]
        sign_table = Table(blocks, colWidths=[55 * mm, 60 * mm, 55 * mm], rowHeights=[18 * mm] * len(blocks))
        sign_table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
        story.append(sign_table)
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=18 * mm,
            bottomMargin=16 * mm,
            title=gettext("Entrusted-care agreement"),
        )
        doc.build(story)
    return buffer.getvalue()
