"""The time bank and the sign-in pages at 390 px, normal and large-text mode: no sideways scroll, tap targets
big enough; the kiosk shows its QR code and 6 digits."""

import pytest

from portal.models import User
from tests.browser.test_base_screens import measure
from volunteers.models import Activity

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_timebank_and_checkin_pages_fit_a_phone(demo_site, open_page, elder):
    admin = User.objects.get(phone="13900000001")  # admin of 大营村老年协会
    volunteer = User.objects.get(phone="13900000006")
    activity = Activity.objects.filter(organisation__memberships__user=admin).first()
    pages = [
        ("/volunteers/timebank/", volunteer),
        ("/volunteers/timebank/members/", admin),
        (f"/volunteers/activities/{activity.pk}/kiosk/", admin),
        (f"/volunteers/activities/{activity.pk}/checkin/", volunteer),
    ]
    for path, user in pages:
        page = open_page(path, elder=elder, user=user)
        m = measure(page)
        assert m["overflow"] <= 0, f"{path} scrolls sideways by {m['overflow']}px"
        assert m["body"] >= (18 if elder else 16), path
        assert m["smallestTarget"]["h"] >= (60 if elder else 44) - 0.5, f"{path}: {m['smallestTarget']}"
        if "kiosk" in path:
            assert page.locator("#kiosk-qr svg").is_visible()
            assert len(page.locator("#kiosk-digits").inner_text().replace(" ", "")) == 6
