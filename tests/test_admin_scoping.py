"""Issue 15, item 3: a county-level region administrator sees, in both admin sites, only the people and
audit entries of their county (西吉县); 兴庆区's are neither listed nor reachable."""

import json

import pytest

from django.contrib.auth.models import Permission
from django.urls import reverse

from conftest import OTHER_COUNTY, VILLAGE
from portal import audit
from portal.models import AuditAction, AuditEvent, Region
from tests.factories import StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    insider = UserFactory(real_name="本县人员", phone="13600000001")
    StaffRoleFactory(user=insider, role="village_liaison", region=Region.objects.get(code=VILLAGE))
    outsider = UserFactory(real_name="外县人员", phone="13600000002")
    StaffRoleFactory(user=outsider, role="county_officer", region=Region.objects.get(code=OTHER_COUNTY))
    audit.record(AuditAction.LOGIN, actor=insider, object_repr="本县登录")
    audit.record(AuditAction.LOGIN, actor=outsider, object_repr="外县登录")
    return insider, outsider


@pytest.fixture
def admin_client(region_admin, mfa_client):
    region_admin.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_user", "change_user", "view_auditevent", "view_staffrole", "add_staffrole"]
        )
    )
    return mfa_client(region_admin)


def test_django_admin_user_list_and_pages_are_scoped(admin_client, people):
    insider, outsider = people
    body = admin_client.get(reverse("admin:portal_user_changelist")).content.decode()
    assert "本县人员" in body and "外县人员" not in body and "13600000002" not in body
    assert admin_client.get(reverse("admin:portal_user_change", args=[insider.pk])).status_code == 200
    response = admin_client.get(reverse("admin:portal_user_change", args=[outsider.pk]))
    assert response.status_code == 302  # "doesn't exist" → back to the admin index
    assert "外县人员" not in admin_client.get(response["Location"], follow=True).content.decode()


def test_django_admin_audit_is_scoped(admin_client, people):
    body = admin_client.get(reverse("admin:portal_auditevent_changelist")).content.decode()
    assert "本县登录" in body and "外县登录" not in body
    outsider_event = AuditEvent.objects.get(object_repr="外县登录")
    response = admin_client.get(reverse("admin:portal_auditevent_change", args=[outsider_event.pk]))
    assert response.status_code == 302


def test_staff_role_user_autocomplete_is_scoped(admin_client, people):
    url = reverse("admin:autocomplete")
    params = {"app_label": "portal", "model_name": "staffrole", "field_name": "user"}
    found = json.loads(admin_client.get(url, {**params, "term": "1360000000"}).content)["results"]
    assert [r["text"] for r in found] == ["本县人员"]
    found = json.loads(admin_client.get(url, {**params, "term": "人员"}).content)["results"]
    assert "外县人员" not in [r["text"] for r in found]
    # someone new to the county is found by the full number only
    newcomer = UserFactory(real_name="新志愿者", phone="13600000003")
    found = json.loads(admin_client.get(url, {**params, "term": "志愿者"}).content)["results"]
    assert found == []
    found = json.loads(admin_client.get(url, {**params, "term": newcomer.phone}).content)["results"]
    assert [r["text"] for r in found] == ["新志愿者"]


def test_wagtail_user_admin_is_scoped(region_admin, mfa_client, people):
    insider, outsider = people
    region_admin.user_permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "change_user", "delete_user", "add_user"])
    )
    c = mfa_client(region_admin)
    body = c.get(reverse("wagtailusers_users:index")).content.decode()
    assert "本县人员" in body and "外县人员" not in body
    assert c.get(reverse("wagtailusers_users:edit", args=[insider.pk])).status_code == 200
    assert c.get(reverse("wagtailusers_users:edit", args=[outsider.pk])).status_code == 404
    assert c.get(reverse("wagtailusers_users:delete", args=[outsider.pk])).status_code == 404


def test_superuser_still_sees_everyone(mfa_client, people):
    c = mfa_client(UserFactory(is_superuser=True, is_staff=True))
    body = c.get(reverse("admin:portal_user_changelist")).content.decode()
    assert "本县人员" in body and "外县人员" in body
