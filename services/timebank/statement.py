"""The yearly statement of a time-bank account as a PDF (always in Chinese, like the certificates)."""

import io

from django.utils import timezone, translation
from django.utils.translation import gettext

from services.records.certificates import _escape, _table, pdf_font
from services.records.models import hours_display
from services.timebank.models import TimeAccount, TransactionKind


def date_cn(value) -> str:
    local = timezone.localtime(value) if hasattr(value, "tzinfo") else value
    return f"{local.year}年{local.month}月{local.day}日"


def entry_text(entry) -> str:
    """What an entry was for: the record (date, item, elder or activity), the relative, or the request."""
    tx = entry.transaction
    if tx.record_id:
        record = tx.record
        target = record.elder.name if record.elder_id else record.activity.title
        return f"{date_cn(record.start)} {record.service_item.name} · {target}"
    if tx.kind == TransactionKind.TRANSFER:
        who = entry.counterpart or "—"
        arrow = "→" if entry.minutes < 0 else "←"
        return f"{arrow} {who}（{tx.relation}）"
    if tx.request_id:
        return f"{tx.request.beneficiary} · {tx.request.description}"
    return tx.memo


def statement_pdf(account: TimeAccount, data: dict, *, association: str = "") -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    font = pdf_font()
    base = ParagraphStyle("base", fontName=font, fontSize=11, leading=17, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=6)
    small = ParagraphStyle("small", parent=base, fontSize=9, leading=12)
    esc = _escape
    with translation.override("zh-hans"):
        story = [
            Paragraph(esc(gettext("Time bank statement %(year)s") % {"year": data["year"]}), title),
            Paragraph(esc(gettext("Account holder: %(name)s") % {"name": account.user}), base),
        ]
        if association:
            story.append(Paragraph(esc(gettext("Elder association: %(name)s") % {"name": association}), base))
        story.append(
            Paragraph(
                esc(
                    gettext("Opening balance %(opening)s hours; closing balance %(closing)s hours.")
                    % {"opening": hours_display(data["opening"]), "closing": hours_display(data["closing"])}
                ),
                base,
            )
        )
        story.append(Spacer(1, 4 * mm))
        rows = [[gettext("Date"), gettext("Kind"), gettext("For"), gettext("Hours"), gettext("Balance")]]
        for entry in data["entries"]:
            rows.append(
                [
                    date_cn(entry.transaction.created_at),
                    Paragraph(esc(entry.transaction.get_kind_display()), small),
                    Paragraph(esc(entry_text(entry)), small),
                    hours_display(entry.minutes),
                    hours_display(entry.balance_after),
                ]
            )
        if len(rows) == 1:
            rows.append(["", "", gettext("No entries this year."), "", ""])
        story.append(_table(rows, [28 * mm, 28 * mm, 76 * mm, 18 * mm, 20 * mm], font, colors, size=9))
        story.append(Spacer(1, 4 * mm))
        story.append(
            Paragraph(
                esc(
                    gettext("1 hour of mutual-aid service = 1 unit. Printed %(date)s.")
                    % {"date": date_cn(timezone.now())}
                ),
                small,
            )
        )
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm, bottomMargin=18 * mm
        )
        doc.title = f"time-bank-{data['year']}"
        doc.build(story)
    return buffer.getvalue()
