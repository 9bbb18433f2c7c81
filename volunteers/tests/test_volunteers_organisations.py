import pytest

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import UserFactory
from volunteers.models import Membership, MembershipStatus, Organisation, OrganisationKind, OrganisationStatus
from volunteers.organisations import (
    DUPLICATE_CREDIT,
    INVALID_CREDIT_CHECK,
    INVALID_CREDIT_FORMAT,
    LAST_ADMIN,
    REASON_REQUIRED,
    organisation_decide,
    validate_credit_code,
)
from volunteers.tests.conftest import VALID_CREDIT_CODE, VILLAGE, make_organisation, other_county_village

pytestmark = pytest.mark.django_db


def _org_data(**overrides):
    data = {
        "name": "大营村老年协会",
        "kind": OrganisationKind.objects.get(slug="laonian-xiehui").pk,
        "region": VILLAGE,
        "address": "村委会院内",
        "contact_name": "马兰花",
        "contact_phone": "139 0000 0001",
        "credit_code": "",
        "description": "互助养老",
    }
    data.update(overrides)
    return data


def test_every_default_kind_exists():
    assert list(OrganisationKind.objects.values_list("name", flat=True)) == [
        "老年协会",
        "志愿服务队",
        "社会工作站",
        "为老服务机构",
        "互助幸福院",
        "农村老饭桌",
    ]


def test_credit_code_check_character():
    assert validate_credit_code(" 91350100m000100y43 ") == VALID_CREDIT_CODE
    assert validate_credit_code("") == ""
    with pytest.raises(ValidationError) as exc:
        validate_credit_code("91350100M000100Y44")
    assert exc.value.messages == [str(INVALID_CREDIT_CHECK)]
    for bad in ("91350100M000100Y4", "91350100M000100I43", "不是代码"):
        with pytest.raises(ValidationError) as exc:
            validate_credit_code(bad)
        assert exc.value.messages == [str(INVALID_CREDIT_FORMAT)]


def test_register_organisation_pending_and_creator_is_admin(client, volunteer):
    client.force_login(volunteer)
    response = client.post(reverse("volunteers:organisation-create"), _org_data(credit_code=VALID_CREDIT_CODE))
    organisation = Organisation.objects.get()
    assert response["Location"] == organisation.get_absolute_url()
    assert organisation.status == OrganisationStatus.PENDING and organisation.contact_phone == "13900000001"
    assert Membership.objects.get(organisation=organisation).is_admin
    # not public yet: not in the directory, and a stranger gets 404
    assert "大营村老年协会" not in client.get(reverse("volunteers:organisation-list")).content.decode()
    client.logout()
    assert client.get(organisation.get_absolute_url()).status_code == 404


def test_township_level_organisation_without_javascript(client, volunteer):
    client.force_login(volunteer)
    data = _org_data(region="", name="吉强镇志愿服务队")
    data["region_township"] = "640422100000"
    client.post(reverse("volunteers:organisation-create"), data)
    assert Organisation.objects.get().region_id == "640422100000"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"credit_code": "91350100M000100Y44"}, "credit_code", INVALID_CREDIT_CHECK),
        ({"credit_code": "12345"}, "credit_code", INVALID_CREDIT_FORMAT),
        ({"contact_phone": "12345"}, "contact_phone", None),
        ({"region": "640422000000"}, "region", None),  # a county is too wide
        ({"name": "<script>alert(1)</script>"}, "name", None),
    ],
)
def test_bad_organisation_input_changes_nothing(client, volunteer, overrides, field, message):
    client.force_login(volunteer)
    response = client.post(reverse("volunteers:organisation-create"), _org_data(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    if message:
        assert str(message) in response.content.decode()
    assert not Organisation.objects.exists() and not Membership.objects.exists()


def test_duplicate_credit_code_is_refused(client, volunteer, org_admin):
    make_organisation(admin=org_admin, credit_code=VALID_CREDIT_CODE)
    client.force_login(volunteer)
    response = client.post(reverse("volunteers:organisation-create"), _org_data(credit_code=VALID_CREDIT_CODE))
    assert str(DUPLICATE_CREDIT) in response.content.decode()
    assert Organisation.objects.count() == 1


def test_county_officer_approves_in_scope(mfa_client, county_officer, org_admin):
    organisation = make_organisation(admin=org_admin, status=OrganisationStatus.PENDING)
    client = mfa_client(county_officer)
    review = client.get(reverse("volunteers:organisation-review"))
    assert organisation.name in review.content.decode()
    response = client.post(reverse("volunteers:organisation-decide", args=[organisation.pk]), {"status": "approved"})
    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.status == "approved" and organisation.decided_by == county_officer
    assert AuditEvent.objects.filter(object_type="volunteers.organisation", action="change").exists()
    client.logout()
    assert organisation.name in client.get(reverse("volunteers:organisation-list")).content.decode()


def test_reject_and_suspend_need_a_reason(mfa_client, county_officer, org_admin):
    organisation = make_organisation(admin=org_admin, status=OrganisationStatus.PENDING)
    client = mfa_client(county_officer)
    client.post(reverse("volunteers:organisation-decide", args=[organisation.pk]), {"status": "rejected"})
    organisation.refresh_from_db()
    assert organisation.status == "pending"
    with pytest.raises(ValidationError) as exc:
        organisation_decide(actor=county_officer, organisation=organisation, status="rejected")
    assert str(REASON_REQUIRED) in exc.value.messages
    organisation_decide(actor=county_officer, organisation=organisation, status="approved")
    organisation_decide(actor=county_officer, organisation=organisation, status="suspended", reason="活动长期停止")
    organisation.refresh_from_db()
    assert organisation.status == "suspended" and organisation.status_reason == "活动长期停止"
    assert organisation.name not in client.get(reverse("volunteers:organisation-list")).content.decode()


def test_county_officer_cannot_approve_outside_their_county(mfa_client, county_officer, org_admin):
    outside = make_organisation(
        admin=org_admin, status=OrganisationStatus.PENDING, code=other_county_village().code, name="兴庆区老年协会"
    )
    client = mfa_client(county_officer)
    assert outside.name not in client.get(reverse("volunteers:organisation-review")).content.decode()
    response = client.post(reverse("volunteers:organisation-decide", args=[outside.pk]), {"status": "approved"})
    assert response.status_code == 404
    with pytest.raises(PermissionDenied):
        organisation_decide(actor=county_officer, organisation=outside, status="approved")
    outside.refresh_from_db()
    assert outside.status == "pending"


@pytest.mark.parametrize("role", ["township_officer", "liaison", "volunteer"])
def test_other_roles_cannot_decide(client, request, role, org_admin):
    user = request.getfixturevalue(role)
    organisation = make_organisation(admin=org_admin, status=OrganisationStatus.PENDING)
    client.force_login(user)
    assert (
        client.post(
            reverse("volunteers:organisation-decide", args=[organisation.pk]), {"status": "approved"}
        ).status_code
        == 404
    )
    organisation.refresh_from_db()
    assert organisation.status == "pending"


def test_join_accept_and_members_see_only_names(client, organisation, org_admin, member):
    newcomer = UserFactory(real_name="新会员", phone="13922220000")
    client.force_login(newcomer)
    client.post(reverse("volunteers:organisation-join", args=[organisation.pk]))
    membership = Membership.objects.get(user=newcomer)
    assert membership.status == MembershipStatus.PENDING
    # asking twice is refused, nothing changes
    response = client.post(reverse("volunteers:organisation-join", args=[organisation.pk]), follow=True)
    assert "您已是会员或已提交加入申请" in response.content.decode()
    assert Membership.objects.filter(user=newcomer).count() == 1

    client.force_login(org_admin)
    members_url = reverse("volunteers:organisation-members", args=[organisation.pk])
    page = client.get(members_url).content.decode()
    assert "13922220000" in page and "13911110002" in page  # the admin sees phones
    assert AuditEvent.objects.filter(action="view", object_type="volunteers.organisation").exists()
    client.post(reverse("volunteers:membership-action", args=[organisation.pk, membership.pk]), {"action": "accept"})
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE

    client.force_login(member)
    detail = client.get(organisation.get_absolute_url()).content.decode()
    assert "新会员" in detail and "马会长" in detail
    assert "13922220000" not in detail and "13911110002" not in detail
    assert client.get(members_url).status_code == 403  # a member is not an admin


def test_admins_appoint_admins_but_never_leave_none(client, organisation, org_admin, member):
    own = Membership.objects.get(user=org_admin)
    client.force_login(org_admin)
    url = reverse("volunteers:membership-action", args=[organisation.pk, own.pk])
    response = client.post(url, {"action": "remove_admin"}, follow=True)
    assert str(LAST_ADMIN) in response.content.decode()
    assert Membership.objects.get(pk=own.pk).is_admin
    other = Membership.objects.get(user=member)
    client.post(reverse("volunteers:membership-action", args=[organisation.pk, other.pk]), {"action": "make_admin"})
    assert Membership.objects.get(pk=other.pk).is_admin


def test_another_organisations_admin_gets_404(client, organisation, other_admin, member):
    membership = Membership.objects.get(user=member)
    client.force_login(other_admin)
    assert client.get(reverse("volunteers:organisation-members", args=[organisation.pk])).status_code == 404
    response = client.post(
        reverse("volunteers:membership-action", args=[organisation.pk, membership.pk]), {"action": "make_admin"}
    )
    assert response.status_code == 404
    assert not Membership.objects.get(pk=membership.pk).is_admin
    assert client.get(reverse("volunteers:activity-create", args=[organisation.pk])).status_code == 404


def test_member_phone_export_is_admin_only_and_audited(client, organisation, org_admin, member):
    url = reverse("volunteers:organisation-members", args=[organisation.pk]) + "?_export=csv"
    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(org_admin)
    response = client.get(url)
    body = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    assert "13911110002" in body
    assert AuditEvent.objects.filter(action="export").exists()


def test_directory_filters_and_escapes(client, org_admin):
    make_organisation(admin=org_admin, name="大营村老年协会", description="<script>alert(1)</script>")
    team = make_organisation(admin=UserFactory(), name="兴隆镇志愿服务队", code="640422101000")
    team.kind = OrganisationKind.objects.get(slug="zhiyuan-fuwudui")
    team.save()
    make_organisation(admin=UserFactory(), name="兴庆区协会", code=other_county_village().code)
    url = reverse("volunteers:organisation-list")
    body = client.get(url, {"county": "640422000000"}).content.decode()
    assert "大营村老年协会" in body and "兴隆镇志愿服务队" in body and "兴庆区协会" not in body
    body = client.get(url, {"county": "640422000000", "township": "640422100000"}).content.decode()
    assert "大营村老年协会" in body and "兴隆镇志愿服务队" not in body
    body = client.get(url, {"kind": team.kind_id}).content.decode()
    assert "兴隆镇志愿服务队" in body and "大营村老年协会" not in body
    detail = client.get(Organisation.objects.get(name="大营村老年协会").get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in detail and "&lt;script&gt;" in detail


def _page_queries(captured) -> list[str]:
    """Queries the page itself runs: the test's own transaction adds a SAVEPOINT pair per atomic request."""
    return [q["sql"] for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


@pytest.mark.parametrize("count", [3, 45])
def test_directory_query_count_is_constant(client, count):
    url = reverse("volunteers:organisation-list")
    client.get(url, {"county": "640422000000"})  # division choices are cached after the first request
    for i in range(count):
        make_organisation(admin=UserFactory(), name=f"协会{i}", code="640422100201" if i % 2 else "640422100000")
    make_organisation(admin=UserFactory(), name="待审核协会", status=OrganisationStatus.PENDING)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, {"county": "640422000000", "township": "640422100000"})
    assert response.status_code == 200
    assert len(_page_queries(captured)) <= 3  # count, rows, kinds
    assert response.context["table"].paginator.count == count
    body = response.content.decode()
    assert "待审核协会" not in body and "协会0" in body
    assert "西吉县吉强镇大营村委会" in body and "西吉县吉强镇" in body  # village: county+township+village
    assert body.count('class="activity-card org-card"') == min(count, 30)


@pytest.mark.parametrize("count", [3, 60])
def test_member_list_query_count_is_constant(client, organisation, org_admin, count):
    for i in range(count):
        Membership.objects.create(
            organisation=organisation, user=UserFactory(), status="pending" if i % 3 else "active"
        )
    client.force_login(org_admin)
    url = reverse("volunteers:organisation-members", args=[organisation.pk])
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    # session, user, roles, the organisation with its member counts, the audit event, the rows: no COUNT
    queries = _page_queries(captured)
    assert len(queries) <= 6, queries
    assert not any("COUNT(*)" in q and "__count" in q for q in queries)
    assert response.context["table"].paginator.count == count + 1
    pending = sum(1 for i in range(count) if i % 3)
    assert client.get(url, {"status": "pending"}).context["table"].paginator.count == pending
    filtered = client.get(url, {"status": "active", "page": "2"})
    assert filtered.context["table"].paginator.count == count + 1 - pending
    assert client.get(url, {"status": "nonsense"}).context["table"].paginator.count == 0


def test_member_list_buttons_post_to_the_membership_action(client, organisation, org_admin):
    asking = UserFactory(real_name="申请人")
    membership = Membership.objects.create(organisation=organisation, user=asking)
    client.force_login(org_admin)
    body = client.get(reverse("volunteers:organisation-members", args=[organisation.pk])).content.decode()
    action = reverse("volunteers:membership-action", args=[organisation.pk, membership.pk])
    assert f'action="{action}"' in body and 'value="accept"' in body and "申请人" in body
    client.post(action, {"action": "accept"})
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.ACTIVE


def test_directory_export_keeps_the_full_columns(client):
    make_organisation(admin=UserFactory(), name="导出协会", address="村委会院内")
    make_organisation(admin=UserFactory(), name="未审核协会", status=OrganisationStatus.PENDING)
    response = client.get(reverse("volunteers:organisation-list"), {"_export": "csv"})
    text = response.content.decode("utf-8")
    assert "导出协会" in text and "村委会院内" in text and "13900000001" in text and "640422100201" in text
    assert "未审核协会" not in text
