"""Issue 16, item 1, as a neighbour on a phone: from the home page to the report, then its state by SMS code."""

import re

import pytest

from portal.sms import OutboxSender

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fits(page, elder: bool) -> None:
    m = page.evaluate(
        """(least) => ({
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            small: [...document.querySelectorAll('main a.button, main button, main input:not([type=hidden]), main textarea')]
                .filter(el => el.offsetParent !== null && !el.closest('.care-hp'))
                .map(el => {
                    const box = (el.type === 'checkbox' || el.type === 'radio') ? (el.closest('label') || el) : el;
                    return [el.outerHTML.slice(0, 60), box.getBoundingClientRect().height];
                })
                .filter(([, h]) => h < least - 0.5),
        })""",
        60 if elder else 44,
    )
    assert m["overflow"] <= 0 and m["small"] == [], m


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_a_neighbour_reports_and_then_sees_the_state(demo_site, open_page, elder):
    OutboxSender.outbox.clear()
    suffix = "-elder" if elder else ""
    page = open_page("/", elder=elder, name=f"report-home{suffix}")
    page.locator("main a[href='/services/report/']").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/services/report/")
    # the village, step by step: 西吉县 → 吉强镇 → 大营村委会
    page.select_option("select[name=village_county]", "640422000000")
    page.wait_for_selector("select[name=village_township] option[value='640422100000']", state="attached")
    page.select_option("select[name=village_township]", "640422100000")
    page.wait_for_selector("select[name=village] option[value='640422100201']", state="attached")
    page.select_option("select[name=village]", "640422100201")
    page.locator("input[name=kind]").first.check(force=True)
    page.fill("textarea[name=description]", "一位老人在集市口，衣着单薄")
    page.fill("input[name=reporter_phone]", "13800002222")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    reference = page.locator(".care-reference").inner_text().strip()
    assert re.fullmatch(r"\d{8}-[0-9A-F]{6}", reference), page.content()[:2000]
    page.locator(f"main a[href*='ref={reference}']").click()
    page.wait_for_load_state()
    assert page.input_value("input[name=reference]") == reference
    page.fill("input[name=reporter_phone]", "13800002222")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.screenshot(path=_shot(f"report-code{suffix}"), full_page=True)
    _fits(page, elder)
    code = re.search(r"\b(\d{6})\b", OutboxSender.outbox[-1][1]).group(1)
    page.fill("input[name=code]", code)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.screenshot(path=_shot(f"report-state{suffix}"), full_page=True)
    assert reference in page.locator(".care-state").inner_text()
    assert "年" in page.locator(".care-state time").first.inner_text()
    _fits(page, elder)


def _shot(name: str) -> str:
    from tests.browser.conftest import SCREENS

    SCREENS.mkdir(parents=True, exist_ok=True)
    return str(SCREENS / f"{name}-phone.png")
