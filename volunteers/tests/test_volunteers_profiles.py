import datetime

import pytest

from django.urls import reverse

from portal.identity import BIRTH_MISMATCH, INVALID_CHECK, SEX_MISMATCH, keyed_hash
from portal.models import AuditEvent, Region
from tests.factories import UserFactory
from volunteers.activities import activity_signup
from volunteers.models import Activity, GiverKind, Membership, VolunteerProfile
from volunteers.profiles import (
    ALREADY_VOLUNTEER,
    DUPLICATE_ID,
    QUALIFICATION_NEEDS_SOCIAL_WORKER,
    profile_create,
    service_items_for,
)
from volunteers.tests.conftest import TOWNSHIP, VILLAGE, make_profile, make_resident_id

# The care-service list belongs to services; volunteers' tests reach its models through volunteers' relations.
ServiceCategory = VolunteerProfile.skills.field.related_model
ServiceItem = Activity.service_item.field.related_model

pytestmark = pytest.mark.django_db

BIRTH = datetime.date(1985, 3, 14)


def _signup_data(**overrides):
    data = {
        "kind": "volunteer",
        "village": VILLAGE,
        "skills": [ServiceCategory.objects.get(name="生活照料").pk],
        "available_days": ["6", "7"],
        "available_times": ["morning"],
        "max_elders": "2",
        "about": "会开车",
    }
    data.update(overrides)
    return data


def test_anonymous_become_a_volunteer_goes_to_account_signup_and_back(client):
    response = client.get(reverse("volunteers:signup"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_signup')}?next=%2Fvolunteers%2Fsignup%2F"


def test_volunteer_signs_up_through_the_form(client, volunteer):
    client.force_login(volunteer)
    page = client.get(reverse("volunteers:signup"))
    assert "报名当志愿者" in page.content.decode()
    response = client.post(reverse("volunteers:signup"), _signup_data())
    assert response.status_code == 302 and response["Location"] == reverse("volunteers:me")
    profile = VolunteerProfile.objects.get(user=volunteer)
    assert profile.village_id == VILLAGE
    assert profile.available_days == ["6", "7"]
    assert [c.name for c in profile.skills.all()] == ["生活照料"]
    assert AuditEvent.objects.filter(object_type="volunteers.volunteerprofile", action="create").exists()
    # a second submission (another tab) goes to the profile instead of creating a second one
    again = client.post(reverse("volunteers:signup"), _signup_data())
    assert again["Location"] == reverse("volunteers:profile")
    assert VolunteerProfile.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("village", TOWNSHIP, "请从列表中选择村（社区）。"),
        ("village", "999999999999", "请从列表中选择村（社区）。"),
        ("max_elders", "11", ""),
        ("max_elders", "-1", ""),
        ("available_days", ["8"], ""),
        ("kind", "boss", ""),
    ],
)
def test_bad_signup_input_changes_nothing(client, volunteer, field, value, message):
    client.force_login(volunteer)
    response = client.post(reverse("volunteers:signup"), _signup_data(**{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field]
    if message:
        assert message in response.content.decode()
    assert not VolunteerProfile.objects.exists()


def test_without_javascript_the_county_comes_back_with_its_townships(client, volunteer):
    client.force_login(volunteer)
    data = _signup_data(village="")
    data["village_county"] = "640422000000"
    body = client.post(reverse("volunteers:signup"), data).content.decode()
    assert "吉强镇" in body  # the township select is now filled
    assert not VolunteerProfile.objects.exists()


def test_identity_is_encrypted_hashed_and_masked(client, giver):
    number = make_resident_id(BIRTH, male=True)
    client.force_login(giver)
    response = client.post(
        reverse("volunteers:profile-identity"), {"sex": "M", "birth_date": "1985-03-14", "resident_id": number.lower()}
    )
    assert response.status_code == 302
    profile = VolunteerProfile.objects.get(user=giver)
    assert profile.resident_id == number and profile.resident_id_hash == keyed_hash(number)
    raw = VolunteerProfile.objects.filter(pk=profile.pk).values_list("resident_id", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT resident_id FROM volunteers_volunteerprofile WHERE id = %s", [profile.pk])
        stored = cursor.fetchone()[0]
    assert number not in stored and list(raw) == [number]
    assert profile.masked_resident_id == f"6404{'*' * 13}{number[-1]}"
    # the owner sees the full number on their own profile…
    assert number in client.get(reverse("volunteers:profile")).content.decode()
    # …and the audit trail never holds it
    assert not any(number in str(e.changes) for e in AuditEvent.objects.all())


@pytest.mark.parametrize(
    ("sex", "birth", "mutate", "message"),
    [
        ("M", "1985-03-14", lambda n: n[:17] + ("0" if n[17] != "0" else "1"), INVALID_CHECK),
        ("M", "1985-03-15", lambda n: n, BIRTH_MISMATCH),
        ("F", "1985-03-14", lambda n: n, SEX_MISMATCH),
        ("M", "1985-03-14", lambda n: n[:10], None),
    ],
)
def test_bad_identity_is_refused_and_nothing_saved(client, giver, sex, birth, mutate, message):
    client.force_login(giver)
    number = mutate(make_resident_id(BIRTH, male=True))
    response = client.post(
        reverse("volunteers:profile-identity"), {"sex": sex, "birth_date": birth, "resident_id": number}
    )
    assert response.status_code == 400
    if message:
        assert str(message) in response.content.decode()
    profile = VolunteerProfile.objects.get(user=giver)
    assert profile.resident_id == "" and profile.resident_id_hash is None and profile.sex == ""


def test_same_id_number_cannot_be_used_twice(client, giver):
    number = make_resident_id(BIRTH, male=True)
    other = UserFactory()
    make_profile(other, resident_id=number, resident_id_hash=keyed_hash(number), sex="M", birth_date=BIRTH)
    client.force_login(giver)
    response = client.post(
        reverse("volunteers:profile-identity"), {"sex": "M", "birth_date": "1985-03-14", "resident_id": number}
    )
    assert str(DUPLICATE_ID) in response.content.decode()
    assert VolunteerProfile.objects.get(user=giver).resident_id_hash is None


def test_profile_create_twice_is_refused():
    from django.core.exceptions import ValidationError

    user = UserFactory()
    village = Region.objects.get(code=VILLAGE)
    profile_create(user=user, kind="volunteer", village=village)
    with pytest.raises(ValidationError) as exc:
        profile_create(user=user, kind="volunteer", village=village)
    assert exc.value.messages == [str(ALREADY_VOLUNTEER)]


def test_professional_profile_unlocks_professional_items(client, volunteer):
    care = ServiceCategory.objects.get(name="精神慰藉")
    counselling = ServiceItem.objects.create(category=care, name="心理疏导", description="x", professional=True)
    chat = ServiceItem.objects.create(category=care, name="聊天陪伴", description="x")
    profile = make_profile(volunteer, kind=GiverKind.SOCIAL_WORKER)
    assert set(service_items_for(profile)) == {chat}
    client.force_login(volunteer)
    response = client.post(
        reverse("volunteers:profile-professional"),
        {"qualification": "social_worker", "certificate_number": "SW2024-001", "employer": "吉强镇社会工作站"},
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.is_professional
    assert set(service_items_for(profile)) == {chat, counselling}
    assert "心理疏导" in client.get(reverse("volunteers:profile")).content.decode()


def test_a_plain_volunteer_cannot_claim_a_qualification(client, giver):
    client.force_login(giver)
    response = client.post(
        reverse("volunteers:profile-professional"), {"qualification": "senior", "certificate_number": "X1"}
    )
    assert str(QUALIFICATION_NEEDS_SOCIAL_WORKER) in response.content.decode()
    assert VolunteerProfile.objects.get(user=giver).qualification == ""


def test_mutual_aid_helper_registers_the_same_way(client, volunteer):
    client.force_login(volunteer)
    client.post(reverse("volunteers:signup"), _signup_data(kind="mutual_aid"))
    assert VolunteerProfile.objects.get(user=volunteer).get_kind_display() == "互助员"


def test_my_page_shows_profile_organisations_activities_hours(client, giver, organisation, activity):
    Membership.objects.create(organisation=organisation, user=giver, status="active")
    activity_signup(user=giver, activity=activity)
    client.force_login(giver)
    body = client.get(reverse("volunteers:me")).content.decode()
    assert "大营村老年协会" in body
    assert activity.title in body
    assert "服务时长" in body


def test_my_page_escapes_about_and_names(client, volunteer):
    volunteer.real_name = "<img src=x onerror=alert(1)>"
    volunteer.save()
    make_profile(volunteer, about="<script>alert(1)</script>")
    client.force_login(volunteer)
    body = client.get(reverse("volunteers:me")).content.decode()
    assert "<img src=x" not in body and "<script>alert(1)" not in body
