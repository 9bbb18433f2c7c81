import pytest

from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from portal.models import AuditEvent, StaffRole, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_home_page_is_chinese_by_default(client, home_page):
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans"' in body
    assert "跳到主要内容" in body  # skip link
    assert "大字模式" in body
    assert "农村留守老年人关爱服务" in body


def test_browser_language_does_not_override_chinese(client, home_page):
    body = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert '<html lang="zh-Hans"' in body


def test_language_switch_to_english(client, home_page):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    body = client.get("/").content.decode()
    assert '<html lang="en"' in body
    assert "Skip to main content" in body


def test_large_text_mode_persists(client, home_page):
    response = client.post(reverse("toggle_elder_mode"), {"next": "/"})
    assert response.status_code == 302
    assert response.cookies["elder_mode"].value == "1"
    assert 'class="elder-mode"' in client.get("/").content.decode()
    client.post(reverse("toggle_elder_mode"), {"next": "/"})
    assert 'class="elder-mode"' not in client.get("/").content.decode()


def test_large_text_toggle_refuses_offsite_redirect(client):
    response = client.post(reverse("toggle_elder_mode"), {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_me_page_escapes_names_and_masks_phone(client):
    user = UserFactory(real_name="<script>alert(1)</script>", phone="13812345678")
    client.force_login(user)
    body = client.get(reverse("portal:me")).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
    assert "138****5678" in body
    assert "13812345678" not in body


def test_seed_demo_is_idempotent_and_every_account_signs_in(client):
    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    assert User.objects.filter(phone__in=[a[0] for a in DEMO_ACCOUNTS]).count() == len(DEMO_ACCOUNTS)
    assert StaffRole.objects.count() == sum(1 for a in DEMO_ACCOUNTS if a[2])
    for phone, *_ in DEMO_ACCOUNTS:
        client.logout()
        response = client.post(reverse("account_login"), {"login": phone, "password": DEMO_PASSWORD})
        assert response.status_code == 302, phone
        assert client.session.get("_auth_user_id") == str(User.objects.get(phone=phone).pk)


@override_settings(PORTAL_ENVIRONMENT="production")
def test_seed_demo_refuses_production():
    with pytest.raises(CommandError, match="生产环境"):
        call_command("seed_demo", verbosity=0)
    assert not User.objects.exists()


def test_audit_records_actor_and_address(rf, liaison):
    from portal import audit

    request = rf.get("/portal/workbench/", REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="UnitTest")
    request.user = liaison
    audit.record("view", request=request, obj=liaison)
    event = AuditEvent.objects.get()
    assert (event.actor, event.ip_address, event.user_agent, event.object_type) == (
        liaison,
        "10.1.2.3",
        "UnitTest",
        "portal.user",
    )


def test_health_endpoint(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "queue": None}  # immediate backend: no queue


def test_404_page_is_translated(client, home_page):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "找不到" in response.content.decode()
