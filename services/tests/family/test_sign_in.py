"""Family sign-in by SMS code: from /accounts/login/, no enumeration, codes single-use, expiring, limited."""

import datetime

import pytest
import time_machine

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from portal.models import Region, User
from services.tests.factories_care import make_elder
from services.tests.factories_ledger import FamilyContactFactory
from services.tests.family.conftest import FAMILY_PHONE, last_code
from tests.races import race

pytestmark = pytest.mark.django_db

REQUEST = "/accounts/login/code/"
CONFIRM = "/accounts/login/code/confirm/"


def test_login_page_offers_sign_in_by_code(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert reverse("account_request_login_code") == REQUEST
    assert REQUEST in response.content.decode()


def test_family_member_without_account_signs_in_and_lands_on_family_home(client, contact, elder, outbox):
    assert not User.objects.filter(phone=FAMILY_PHONE).exists()
    response = client.post(REQUEST, {"phone": "+86 158-0000-1111"})
    assert response.status_code == 302 and response["Location"].startswith(CONFIRM)
    assert outbox[-1][0] == FAMILY_PHONE
    user = User.objects.get(phone=FAMILY_PHONE)
    assert not user.has_usable_password()
    response = client.post(CONFIRM, {"code": last_code(outbox)})
    assert response.status_code == 302
    assert response["Location"] == reverse("services:family-home")
    user.refresh_from_db()
    assert user.phone_verified
    page = client.get(reverse("services:family-home"))
    assert elder.name in page.content.decode()


def test_unknown_phone_gets_the_same_answer_and_no_sms(client, contact, outbox):
    known = Client().post(REQUEST, {"phone": FAMILY_PHONE}, follow=True)
    sent = len(outbox)
    unknown = client.post(REQUEST, {"phone": "13512345678"}, follow=True)
    assert len(outbox) == sent  # no SMS to a number on no contact
    assert not User.objects.filter(phone="13512345678").exists()
    assert unknown.status_code == known.status_code == 200
    assert unknown.redirect_chain == known.redirect_chain
    assert unknown.templates[0].name == known.templates[0].name
    # whatever is typed, it cannot sign in
    response = client.post(CONFIRM, {"code": "123456"})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 302)


def test_bad_phone_is_a_form_error_not_an_account(client, outbox):
    for bad in ("12345", "<script>alert(1)</script>", "1" * 40):
        response = client.post(REQUEST, {"phone": bad})
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert outbox == []
    assert User.objects.count() == 0


def test_code_is_single_use(client, contact, outbox):
    client.post(REQUEST, {"phone": FAMILY_PHONE})
    code = last_code(outbox)
    assert client.post(CONFIRM, {"code": code}).status_code == 302
    client.logout()
    response = client.post(CONFIRM, {"code": code})
    assert "_auth_user_id" not in client.session
    assert response.status_code == 302 and response["Location"] != reverse("services:family-home")


def test_code_expires(client, contact, outbox):
    start = datetime.datetime(2026, 12, 4, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        client.post(REQUEST, {"phone": FAMILY_PHONE})
        code = last_code(outbox)
    with time_machine.travel(start + datetime.timedelta(minutes=11), tick=False):
        client.post(CONFIRM, {"code": code})
    assert "_auth_user_id" not in client.session


def test_three_wrong_codes_end_the_attempt(client, contact, outbox):
    client.post(REQUEST, {"phone": FAMILY_PHONE})
    code = last_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        client.post(CONFIRM, {"code": wrong})
    client.post(CONFIRM, {"code": code})
    assert "_auth_user_id" not in client.session


def test_codes_requests_are_rate_limited_per_number(client, contact, outbox):
    for _ in range(3):
        Client().post(REQUEST, {"phone": FAMILY_PHONE})
    assert len(outbox) == 3
    response = Client().post(REQUEST, {"phone": FAMILY_PHONE})
    assert response.status_code == 200  # the form says "too many"
    assert len(outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_signs_in_once(outbox):
    if not Region.objects.filter(code="640422100201").exists():  # a transactional test empties the tables
        call_command("load_regions", verbosity=0)
    FamilyContactFactory(elder=make_elder(), phone=FAMILY_PHONE)
    first = Client()
    first.post(REQUEST, {"phone": FAMILY_PHONE})
    code = last_code(outbox)
    cookie = first.cookies["sessionid"].value

    def submit(_n):
        c = Client()
        c.cookies["sessionid"] = cookie
        response = c.post(CONFIRM, {"code": code})
        return (
            "signed-in"
            if response.status_code == 302 and response["Location"] == reverse("services:family-home")
            else "refused"
        )

    assert race(submit, [1, 2]) == ["refused", "signed-in"]


def test_removed_contact_loses_access_on_next_request(family_client, contact, elder):
    url = reverse("services:family-elder", args=[elder.pk])
    assert family_client.get(url).status_code == 200
    contact.delete()
    assert family_client.get(url).status_code == 404
    assert elder.name not in family_client.get(reverse("services:family-home")).content.decode()


def test_changed_contact_phone_loses_access(family_client, contact, elder):
    url = reverse("services:family-elder", args=[elder.pk])
    contact.phone = "15800009999"
    contact.save()
    assert family_client.get(url).status_code == 404


def test_staff_still_land_on_their_page(client, liaison):
    response = client.post("/accounts/login/", {"login": liaison.phone, "password": "Zhufu-2026!"})
    assert response.status_code == 302
    assert response["Location"] != reverse("services:family-home")
