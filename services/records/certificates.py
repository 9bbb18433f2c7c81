"""Volunteer service certificates (志愿服务证明): issue from confirmed volunteer records, render a PDF,
verify by a public code.

- Only confirmed (or settled) *volunteer* records count, reversals subtracted; purchased service never does.
- What the PDF prints is frozen at issue in `Certificate.snapshot`, with a keyed digest over it: the
  public verification page recomputes the digest, so a certificate changed in the database after issue,
  or a made-up code, shows "not found" — and the page shows nothing beyond the certificate itself.
- The PDF is always in Chinese (it is an official document) and uses reportlab's built-in CID font
  STSong-Light, so no font file is needed; the QR code (qrcode) points at the verification page.
"""

import datetime
import hashlib
import hmac
import io
import json
import secrets
from collections import OrderedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portal import audit
from portal.identity import mask_resident_id
from portal.models import AuditAction
from services.records.models import Certificate, hours_display
from services.records.selectors import certificate_records, signed_minutes

NO_HOURS = _("There are no confirmed volunteer hours in this period; nothing to certify.")
PERIOD_ORDER = _("The end of the period must not be before its start.")
PERIOD_FUTURE = _("The period cannot end in the future.")
NOT_FOUND = _("No certificate has this verification code. It may have been mistyped, or it is not genuine.")

MAX_ROWS = 300  # service rows printed; the total always covers every record


def _key() -> bytes:
    return hashlib.sha256(f"certificate:{settings.SECRET_KEY}".encode()).digest()


def compute_digest(certificate: Certificate) -> str:
    payload = json.dumps(
        {
            "serial": certificate.serial,
            "code": certificate.code,
            "giver": certificate.giver_id,
            "period": [str(certificate.period_start), str(certificate.period_end)],
            "minutes": certificate.total_minutes,
            "snapshot": certificate.snapshot,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()


def _unit_of(record) -> tuple[str, str]:
    """The recording unit (记录单位) and its person in charge."""
    if record.organisation_id:
        return record.organisation.name, record.organisation.contact_name
    return record.region.name, str(record.confirmed_by or "")


def _snapshot(*, user, records: list, start: datetime.date, end: datetime.date, total: int) -> dict:
    profile = getattr(user, "volunteer_profile", None)
    items: OrderedDict = OrderedDict()
    units: OrderedDict = OrderedDict()
    rows = []
    for record in records:
        minutes = record.sign * record.minutes
        key = f"{record.service_item.category.name}／{record.service_item.name}"
        items[key] = items.get(key, 0) + minutes
        unit, person = _unit_of(record)
        units.setdefault(unit, person)
        if len(rows) < MAX_ROWS:
            local = timezone.localtime(record.start)
            rows.append(
                {
                    "date": local.date().isoformat(),
                    "time": f"{local:%H:%M}-{timezone.localtime(record.end):%H:%M}",
                    "place": record.place[:40],
                    "content": record.content[:60],
                    "item": record.service_item.name,
                    "minutes": minutes,
                    "unit": unit,
                }
            )
    return {
        "name": user.real_name or "",
        "masked_id": mask_resident_id(profile.resident_id) if profile and profile.resident_id else "",
        "period": [start.isoformat(), end.isoformat()],
        "items": [[name, minutes] for name, minutes in items.items() if minutes],
        "units": [[unit, person] for unit, person in units.items()],
        "rows": rows,
        "row_count": len(records),
        "total_minutes": total,
    }


@transaction.atomic
def certificate_issue(*, user, start: datetime.date, end: datetime.date, request=None) -> Certificate:
    """Issue a certificate for the giver's own confirmed volunteer service in [start, end]. Free, self-service."""
    if end < start:
        raise ValidationError(PERIOD_ORDER, code="period_order")
    if end > timezone.localdate():
        raise ValidationError(PERIOD_FUTURE, code="period_future")
    queryset = certificate_records(user=user, start=start, end=end)
    total = queryset.aggregate(total=signed_minutes())["total"]
    if total <= 0:
        raise ValidationError(NO_HOURS, code="no_hours")
    snapshot = _snapshot(user=user, records=list(queryset), start=start, end=end, total=total)
    today = timezone.localdate()
    for _attempt in range(5):
        certificate = Certificate(
            serial=f"ZYFW{today:%Y%m%d}{secrets.randbelow(10**8):08d}",
            code=secrets.token_urlsafe(18),
            giver=user,
            period_start=start,
            period_end=end,
            total_minutes=total,
            snapshot=snapshot,
        )
        certificate.digest = compute_digest(certificate)
        try:
            with transaction.atomic():
                certificate.save()
            break
        except IntegrityError:  # a serial or code collision: draw again
            continue
    else:  # pragma: no cover — five collisions in a row
        raise IntegrityError("could not draw a unique certificate serial")
    audit.record(
        AuditAction.CREATE,
        request=request,
        actor=user,
        obj=certificate,
        changes={"period": snapshot["period"], "minutes": total},
    )
    return certificate


def certificate_verify(code: str) -> Certificate | None:
    """The certificate with this code if it exists and is unchanged since issue; else None."""
    code = (code or "").strip()
    if not code or len(code) > 32:
        return None
    certificate = Certificate.objects.filter(code=code).first()
    if certificate is None or not hmac.compare_digest(certificate.digest, compute_digest(certificate)):
        return None
    return certificate


# --- the PDF ---------------------------------------------------------------------------------------


def _qr_png(url: str) -> io.BytesIO:
    import qrcode

    image = qrcode.make(url, box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def _date_cn(value: str) -> str:
    day = datetime.date.fromisoformat(value)
    return f"{day.year}年{day.month}月{day.day}日"


def pdf_font() -> str:
    """The Chinese font of the portal's PDFs (certificates, time-bank statements), registered once."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    font = "STSong-Light"
    if font not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(font))
    return font


def certificate_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
    from reportlab.platypus.flowables import KeepTogether

    font = pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=11, leading=17, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=22, leading=30, alignment=TA_CENTER, spaceAfter=8)
    small = ParagraphStyle("small", parent=base, fontSize=9, leading=12)
    heading = ParagraphStyle("heading", parent=base, fontSize=12, leading=18, spaceBefore=8, spaceAfter=4)

    snap = certificate.snapshot
    esc = _escape
    with translation.override("zh-hans"):
        story = [Paragraph(esc(gettext("Volunteer service certificate")), title)]
        story.append(
            Paragraph(
                esc(gettext("Serial number: %(serial)s")) % {"serial": esc(certificate.serial)},
                ParagraphStyle("serial", parent=small, alignment=TA_CENTER),
            )
        )
        story.append(Spacer(1, 6 * mm))
        body = gettext(
            "This is to certify that %(name)s (resident ID %(id)s) took part in volunteer service from "
            "%(start)s to %(end)s. The confirmed volunteer service recorded by the units below totals "
            "%(hours)s hours."
        ) % {
            "name": f"<b>{esc(snap['name'])}</b>",
            "id": esc(snap["masked_id"] or gettext("not given")),
            "start": _date_cn(snap["period"][0]),
            "end": _date_cn(snap["period"][1]),
            "hours": f"<b>{hours_display(certificate.total_minutes)}</b>",
        }
        story.append(Paragraph(body, base))

        story.append(Paragraph(esc(gettext("Service items")), heading))
        item_rows = [[gettext("Service item"), gettext("Hours")]] + [
            [esc(n), hours_display(m)] for n, m in snap["items"]
        ]
        story.append(_table(item_rows, [120 * mm, 30 * mm], font, colors))

        story.append(Paragraph(esc(gettext("Service periods and content")), heading))
        rows = [
            [
                gettext("Date"),
                gettext("Time"),
                gettext("Place"),
                gettext("Content"),
                gettext("Hours"),
                gettext("Recording unit"),
            ]
        ]
        for row in snap["rows"]:
            rows.append(
                [
                    row["date"],
                    row["time"],
                    Paragraph(esc(row["place"]), small),
                    Paragraph(esc(f"{row['item']}：{row['content']}"), small),
                    hours_display(row["minutes"]),
                    Paragraph(esc(row["unit"]), small),
                ]
            )
        story.append(_table(rows, [20 * mm, 20 * mm, 28 * mm, 58 * mm, 18 * mm, 32 * mm], font, colors, size=8))
        if snap["row_count"] > len(snap["rows"]):
            story.append(
                Paragraph(
                    esc(gettext("Only the first %(shown)s of %(count)s records are listed; the total covers all."))
                    % {"shown": len(snap["rows"]), "count": snap["row_count"]},
                    small,
                )
            )

        story.append(Paragraph(esc(gettext("Recording units and persons in charge")), heading))
        for unit, person in snap["units"]:
            person_label = gettext("Person in charge")
            story.append(Paragraph(esc(f"{unit}　{person_label}：{person or '—'}"), base))

        issued = timezone.localtime(certificate.issued_at).date().isoformat()
        qr = Image(_qr_png(verify_url), width=32 * mm, height=32 * mm)
        foot = [
            Paragraph(esc(gettext("Issued on: %(date)s")) % {"date": _date_cn(issued)}, base),
            Paragraph(esc(gettext("Scan the code or open the address below to check this certificate:")), small),
            Paragraph(esc(verify_url), small),
            Paragraph(
                esc(
                    gettext(
                        "Issued from the records of the care portal under the MCA rules on volunteer service records."
                    )
                ),
                small,
            ),
        ]
        footer = Table([[foot, qr]], colWidths=[140 * mm, 36 * mm])
        footer.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(Spacer(1, 8 * mm))
        story.append(KeepTogether([footer]))

        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=A4,
            leftMargin=16 * mm,
            rightMargin=16 * mm,
            topMargin=18 * mm,
            bottomMargin=16 * mm,
            title=gettext("Volunteer service certificate"),
            author=snap["name"],
        )
        doc.build(story)
    return buffer.getvalue()


def _escape(value) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(rows, widths, font, colors, size=10):
    from reportlab.platypus import Table, TableStyle

    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), size),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef3f0")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table
