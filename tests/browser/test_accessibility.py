"""axe-core (vendored, run in headless Chromium) finds no serious or critical violation on the public pages,
in normal and large-text mode, on a phone and a desktop."""

from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
PAGES = ["/", "/policy/ningxia-2018-105/", "/care-services/?county=640422000000", "/search/?query=留守"]


def violations(page) -> list[dict]:
    page.evaluate(AXE)  # through DevTools, not an inline <script> that the page's CSP would refuse
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_public_pages_have_no_serious_violations(demo_site, open_page, width, elder):
    found = {}
    for path in PAGES:
        page = open_page(path, width=width, elder=elder, name="a11y-" + (path.strip("/").split("/")[0] or "home"))
        problems = violations(page)
        if problems:
            found[path] = problems
    assert found == {}


STAFF_AND_GIVER_PAGES = {
    "13900000002": ["/portal/workbench/", "/services/supervision/", "/services/purchasing/contracts/"],
    "13900000001": ["/volunteers/records/", "/services/purchasing/contracts/1/"],
    "13900000006": ["/volunteers/me/", "/volunteers/record/", "/services/records/"],
}


def test_staff_and_giver_pages_have_no_serious_violations(demo_site, open_page):
    """The township officer's workbench and dashboard (charts), the association's contract, the volunteer's
    own pages: on a phone in large-text mode and on a desktop in normal mode."""
    from portal.models import User

    found = {}
    for phone, paths in STAFF_AND_GIVER_PAGES.items():
        user = User.objects.get(phone=phone)
        for path in paths:
            for width, elder in (("phone", True), ("desktop", False)):
                name = "a11y-" + path.strip("/").replace("/", "_")
                page = open_page(path, width=width, elder=elder, name=name, user=user)
                page.wait_for_load_state("networkidle")
                assert "/accounts/login/" not in page.url, path
                problems = violations(page)
                if problems:
                    found[(phone, path, width)] = problems
    assert found == {}
