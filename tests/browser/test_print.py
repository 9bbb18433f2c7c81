"""Issue 16, item 6: printouts are A4 documents, not web pages. The settlement print page and the supervision
dashboard are printed to PDF by Chromium (A4): few pages, no site navigation, nothing wider than the page."""

import re

import pytest

from tests.browser.conftest import SCREENS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

A4_WIDTH_PX = 794  # 210 mm at 96 px per inch
MARGIN_MM = 15


def _pdf_pages(pdf: bytes) -> int:
    """Chromium (Skia) writes its page objects uncompressed: count them, and check the page tree's /Count."""
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf, flags=re.S)]
    assert pages >= 1 and (not counts or max(counts) == pages), (pages, counts)
    return pages


def _print(page):
    """Print media, A4 page box: what is printed, how wide it is, and the PDF."""
    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_WIDTH_PX - 2 * round(MARGIN_MM / 25.4 * 96), "height": 1000})
    too_wide = page.evaluate(
        """() => {
          const limit = document.documentElement.clientWidth + 1;
          const out = [];
          for (const el of document.querySelectorAll('body *')) {
            const r = el.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;
            if (getComputedStyle(el).display === 'none') continue;
            if (r.right > limit || r.left < -1) out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
          }
          return out;
        }"""
    )
    visible_nav = page.evaluate(
        """() => [...document.querySelectorAll('.site-header, .site-nav, .site-footer, form, .no-print, button')]
                 .filter(el => el.getClientRects().length > 0).map(el => el.outerHTML.slice(0, 160))"""
    )
    pdf = page.pdf(format="A4", print_background=False, prefer_css_page_size=True)
    print(page.url, "A4 pages:", _pdf_pages(pdf))
    page.screenshot(path=str(SCREENS / f"print-{page.url.rstrip('/').rsplit('/', 2)[-2]}.png"), full_page=True)
    return too_wide, visible_nav, pdf


def test_settlement_prints_on_one_or_two_a4_pages(demo_site, open_page):
    from portal.models import User
    from services.models import Settlement

    settlement = Settlement.objects.order_by("pk").first()
    supervisor = User.objects.get(phone="13900000004")  # read-only; the county officer would first pass MFA
    page = open_page(
        f"/services/purchasing/settlements/{settlement.pk}/print/", user=supervisor, name="settlement-print"
    )
    too_wide, visible, pdf = _print(page)
    assert too_wide == [] and visible == []
    assert _pdf_pages(pdf) <= 2
    assert "盖章" in page.inner_text(".signatures")  # room for the seal and the signatures


def test_supervision_dashboard_prints_without_the_filter_and_fits_the_page(demo_site, open_page):
    from portal.models import User

    supervisor = User.objects.get(phone="13900000004")
    page = open_page("/services/supervision/", user=supervisor, name="supervision-print")
    too_wide, visible, pdf = _print(page)
    assert too_wide == [], too_wide
    assert visible == [], visible
    pages = _pdf_pages(pdf)
    # 6 in the field trial (without the family-contact and proof-of-care sections added since, one page more)
    assert pages <= 4, pages
