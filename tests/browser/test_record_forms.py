"""Issue 16, item 2 on a phone: the demo volunteer's record form and the liaison's group entry fit at 390 px in
both modes, and say what to do when there is nothing to pick."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
@pytest.mark.parametrize(
    ("phone", "path", "name"),
    [
        ("13900000006", "/volunteers/records/new/", "record-mine"),
        ("13900000001", "/volunteers/records/new/group/", "record-group"),
    ],
)
def test_record_forms_fit_a_phone(demo_site, open_page, phone, path, name, elder):
    from portal.models import User

    page = open_page(path, elder=elder, name=name, user=User.objects.get(phone=phone))
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    html = page.content()
    assert "---------" not in html
    assert page.locator("main h1").count() == 1
