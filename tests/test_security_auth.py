"""Issue 15, items 1 and 8: reset codes counted atomically on the server, no phone enumeration, and a
sign-in lockout that a stranger cannot turn against a named person."""

import re

import pytest

from django.test import Client
from django.urls import reverse

from portal import password_reset
from portal.models import PasswordResetCode
from tests.factories import UserFactory
from tests.races import race

PASSWORD = "Zhufu-2026!"


def last_code(outbox) -> str:
    return re.search(r"(?<!\d)(\d{6})(?!\d)", outbox[-1][1]).group(1)


def wrong_for(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def confirm(client, code, password="New-Pass-2026!"):
    return client.post(
        reverse("account_reset_password_code"), {"code": code, "password1": password, "password2": password}
    )


@pytest.mark.django_db
def test_known_and_unknown_numbers_get_the_same_answer(client, outbox):
    UserFactory(phone="13911112222")
    known = client.post(reverse("account_reset_password"), {"phone": "13911112222"}, follow=True)
    unknown = Client().post(reverse("account_reset_password"), {"phone": "13122223333"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain == [(reverse("account_reset_password_code"), 302)]
    for response in (known, unknown):
        body = response.content.decode()
        assert "如果有账号使用这个手机号码" in body
        assert "没有账号使用这个手机号码" not in body
    assert len(outbox) == 1


@pytest.mark.django_db
def test_unknown_number_code_page_answers_like_a_wrong_code(client, outbox):
    client.post(reverse("account_reset_password"), {"phone": "13122223333"})
    assert "验证码不正确" in confirm(client, "123456").content.decode()
    assert "验证码不正确" in confirm(client, "123456").content.decode()
    assert "错误次数过多" in confirm(client, "123456").content.decode()


@pytest.mark.django_db
def test_reset_attempts_counted_per_client_address(outbox):
    """Ten tries an hour from one address, over any number of codes and numbers."""
    for i in range(password_reset.MAX_ATTEMPTS_PER_IP // 2 + 1):
        UserFactory(phone=f"1391111{i:04d}")
    tried = 0
    for i in range(password_reset.MAX_ATTEMPTS_PER_IP // 2 + 1):
        c = Client(REMOTE_ADDR="10.0.0.9")
        c.post(reverse("account_reset_password"), {"phone": f"1391111{i:04d}"})
        code = last_code(outbox)
        for _ in range(2):
            body = confirm(c, wrong_for(code)).content.decode()
            tried += 1
    assert tried > password_reset.MAX_ATTEMPTS_PER_IP
    assert "尝试验证码次数过多" in body
    # the right code is refused too, from that address
    assert "尝试验证码次数过多" in confirm(c, code).content.decode()


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_codes_are_counted_atomically(outbox):
    """20 requests sharing one session at once: at most three codes are compared, and the right code
    is refused afterwards (on PostgreSQL the threads really run together; see tests.races)."""
    user = UserFactory(phone="13911112222")
    first = Client()
    first.post(reverse("account_reset_password"), {"phone": user.phone})
    code = last_code(outbox)
    cookie = first.cookies["sessionid"].value

    def press(n):
        c = Client(REMOTE_ADDR=f"10.1.0.{n}")  # spread over addresses: the per-code limit must hold alone
        c.cookies["sessionid"] = cookie
        body = confirm(c, wrong_for(code)).content.decode()
        if "验证码不正确" in body:
            return "wrong"
        if "错误次数过多" in body:
            return "locked"
        return "other"

    outcomes = race(press, range(20))
    assert outcomes.count("wrong") <= password_reset.MAX_ATTEMPTS - 1
    assert PasswordResetCode.objects.get(user=user).attempts <= password_reset.MAX_ATTEMPTS
    late = Client(REMOTE_ADDR="10.2.0.1")
    late.cookies["sessionid"] = cookie
    confirm(late, code)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_code_is_spent_once_even_if_the_session_is_replayed(outbox):
    user = UserFactory(phone="13911112222")
    first = Client()
    first.post(reverse("account_reset_password"), {"phone": user.phone})
    code = last_code(outbox)
    cookie = first.cookies["sessionid"].value
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert confirm(first, code).status_code == 302
    assert confirm(replay, code, password="Other-Pass-2026!").status_code == 200
    user.refresh_from_db()
    assert user.check_password("New-Pass-2026!")


@pytest.mark.django_db
def test_stranger_cannot_lock_the_owner_out(client):
    owner = UserFactory(phone="13911112222")
    stranger = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(6):
        stranger.post(reverse("account_login"), {"login": owner.phone, "password": "wrong-password"})
    response = stranger.post(reverse("account_login"), {"login": owner.phone, "password": PASSWORD})
    assert "登录失败次数过多" in response.content.decode()
    response = Client(REMOTE_ADDR="10.1.1.1").post(
        reverse("account_login"), {"login": owner.phone, "password": PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_parallel_totp_codes_stay_within_the_limit():
    """allauth's TOTP check (the code's "used" mark and the failed-attempt limit) holds under 20 parallel
    requests sharing one half-signed-in session: at most five wrong codes are even compared."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    county_officer = UserFactory(phone="13911113333")  # any account with an authenticator app
    TOTP.activate(county_officer, generate_totp_secret())
    first = Client()
    response = first.post(reverse("account_login"), {"login": county_officer.phone, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    cookie = first.cookies["sessionid"].value

    def press(n):
        c = Client(REMOTE_ADDR=f"10.3.0.{n}")
        c.cookies["sessionid"] = cookie
        body = c.post(reverse("mfa_authenticate"), {"code": f"{n:06d}"}).content.decode()
        return "limited" if "次数过多" in body else "compared"

    outcomes = race(press, range(20))
    assert outcomes.count("compared") <= 5
