"""The base screens as a phone and a desktop show them, in normal and large-text mode (适老化)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENS = ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]


def measure(page):
    return page.evaluate(
        """() => {
        const px = (el, prop) => el ? parseFloat(getComputedStyle(el)[prop]) : 0;
        const targets = [...document.querySelectorAll('main a.button, main button, main input:not([type=hidden]), header button')]
            .filter(el => el.offsetParent !== null)
            .map(el => {
                // a checkbox or radio is hit through its label: measure the row that holds both
                const box = (el.type === 'checkbox' || el.type === 'radio') ? (el.closest('label, p, .field') || el) : el;
                return {tag: el.outerHTML.slice(0, 60), h: box.getBoundingClientRect().height};
            });
        return {
            lang: document.documentElement.lang,
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            body: px(document.body, 'fontSize'),
            line: px(document.body, 'lineHeight') / px(document.body, 'fontSize'),
            h1: px(document.querySelector('h1'), 'fontSize'),
            smallestTarget: targets.reduce((m, t) => t.h < m.h ? t : m, {h: 1e9, tag: ''}),
        };
    }"""
    )


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_base_screens_fit_and_are_readable(demo_site, open_page, width, elder):
    for path in SCREENS:
        page = open_page(path, width=width, elder=elder)
        m = measure(page)
        assert m["lang"] == "zh-Hans", path
        assert m["overflow"] <= 0, f"{path} scrolls sideways by {m['overflow']}px"
        assert m["body"] >= (18 if elder else 16), path
        assert m["line"] >= 1.3, path
        if elder:
            assert m["h1"] >= 30, path
        assert m["smallestTarget"]["h"] >= (60 if elder else 44) - 0.5, f"{path}: {m['smallestTarget']}"


def test_large_text_switch_works_by_keyboard(demo_site, open_page):
    page = open_page("/", name="home-before-toggle")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.get_by_role("button", name="大字模式").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "elder-mode" in page.evaluate("document.documentElement.className")
    assert page.get_by_role("button", name="标准字号").is_visible()
