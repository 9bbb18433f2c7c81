"""Signing a client in with an SMS code; token expiry, refresh, revocation; rate limits; the error shape."""

import datetime
import re

import pytest
import time_machine

from django.test import override_settings
from django.utils import timezone

from api.auth import CODE_GONE, CODE_LOCKED, CODE_WRONG, MFA_ROLE, REFRESH_INVALID, TOO_MANY_CODES
from api.errors import NOT_SIGNED_IN
from api.models import ClientSession, SignInCode
from portal.models import AuditEvent
from tests.factories import UserFactory

from .conftest import tokens_for

START = datetime.datetime(2026, 5, 12, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def person(db):
    return UserFactory(real_name="海小勇", phone="13900000006")


@pytest.fixture(autouse=True)
def _run_on_commit(django_capture_on_commit_callbacks):
    """The SMS goes out after the request commits; run those callbacks as the request ends."""
    global CAPTURE
    CAPTURE = django_capture_on_commit_callbacks


def request_code(client, phone="13900000006"):
    with CAPTURE(execute=True):
        return client.post("/api/v1/auth/code", {"phone": phone}, content_type="application/json")


def exchange(client, code, phone="13900000006"):
    return client.post(
        "/api/v1/auth/token",
        {"phone": phone, "code": code, "client_name": "关爱小程序"},
        content_type="application/json",
    )


def sent_code(outbox) -> str:
    return re.search(r"\d{6}", outbox[-1][1]).group(0)


def me(client, access):
    return client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {access}")


def test_sms_code_signs_a_client_in(client, person, outbox):
    assert request_code(client, "+86 139-0000-0006").status_code == 202
    assert outbox[-1][0] == "13900000006"
    code = sent_code(outbox)
    assert SignInCode.objects.get().digest != code  # only a digest is kept

    response = exchange(client, code)
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "Bearer"  # noqa: S105
    assert tokens["expires_in"] == 15 * 60
    session = ClientSession.objects.get(user=person)
    assert session.client_name == "关爱小程序"
    assert tokens["access_token"] not in (session.access_digest, session.refresh_digest)
    assert AuditEvent.objects.filter(actor=person, action="login").exists()

    who = me(client, tokens["access_token"])
    assert who.status_code == 200
    assert who.json()["real_name"] == "海小勇"
    assert who.json()["phone"] == "139****0006"
    assert "no-store" in who["Cache-Control"]

    # spent on first use
    assert exchange(client, code).json()["error"]["message"] == str(CODE_GONE)


def test_unknown_number_gets_the_same_answer_and_no_sms(client, db, outbox):
    response = request_code(client, "13912345678")
    assert response.status_code == 202
    assert outbox == []
    assert not SignInCode.objects.exists()


def test_invalid_number_is_refused_in_chinese(client, db):
    response = request_code(client, "12345")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "手机号" in error["message"]


def test_english_when_the_client_chose_it(client, db):
    client.cookies["django_language"] = "en"
    response = request_code(client, "12345")
    assert "mobile number" in response.json()["error"]["message"]


def test_three_wrong_codes_lock_it(client, person, outbox):
    request_code(client)
    code = sent_code(outbox)
    wrong = "000000" if code != "000000" else "111111"
    first = exchange(client, wrong).json()["error"]
    assert first["message"] == str(CODE_WRONG) and first["fields"] == {"code": [str(CODE_WRONG)]}
    assert exchange(client, wrong).json()["error"]["message"] == str(CODE_WRONG)
    assert exchange(client, wrong).json()["error"]["message"] == str(CODE_LOCKED)
    # the right code no longer works either: the tries are spent
    response = exchange(client, code)
    assert response.status_code == 400
    assert not ClientSession.objects.exists()
    assert SignInCode.objects.get().attempts == 3


def test_code_expires_after_ten_minutes(client, person, outbox):
    with time_machine.travel(START, tick=False) as clock:
        request_code(client)
        code = sent_code(outbox)
        clock.shift(datetime.timedelta(minutes=10, seconds=1))
        response = exchange(client, code)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "code_gone"


def test_codes_per_number_are_rate_limited(client, person, outbox):
    for _ in range(3):
        assert request_code(client).status_code == 202
    response = request_code(client)
    assert response.status_code == 429
    assert response.json()["error"]["message"] == str(TOO_MANY_CODES)
    assert len(outbox) == 3


@override_settings(API_RATE_LIMITS={"code_ip": (2, 600)})
def test_codes_per_connection_are_rate_limited(client, db, outbox):
    UserFactory(phone="13900000011")
    UserFactory(phone="13900000012")
    UserFactory(phone="13900000013")
    assert request_code(client, "13900000011").status_code == 202
    assert request_code(client, "13900000012").status_code == 202
    assert request_code(client, "13900000013").status_code == 429
    assert len(outbox) == 2


def test_a_role_that_needs_two_factors_gets_no_token(client, county_officer, outbox):
    request_code(client, county_officer.phone)
    response = exchange(client, sent_code(outbox), phone=county_officer.phone)
    assert response.status_code == 403
    assert response.json()["error"]["message"] == str(MFA_ROLE)
    assert not ClientSession.objects.exists()


def test_access_token_expires_and_refresh_renews_it(client, person):
    with time_machine.travel(START, tick=False) as clock:
        access, refresh = tokens_for(person)
        assert me(client, access).status_code == 200
        clock.shift(datetime.timedelta(minutes=15, seconds=1))
        expired = me(client, access)
        assert expired.status_code == 401
        assert expired.json()["error"]["message"] == str(NOT_SIGNED_IN)

        renewed = client.post("/api/v1/auth/refresh", {"refresh_token": refresh}, content_type="application/json")
        assert renewed.status_code == 200
        assert me(client, renewed.json()["access_token"]).status_code == 200
        # the refresh token sent is spent
        replay = client.post("/api/v1/auth/refresh", {"refresh_token": refresh}, content_type="application/json")
        assert replay.status_code == 401
        assert replay.json()["error"]["message"] == str(REFRESH_INVALID)


def test_refresh_token_expires(client, person):
    with time_machine.travel(START, tick=False) as clock:
        _access, refresh = tokens_for(person)
        clock.shift(datetime.timedelta(days=30, seconds=1))
        response = client.post("/api/v1/auth/refresh", {"refresh_token": refresh}, content_type="application/json")
    assert response.status_code == 401


def test_logout_revokes_the_session(client, person):
    access, refresh = tokens_for(person)
    assert client.post("/api/v1/auth/logout", HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200
    assert me(client, access).status_code == 401
    response = client.post("/api/v1/auth/refresh", {"refresh_token": refresh}, content_type="application/json")
    assert response.status_code == 401


def test_sessions_listed_and_revoked_through_the_api(client, person):
    access, _ = tokens_for(person)
    other_access, _ = tokens_for(person, client_name="另一台手机")
    listed = client.get("/api/v1/auth/sessions", HTTP_AUTHORIZATION=f"Bearer {access}").json()
    assert {s["client_name"] for s in listed} == {"测试客户端", "另一台手机"}
    assert [s["current"] for s in listed if s["client_name"] == "测试客户端"] == [True]
    other = next(s for s in listed if s["client_name"] == "另一台手机")
    response = client.delete(f"/api/v1/auth/sessions/{other['id']}", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 200
    assert me(client, other_access).status_code == 401
    assert me(client, access).status_code == 200


def test_nobody_revokes_another_persons_session(client, person):
    stranger = UserFactory()
    victim_access, _ = tokens_for(person)
    stranger_access, _ = tokens_for(stranger)
    session = ClientSession.objects.get(user=person)
    response = client.delete(f"/api/v1/auth/sessions/{session.pk}", HTTP_AUTHORIZATION=f"Bearer {stranger_access}")
    assert response.status_code == 404
    assert me(client, victim_access).status_code == 200
    client.force_login(stranger)
    assert client.post(f"/api/clients/{session.pk}/revoke/").status_code == 404
    assert ClientSession.objects.get(pk=session.pk).revoked_at is None


def test_account_page_lists_clients_and_revokes_one(client, person):
    access, _ = tokens_for(person, client_name="关爱小程序")
    client.force_login(person)
    page = client.get("/portal/me/")
    assert "关爱小程序" in page.content.decode()
    session = ClientSession.objects.get(user=person)
    response = client.post(f"/api/clients/{session.pk}/revoke/")
    assert response.status_code == 302
    assert me(client, access).status_code == 401
    assert "关爱小程序" not in client.get("/portal/me/").content.decode()


def test_inactive_user_token_stops_working(client, person):
    access, _ = tokens_for(person)
    person.is_active = False
    person.save(update_fields=["is_active"])
    assert me(client, access).status_code == 401


def test_garbage_token_is_refused(client, db):
    response = me(client, "not-a-token")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_session_timestamps_are_now(person):
    with time_machine.travel(START, tick=False):
        tokens_for(person)
        session = ClientSession.objects.get(user=person)
        assert session.created_at == timezone.now()
        assert session.access_expires_at == timezone.now() + datetime.timedelta(minutes=15)


def test_requests_are_throttled_in_the_error_shape(client, db, monkeypatch):
    from api.api import api
    from api.errors import THROTTLED

    for throttle in api.throttle:
        monkeypatch.setattr(throttle, "num_requests", 2)
    assert client.get("/api/v1/services/").status_code == 200
    assert client.get("/api/v1/services/").status_code == 200
    response = client.get("/api/v1/services/")
    assert response.status_code == 429
    assert response.json()["error"] == {"code": "throttled", "message": str(THROTTLED), "fields": {}}
