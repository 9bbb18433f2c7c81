import pytest

from django.core.exceptions import ValidationError
from django.urls import reverse

from conftest import COUNTY, OTHER_COUNTY, OTHER_TOWNSHIP, TOWNSHIP, VILLAGE
from portal import roles
from portal.models import AuditEvent, Region, RegionLevel, StaffRole
from portal.scoping import can_write, in_scope, scope_queryset, scope_regions
from tests.factories import StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db


def villages(user):
    return set(scope_regions(user).filter(level=RegionLevel.VILLAGE).values_list("code", flat=True))


def test_township_scope_is_exactly_the_villages_with_its_prefix(township_officer):
    expected = set(Region.objects.filter(level=RegionLevel.VILLAGE, parent_id=TOWNSHIP).values_list("code", flat=True))
    assert expected  # 吉强镇 has villages
    assert villages(township_officer) == expected
    assert all(code.startswith("640422100") for code in villages(township_officer))
    assert not in_scope(township_officer, "640422101201")  # a village of 兴隆镇, next door


def test_liaison_sees_one_village(liaison):
    assert villages(liaison) == {VILLAGE}
    assert in_scope(liaison, VILLAGE)
    assert not in_scope(liaison, "640422100202")


def test_county_officer_sees_the_county_not_the_next_one(county_officer):
    codes = villages(county_officer)
    assert codes == set(
        Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith="640422").values_list("code", flat=True)
    )
    assert not in_scope(county_officer, OTHER_COUNTY)


def test_people_without_a_role_see_nothing(volunteer, client):
    assert scope_regions(volunteer).count() == 0
    anonymous = client.get("/").wsgi_request.user
    assert scope_queryset(anonymous, Region.objects.all(), region_field="self").count() == 0


def test_two_roles_union_without_duplicates(liaison):
    StaffRoleFactory(user=liaison, role="township_officer", region=Region.objects.get(code=OTHER_TOWNSHIP))
    liaison._staff_roles_cache = None
    codes = villages(liaison)
    assert VILLAGE in codes
    assert all(c.startswith("640422101") or c == VILLAGE for c in codes)


def test_supervisor_is_read_only(supervisor, liaison):
    assert not can_write(supervisor)
    assert can_write(liaison)


def test_workbench_lists_only_villages_in_scope_and_is_not_cached(client, township_officer):
    client.force_login(township_officer)
    response = client.get(reverse("portal:workbench"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    codes = {row.record.code for row in response.context["table"].page.object_list}
    assert codes and all(c.startswith("640422100") for c in codes)
    assert "640422101201" not in response.content.decode()


def test_workbench_refuses_people_without_a_role(client, volunteer):
    client.force_login(volunteer)
    assert client.get(reverse("portal:workbench")).status_code == 403
    client.logout()
    response = client.get(reverse("portal:workbench"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_workbench_export_is_scoped_and_audited(client, liaison):
    client.force_login(liaison)
    response = client.get(reverse("portal:workbench"), {"_export": "csv"})
    assert response.status_code == 200
    body = response.content.decode()
    assert VILLAGE in body and "640422100202" not in body
    event = AuditEvent.objects.get(action="export")
    assert event.actor == liaison


def test_workbench_queries_do_not_grow_with_rows(client, county_officer, django_assert_max_num_queries, mfa_client):
    c = mfa_client(county_officer)
    # session, user, roles, MFA, villages count + page, township choices, and the care counts (4)
    with django_assert_max_num_queries(16):
        response = c.get(reverse("portal:workbench"), {"per_page": 300})
    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 300


# --- granting roles ----------------------------------------------------------------------------


def test_region_admin_grants_inside_own_scope(region_admin):
    user = UserFactory()
    granted = roles.staffrole_grant(
        assigner=region_admin, user=user, role="village_liaison", region=Region.objects.get(code=VILLAGE)
    )
    assert granted.granted_by == region_admin
    assert AuditEvent.objects.filter(action="grant", object_id=str(granted.pk)).exists()


@pytest.mark.parametrize(
    ("role", "code", "error"),
    [
        ("village_liaison", "640104001002", "out_of_scope"),  # 崇安社区, a Yinchuan community
        ("county_officer", OTHER_COUNTY, "out_of_scope"),
        ("village_liaison", TOWNSHIP, "wrong_level"),
    ],
)
def test_region_admin_cannot_grant_outside_scope_or_at_wrong_level(region_admin, role, code, error):
    user = UserFactory()
    with pytest.raises(ValidationError) as caught:
        roles.staffrole_grant(assigner=region_admin, user=user, role=role, region=Region.objects.get(code=code))
    assert caught.value.error_list[0].code == error
    assert not StaffRole.objects.filter(user=user).exists()


def test_only_region_admins_grant(township_officer):
    with pytest.raises(ValidationError) as caught:
        roles.staffrole_grant(
            assigner=township_officer,
            user=UserFactory(),
            role="village_liaison",
            region=Region.objects.get(code=VILLAGE),
        )
    assert caught.value.messages == [str(roles.NOT_ADMIN)]


def test_admin_form_refuses_out_of_scope_region(client, region_admin, mfa_client):
    from django.contrib.auth.models import Permission

    region_admin.user_permissions.add(*Permission.objects.filter(codename__in=["add_staffrole", "view_staffrole"]))
    target = UserFactory()
    c = mfa_client(region_admin)
    url = reverse("admin:portal_staffrole_add")
    response = c.post(url, {"user": target.pk, "role": "village_liaison", "region": "640104001002"})
    assert response.status_code == 200
    assert not StaffRole.objects.filter(user=target).exists()
    response = c.post(url, {"user": target.pk, "role": "village_liaison", "region": VILLAGE})
    assert response.status_code == 302
    assert StaffRole.objects.get(user=target).granted_by == region_admin


def test_admin_role_list_is_scoped(client, region_admin, mfa_client):
    from django.contrib.auth.models import Permission

    region_admin.user_permissions.add(Permission.objects.get(codename="view_staffrole"))
    outsider = UserFactory(real_name="外县人员")
    StaffRoleFactory(user=outsider, role="county_officer", region=Region.objects.get(code=OTHER_COUNTY))
    insider = UserFactory(real_name="本县人员")
    StaffRoleFactory(user=insider, role="village_liaison", region=Region.objects.get(code=VILLAGE))
    body = mfa_client(region_admin).get(reverse("admin:portal_staffrole_changelist")).content.decode()
    assert "本县人员" in body
    assert "外县人员" not in body
    assert COUNTY  # the admin's own county


def test_supervisor_is_not_offered_write_buttons_on_an_elder(client, supervisor, liaison):
    from services.tests.factories_ledger import ElderFactory

    elder = ElderFactory(village=Region.objects.get(code=VILLAGE))
    url = reverse("services:elder-detail", args=[elder.pk])
    visit_url = reverse("services:visit-create", args=[elder.pk])
    client.force_login(supervisor)
    assert visit_url not in client.get(url).content.decode()
    client.force_login(liaison)
    assert visit_url in client.get(url).content.decode()
