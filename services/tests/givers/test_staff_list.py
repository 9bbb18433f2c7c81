"""The staff's list of givers (volunteers:volunteer-list / volunteer-detail): scope per role, filters, sorting,
exports with masked ID numbers, audit, no-store, and a constant number of queries."""

import csv
import datetime
import io

import openpyxl
import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import OTHER_TOWNSHIP, VILLAGE, _staff
from portal.models import AuditAction, AuditEvent, Region
from services.models import Pairing, RecordKind, RecordStatus, ServiceCategory, ServiceItem, ServiceRecord
from services.pairing.models import PairingStatus
from services.tests.factories_ledger import ElderFactory
from tests.factories import UserFactory
from volunteers.models import GiverKind, Membership, MembershipStatus
from volunteers.tests.conftest import make_organisation, make_profile, make_resident_id, other_county_village

LIST = reverse("volunteers:volunteer-list")


def other_township_village():
    return Region.objects.filter(level="village", parent_id=OTHER_TOWNSHIP).order_by("code").first()


def detail(profile) -> str:
    return reverse("volunteers:volunteer-detail", args=[profile.pk])


def page_queries(captured) -> int:
    """Queries the page itself runs: the test's own transaction adds a SAVEPOINT pair per atomic request."""
    return sum(1 for q in captured if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT")))


@pytest.fixture
def people(db):
    """Givers in 大营村 (吉强镇), in a village of 兴隆镇 and in another county."""
    home = make_profile(
        UserFactory(real_name="本村志愿者", phone="13955550001"),
        kind=GiverKind.VOLUNTEER,
        max_elders=2,
        available_days=["6", "7"],
        sex="F",
        birth_date=datetime.date(1980, 5, 6),
        resident_id=make_resident_id(datetime.date(1980, 5, 6), male=False),
        resident_id_hash="h-home",
    )
    home.skills.set([ServiceCategory.objects.order_by("pk").first()])
    social = make_profile(
        UserFactory(real_name="本村社工", phone="13955550002"), kind=GiverKind.SOCIAL_WORKER, max_elders=1
    )
    township = make_profile(
        UserFactory(real_name="兴隆镇互助员", phone="13955550003"),
        kind=GiverKind.MUTUAL_AID,
        village=other_township_village(),
    )
    far = make_profile(UserFactory(real_name="银川志愿者", phone="13955550004"), village=other_county_village())
    return {"home": home, "social": social, "township": township, "far": far}


def names(response) -> set[str]:
    return {row.record.user.real_name for row in response.context["table"].paginated_rows}


# --- who sees what ---------------------------------------------------------------------------------


def test_each_role_sees_the_givers_of_its_area(
    client, mfa_client, people, liaison, township_officer, county_officer, supervisor
):
    client.force_login(liaison)
    assert names(client.get(LIST)) == {"本村志愿者", "本村社工"}
    client.force_login(township_officer)
    assert names(client.get(LIST)) == {"本村志愿者", "本村社工"}
    client.force_login(supervisor)
    assert names(client.get(LIST)) == {"本村志愿者", "本村社工", "兴隆镇互助员"}
    officer = mfa_client(county_officer)
    response = officer.get(LIST)
    assert names(response) == {"本村志愿者", "本村社工", "兴隆镇互助员"}
    assert "no-store" in response["Cache-Control"]
    assert f'href="{detail(people["township"])}"' in response.content.decode()
    assert officer.get(detail(people["township"])).status_code == 200
    assert officer.get(detail(people["far"])).status_code == 404


def test_people_without_a_listing_role_are_refused(client, people, volunteer, region_admin):
    response = client.get(LIST)
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    response = client.get(detail(people["home"]))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    client.force_login(volunteer)
    assert client.get(LIST).status_code == 403
    assert client.get(detail(people["home"])).status_code == 403
    make_profile(volunteer)  # being a giver oneself gives no view of the others
    assert client.get(LIST).status_code == 403


def test_liaison_of_another_village_and_officer_of_another_township_get_404(client, people):
    other_liaison = _staff("village_liaison", other_township_village().code)
    client.force_login(other_liaison)
    assert names(client.get(LIST)) == {"兴隆镇互助员"}
    assert client.get(detail(people["home"])).status_code == 404
    assert client.get(detail(people["township"])).status_code == 200
    other_officer = _staff("township_officer", OTHER_TOWNSHIP)
    client.force_login(other_officer)
    assert names(client.get(LIST)) == {"兴隆镇互助员"}
    assert client.get(detail(people["home"])).status_code == 404
    assert client.get(reverse("volunteers:volunteer-detail", args=[999999])).status_code == 404


# --- filters, sorting ------------------------------------------------------------------------------


def test_filters_narrow_the_list(client, people, supervisor):
    client.force_login(supervisor)
    assert names(client.get(LIST, {"kind": "social_worker"})) == {"本村社工"}
    skill = people["home"].skills.get()
    assert names(client.get(LIST, {"skill": skill.pk})) == {"本村志愿者"}
    assert names(client.get(LIST, {"region": OTHER_TOWNSHIP})) == {"兴隆镇互助员"}
    assert names(client.get(LIST, {"region": VILLAGE})) == {"本村志愿者", "本村社工"}
    assert names(client.get(LIST, {"q": "社工"})) == {"本村社工"}
    sealed = client.post(LIST, {"q": "13955550003"})
    assert sealed.status_code == 302 and "13955550003" not in sealed["Location"]
    assert names(client.get(sealed["Location"])) == {"兴隆镇互助员"}
    team = make_organisation(admin=people["social"].user, name="吉强镇志愿服务队", code="640422100000")
    Membership.objects.create(organisation=team, user=people["home"].user, status=MembershipStatus.PENDING)
    assert names(client.get(LIST, {"organisation": team.pk})) == {"本村社工"}  # pending members do not count


def test_spare_capacity_and_hours_filters_and_sorting(client, people, supervisor):
    home, social = people["home"], people["social"]
    elder = ElderFactory()
    Pairing.objects.create(elder=elder, giver_user=social.user, status=PairingStatus.ACTIVE)
    Pairing.objects.create(
        elder=ElderFactory(), giver_user=home.user, status=PairingStatus.ENDED, end_reason="elder_moved"
    )
    item = ServiceItem.objects.create(category=ServiceCategory.objects.first(), name="陪伴", description="聊天")
    start = timezone.now() - datetime.timedelta(days=3)
    for minutes, status in [(90, RecordStatus.CONFIRMED), (60, RecordStatus.SUBMITTED)]:
        ServiceRecord.objects.create(
            giver=home.user,
            elder=elder,
            region_id=VILLAGE,
            service_item=item,
            kind=RecordKind.VOLUNTEER,
            start=start,
            end=start + datetime.timedelta(minutes=minutes),
            place="老人家中",
            content="陪伴聊天",
            status=status,
            recorded_by=home.user,
        )
        start += datetime.timedelta(hours=3)
    client.force_login(supervisor)
    assert names(client.get(LIST, {"spare": "no"})) == {"本村社工"}  # 1 of 1 paired
    assert names(client.get(LIST, {"spare": "yes"})) == {"本村志愿者", "兴隆镇互助员"}  # ended pairings free a place
    assert names(client.get(LIST, {"hours_min": "1.5"})) == {"本村志愿者"}  # only confirmed minutes count
    assert names(client.get(LIST, {"hours_min": "1.6"})) == set()
    assert names(client.get(LIST, {"hours_max": "1"})) == {"本村社工", "兴隆镇互助员"}
    response = client.get(LIST, {"sort": "-volunteer_minutes"})
    rows = list(response.context["table"].paginated_rows)
    assert rows[0].record.user.real_name == "本村志愿者" and rows[0].record.hours_text == "1.5"
    rows = list(client.get(LIST, {"sort": "spare"}).context["table"].paginated_rows)
    assert rows[0].record.user.real_name == "本村社工"


@pytest.mark.parametrize(
    "query",
    [
        {"hours_min": "abc"},
        {"hours_max": "-3"},
        {"kind": "boss"},
        {"skill": "not-a-number"},
        {"region": "640104000000"},  # out of the supervisor's scope
        {"spare": "maybe"},
    ],
)
def test_bad_filters_are_refused_with_a_message_and_list_nothing(client, people, supervisor, query):
    client.force_login(supervisor)
    response = client.get(LIST, query)
    assert response.status_code == 200
    assert response.context["filter"].errors
    assert names(response) == set()
    assert 'class="error"' in response.content.decode()


def test_an_organisation_outside_the_area_cannot_be_picked(client, people, liaison):
    far_org = make_organisation(admin=UserFactory(), name="银川协会", code=other_county_village().code)
    township_team = make_organisation(admin=UserFactory(), name="吉强镇服务队", code="640422100000")
    client.force_login(liaison)
    response = client.get(LIST, {"organisation": far_org.pk})
    assert response.context["filter"].errors and names(response) == set()
    choices = {str(label) for _value, label in response.context["filter"].form.fields["organisation"].choices}
    assert "吉强镇服务队" in choices and "银川协会" not in choices
    assert not client.get(LIST, {"organisation": township_team.pk}).context["filter"].errors


# --- export, audit, detail -------------------------------------------------------------------------


def test_export_masks_the_id_number_shows_the_phone_and_is_audited(client, people, township_officer):
    client.force_login(township_officer)
    full_id = people["home"].resident_id
    response = client.get(LIST, {"_export": "xlsx"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "13955550001" in cells and "银川志愿者" not in cells
    assert full_id not in "".join(cells) and people["home"].masked_resident_id in cells
    response = client.get(LIST, {"_export": "csv", "kind": "volunteer"})
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2 and rows[1][0] == "本村志愿者" and full_id not in text
    exports = AuditEvent.objects.filter(action=AuditAction.EXPORT, actor=township_officer)
    assert exports.count() == 2 and "kind=volunteer" in exports.order_by("pk").last().changes["query"]


def test_viewing_the_list_and_a_giver_is_audited(client, people, liaison):
    client.force_login(liaison)
    client.get(LIST, {"kind": "volunteer"})
    response = client.get(detail(people["home"]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, actor=liaison)
    assert views.filter(object_type="volunteers.volunteerprofile", object_id="").exists()
    assert views.filter(object_id=str(people["home"].pk)).exists()


def test_detail_shows_profile_organisations_pairings_in_scope_and_hours(client, people, liaison):
    home = people["home"]
    team = make_organisation(admin=home.user, name="大营村志愿服务队")
    near = ElderFactory(name="本村老人")
    far = ElderFactory(name="外县老人", village=other_county_village())
    Pairing.objects.create(elder=near, giver_user=home.user, status=PairingStatus.ACTIVE)
    Pairing.objects.create(elder=far, giver_user=home.user, status=PairingStatus.PROPOSED)
    client.force_login(liaison)
    body = client.get(detail(home)).content.decode()
    assert team.name in body and "本村老人" in body
    assert "外县老人" not in body  # an elder outside the liaison's area stays unnamed
    assert home.masked_resident_id in body and home.resident_id not in body
    assert "13955550001" in body
    assert client.get(detail(home)).context["pairings_elsewhere"] == 1


def test_names_and_about_are_escaped(client, liaison):
    profile = make_profile(UserFactory(real_name="<script>alert(1)</script>"), about="<img src=x onerror=alert(2)>")
    client.force_login(liaison)
    for url in (LIST, detail(profile)):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body
        assert "<img src=x" not in body


def test_workbench_links_to_the_list(client, liaison):
    client.force_login(liaison)
    assert LIST in client.get(reverse("portal:workbench")).content.decode()


# --- constant queries ------------------------------------------------------------------------------


def _add_givers(count: int, *, skills) -> None:
    for _i in range(count):
        profile = make_profile(UserFactory())
        profile.skills.set(skills)


@pytest.mark.parametrize("extra", [3, 60])
def test_list_query_count_is_constant(client, people, township_officer, extra):
    _add_givers(extra, skills=list(ServiceCategory.objects.all()[:2]))
    client.force_login(township_officer)
    client.get(LIST)  # region choices are cached after the first request
    with CaptureQueriesContext(connection) as captured:
        response = client.get(LIST, {"kind": "volunteer", "spare": "yes", "sort": "-volunteer_minutes"})
    assert response.context["table"].paginator.count == extra + 1
    # session, user, roles, audit, count, rows, skills, skill and organisation choices
    assert page_queries(captured) <= 9, [q["sql"][:80] for q in captured]


@pytest.mark.parametrize("extra", [3, 60])
def test_detail_query_count_is_constant(client, people, liaison, extra):
    home = people["home"]
    for _i in range(extra):
        organisation = make_organisation(admin=UserFactory(), name=f"队{_i}")
        Membership.objects.create(organisation=organisation, user=home.user, status=MembershipStatus.ACTIVE)
    client.force_login(liaison)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(detail(home)).status_code == 200
    assert page_queries(captured) <= 15, [q["sql"][:80] for q in captured]
