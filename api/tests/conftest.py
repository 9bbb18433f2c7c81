"""Shared helpers of the API tests: a signed-in client for any user, the way a phone app holds one."""

import secrets

import pytest

from django.utils import timezone

from api import auth
from services.tests.factories_records import (  # noqa: F401 — fixtures of the giver's tests
    elder,
    item,
    member,
    org_admin,
    organisation,
    past_activity,
)


def tokens_for(user, *, client_name: str = "测试客户端") -> tuple[str, str]:
    """Open a client session directly (the SMS step has its own tests); returns (access, refresh)."""
    access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    auth._open_session(user, access=access, refresh=refresh, client_name=client_name, now=timezone.now(), request=None)
    return access, refresh


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens_for(user)[0]}"}


@pytest.fixture
def api_get(client):
    """GET an API path as `user` (None: anonymous); returns the response."""

    def get(path, user=None, **params):
        headers = bearer(user) if user is not None else {}
        return client.get(f"/api/v1{path}", params, **headers)

    return get


@pytest.fixture
def api_post(client):
    def post(path, user=None, data=None, method="post"):
        headers = bearer(user) if user is not None else {}
        send = getattr(client, method)
        return send(f"/api/v1{path}", data or {}, content_type="application/json", **headers)

    return post
