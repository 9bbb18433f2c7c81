"""Public lists (pagination, query counts, what is hidden) and a giver's own endpoints."""

import pytest

from api.errors import BAD_REQUEST
from services.records.models import ServiceRecord
from services.tests.factories_records import at
from tests.factories import UserFactory
from volunteers.models import ActivitySignup, SignupStatus, VolunteerProfile
from volunteers.tests.conftest import make_activity, make_organisation, make_profile


def test_services_paginated_in_one_shape(api_get, item, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        body = api_get("/services/", page_size=1).json()
    assert body["count"] >= 1 and body["page"] == 1 and body["page_size"] == 1
    assert len(body["items"]) == 1
    bad = api_get("/services/", page_size=1000)
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"page_size"}
    assert bad.json()["error"]["message"] == str(BAD_REQUEST)


def test_public_activities_and_organisations_hide_drafts_and_unapproved(api_get, organisation, org_admin):
    shown = make_activity(organisation=organisation, title="健康义诊")
    draft = make_activity(organisation=organisation, title="草稿活动", status="draft")
    pending = make_organisation(admin=UserFactory(), name="待审组织", status="pending")
    titles = [a["title"] for a in api_get("/activities/").json()["items"]]
    assert titles == ["健康义诊"]
    assert api_get(f"/activities/{shown.pk}").status_code == 200
    assert api_get(f"/activities/{draft.pk}").status_code == 404
    names = [o["name"] for o in api_get("/organisations/").json()["items"]]
    assert "待审组织" not in names and organisation.name in names
    assert api_get(f"/organisations/{pending.pk}").status_code == 404
    assert "contact_phone" not in api_get(f"/organisations/{organisation.pk}").json()


def test_activity_list_query_count_is_constant(api_get, organisation, django_assert_max_num_queries):
    for n in range(8):
        make_activity(organisation=organisation, title=f"活动{n}")
    with django_assert_max_num_queries(4):
        assert api_get("/activities/").json()["count"] == 8


def test_signup_and_cancel(api_post, api_get, organisation):
    activity = make_activity(organisation=organisation, capacity=1)
    giver = UserFactory()
    make_profile(giver)
    response = api_post(f"/activities/{activity.pk}/signup", giver)
    assert response.status_code == 201
    assert response.json()["activity"]["places_left"] == 0
    again = api_post(f"/activities/{activity.pk}/signup", giver)
    assert again.status_code == 400 and again.json()["error"]["message"]
    other = UserFactory()
    make_profile(other)
    full = api_post(f"/activities/{activity.pk}/signup", other)
    assert full.status_code == 400
    assert not ActivitySignup.objects.filter(user=other).exists()
    assert api_post(f"/activities/{activity.pk}/cancel", giver).status_code == 200
    assert ActivitySignup.objects.get(user=giver).status == SignupStatus.WITHDRAWN


def test_records_are_only_my_own(api_get, api_post, member, past_activity, item):
    payload = {
        "service_item": item.pk,
        "activity": past_activity.pk,
        "day": at(2, 9).date().isoformat(),
        "start_time": "09:00",
        "end_time": "11:00",
        "place": "大营村",
        "content": "健康义诊帮忙",
    }
    response = api_post("/me/records", member, payload)
    assert response.status_code == 201, response.json()
    assert response.json()["minutes"] == 120
    stranger = UserFactory()
    assert api_get("/me/records", stranger).json()["count"] == 0
    assert api_get("/me/records", member).json()["count"] == 1


def test_bad_record_changes_nothing(api_post, member, past_activity, item):
    future = {
        "service_item": item.pk,
        "activity": past_activity.pk,
        "day": "2999-01-01",
        "start_time": "09:00",
        "end_time": "08:00",
        "place": "大营村",
        "content": "x",
    }
    response = api_post("/me/records", member, future)
    assert response.status_code == 400
    assert response.json()["error"]["message"]
    assert not ServiceRecord.objects.exists()


def test_profile_and_certificates_are_mine(api_get, member):
    assert api_get("/me/profile", member).json()["village"]["code"] == "640422100201"
    assert api_get("/me/profile", UserFactory()).status_code == 404
    assert api_get("/me/certificates", member).json()["count"] == 0


def test_pairings_show_my_elders_without_identity(api_get, member, elder, township_officer):
    from services.pairing.lifecycle import pairing_accept, pairing_propose
    from services.tests.factories_pairing import accept_offers

    VolunteerProfile.objects.filter(user=member).update(max_elders=2)
    pairing = pairing_propose(actor=township_officer, elder=elder, giver_user=member)
    pairing_accept(actor=township_officer, pairing=pairing)
    assert api_get("/me/pairings", member).json()["count"] == 0  # offered: nothing shows until she accepts
    accept_offers([pairing])
    rows = api_get("/me/pairings", member).json()["items"]
    assert [(r["elder_name"], r["village"]["code"]) for r in rows] == [("李奶奶", "640422100201")]
    assert set(rows[0]) == {"id", "elder_name", "village", "organisation", "start_date"}
    assert api_get("/me/pairings", UserFactory()).json()["count"] == 0


@pytest.mark.parametrize("path", ["/me", "/me/records", "/me/certificates", "/me/pairings", "/me/signups"])
def test_private_endpoints_need_a_token(api_get, db, path):
    response = api_get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_signed_in"
