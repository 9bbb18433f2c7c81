"""Redis down (a cache pointing at a closed port): the site degrades instead of failing."""

import socket

import pytest

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from api import ratelimit
from portal.cache import HIT_HEADER
from portal.cache_backends import ResilientCache
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the socket is: nothing listens there


def redis_caches(port: int) -> dict:
    """The production cache layout (portal/settings/base.py with REDIS_URL) against a dead server."""

    def resilient(prefix, fallback):
        return {
            "BACKEND": "portal.cache_backends.ResilientCache",
            "OPTIONS": {
                "PRIMARY": {
                    "BACKEND": "django_redis.cache.RedisCache",
                    "LOCATION": f"redis://127.0.0.1:{port}/0",
                    "KEY_PREFIX": prefix,
                    "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
                },
                "FALLBACK": {"BACKEND": fallback, "LOCATION": settings.CACHE_FALLBACK_TABLE},
                "RETRY_AFTER": 5,
            },
        }

    dummy = "django.core.cache.backends.dummy.DummyCache"
    return {
        "default": resilient("", "django.core.cache.backends.db.DatabaseCache"),
        "pages": resilient("pages", dummy),
        "sessions": resilient("sessions", dummy),
    }


@pytest.fixture
def redis_down(settings):
    with override_settings(
        CACHES=redis_caches(closed_port()),
        SESSION_ENGINE="django.contrib.sessions.backends.cached_db",
        SESSION_CACHE_ALIAS="sessions",
        PUBLIC_PAGE_CACHE_SECONDS=300,
    ):
        yield
    for each in caches.all():
        each.close()


def test_healthz_stays_200_and_says_the_cache_is_down(client, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["cache"] == "error"


def test_public_pages_are_served_uncached(client, home_page, redis_down):
    for _ in range(3):
        response = client.get("/")
        assert response.status_code == 200
        assert response.get(HIT_HEADER) in (None, "miss")


def test_sign_in_works_sessions_are_kept_and_rate_limits_still_count(client, redis_down):
    UserFactory(phone="13911112222")
    response = client.post(reverse("account_login"), {"login": "13911112222", "password": "Zhufu-2026!"})
    assert response.status_code == 302
    assert client.get(reverse("portal:me")).status_code == 200  # the session came from the database
    client.logout()
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "13911112222", "password": "wrong-password"})
    response = client.post(reverse("account_login"), {"login": "13911112222", "password": "Zhufu-2026!"})
    assert "登录失败次数过多" in response.content.decode()
    with connection.cursor() as cursor:  # counted in the database, where every web process sees it
        cursor.execute("SELECT COUNT(*) FROM " + connection.ops.quote_name(settings.CACHE_FALLBACK_TABLE))  # noqa: S608
        assert cursor.fetchone()[0] >= 1


def test_rate_limits_are_shared_by_processes_while_redis_is_down(redis_down):
    """A second process has its own in-process memory but the same database: it sees the first one's count."""
    other_process = ResilientCache("default", redis_caches(closed_port())["default"])
    for _ in range(3):
        assert ratelimit.allow("code_phone", "13911112222")
    assert not other_process.add("api-rl:code_phone:13911112222", 1, 600)  # the window is already open
    assert other_process.get("api-rl:code_phone:13911112222") == 3
    assert not ratelimit.allow("code_phone", "13911112222")


def test_the_cache_tries_redis_again_after_the_retry_period(redis_down, monkeypatch):
    cache = caches["default"]
    cache.set("k", "v")
    assert not cache.primary_up and cache.get("k") == "v"  # from the fallback
    calls = []
    monkeypatch.setattr(cache.primary, "get", lambda *a, **k: calls.append(a) or "from-redis")
    assert cache.get("k") == "v"  # still inside the retry period: Redis not asked
    cache._down_until = 0
    assert cache.get("k") == "from-redis" and len(calls) == 1


def test_a_cache_raising_errors_does_not_break_the_page_cache(client, home_page, settings):
    """Without the resilient wrapper (a plain django-redis cache that raises), pages are still served."""
    port = closed_port()
    plain = {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": f"redis://127.0.0.1:{port}/0"}
    with override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "pages": plain},
        PUBLIC_PAGE_CACHE_SECONDS=300,
    ):
        assert client.get("/").status_code == 200


def test_production_settings_reuse_connections_and_survive_redis():
    from tests.test_settings import PROD_KEYS, run_python

    code = (
        "import django;from django.conf import settings;django.setup();d=settings.DATABASES['default'];"
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], settings.SESSION_ENGINE, settings.CACHES['default']['BACKEND'])"
    )
    result = run_python(
        code,
        DJANGO_SETTINGS_MODULE="portal.settings.production",
        DATABASE_URL="postgres://u@127.0.0.1:5432/x",
        REDIS_URL="redis://127.0.0.1:6379/1",
        SECRET_KEY="k" * 60,
        ALLOWED_HOSTS="care.example.cn",
        **PROD_KEYS,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "60",
        "True",
        "django.contrib.sessions.backends.cached_db",
        "portal.cache_backends.ResilientCache",
    ]


def test_an_answer_from_redis_is_not_taken_for_an_outage(redis_down, monkeypatch):
    cache = caches["default"]
    cache._down_until = 0

    def missing(*args, **kwargs):
        raise ValueError("Key 'k' not found")

    monkeypatch.setattr(cache.primary, "incr", missing)
    with pytest.raises(ValueError):
        cache.incr("k")
    assert cache.primary_up
