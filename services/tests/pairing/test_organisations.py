"""Organisations as givers in matching (一帮多): places offered by their admins, proposals, acceptance,
SMS to the admins, and the admins' view of the elders paired with the organisation."""

import pytest

from django.urls import reverse

from portal.models import AuditEvent
from services.models import Pairing
from services.pairing import lifecycle
from services.pairing import rules as pairing_rules
from services.pairing import runs as match_runs
from services.pairing.models import PairingStatus
from services.tests.factories_care import OTHER_TOWNSHIP_VILLAGE, make_key_elder
from services.tests.pairing.test_services import COUNTY, OTHER_COUNTY_VILLAGE, TOWNSHIP, make_giver, need, region
from tests.factories import UserFactory
from volunteers.models import Membership, Organisation
from volunteers.organisations import kinds_ensure
from volunteers.tests.conftest import make_organisation

pytestmark = pytest.mark.django_db


def offering(*, admin=None, places=2, **kwargs) -> Organisation:
    kinds_ensure()
    organisation = make_organisation(admin=admin or UserFactory(real_name="会长"), **kwargs)
    Organisation.objects.filter(pk=organisation.pk).update(pairing_capacity=places)
    organisation.refresh_from_db()
    return organisation


def test_organisation_offering_places_is_proposed_accepted_and_its_admins_told(
    client, township_officer, outbox, django_capture_on_commit_callbacks
):
    admin, second_admin, member = UserFactory(real_name="会长"), UserFactory(), UserFactory()
    org = offering(admin=admin, places=2)
    Membership.objects.create(organisation=org, user=second_admin, status="active", is_admin=True)
    Membership.objects.create(organisation=org, user=member, status="active")
    elders = [make_key_elder(name=f"老人{i}") for i in range(3)]
    for e in elders:
        need(e, "jingshen-weijie")  # 老年协会 offers 精神慰藉 by its kind

    run = match_runs.match_run(region=region(TOWNSHIP), user=township_officer)
    assert run.status == "done" and run.inputs["organisations"] == 1
    proposals = list(run.pairings.all())
    assert len(proposals) == 2  # its two places
    assert {p.giver_organisation_id for p in proposals} == {org.pk} and not any(p.giver_user_id for p in proposals)
    assert all("covers:jingshen-weijie" in p.reasons and "priority:key" in p.reasons for p in proposals)

    client.force_login(township_officer)
    url = reverse("services:match-proposals", args=[run.pk])
    assert org.name in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "accept_all"})
    assert Pairing.objects.filter(giver_organisation=org, status=PairingStatus.ACTIVE).count() == 2
    # one SMS per admin for the batch, none to a plain member, no elder name in it
    assert sorted(phone for phone, _ in outbox) == sorted([admin.phone, second_admin.phone])
    assert not any(e.name in text for _, text in outbox for e in elders)

    # the admins see the organisation's elders (limited details); a plain member does not
    paired = {p.elder.name for p in proposals}
    client.force_login(second_admin)
    html = client.get(reverse("services:pairing-mine")).content.decode()
    assert all(name in html for name in paired)
    html = client.get(reverse("services:pairing-organisation", args=[org.pk])).content.decode()
    assert all(name in html for name in paired) and "身份证" not in html
    client.force_login(member)
    assert not any(name in client.get(reverse("services:pairing-mine")).content.decode() for name in paired)

    # full: the next run proposes nobody to it, and accepting beyond its places is refused
    rerun = match_runs.match_run(region=region(TOWNSHIP), user=township_officer)
    assert not rerun.pairings.filter(giver_organisation=org).exists()


def test_accepting_beyond_an_organisations_places_is_refused(township_officer):
    org = offering(places=1)
    first, second = make_key_elder(), make_key_elder()
    a = lifecycle.pairing_propose(actor=township_officer, elder=first, giver_organisation=org)
    b = lifecycle.pairing_propose(actor=township_officer, elder=second, giver_organisation=org)
    accepted, refused = lifecycle.pairings_accept(actor=township_officer, pairings=[a, b])
    assert accepted == [a] and refused == [(b, str(pairing_rules.GIVER_FULL))]
    # an organisation that offers no places to the matching can still be paired by hand, without a limit
    Organisation.objects.filter(pk=org.pk).update(pairing_capacity=0)
    accepted, refused = lifecycle.pairings_accept(actor=township_officer, pairings=[b])
    assert accepted == [b] and refused == []


@pytest.mark.parametrize(
    "change",
    [
        {"pairing_capacity": 0},  # not offered
        {"status": "pending"},
        {"status": "suspended", "status_reason": "整改"},
        {"region_id": OTHER_COUNTY_VILLAGE},  # outside the county
    ],
)
def test_organisations_that_are_not_givers(county_officer, change):
    org = offering(places=3)
    Organisation.objects.filter(pk=org.pk).update(**change)
    need(make_key_elder(), "jingshen-weijie")
    run = match_runs.match_run(region=region(COUNTY), user=county_officer)
    assert run.inputs["organisations"] == 0 and run.chosen == []


def test_organisation_of_another_township_is_a_county_candidate_and_members_add_skills(county_officer):
    """A township-wide 互助幸福院 elsewhere in the county; a member's own skill (康复护理) counts for it."""
    admin = UserFactory()
    org = offering(admin=admin, places=1, code=OTHER_TOWNSHIP_VILLAGE)
    helper = make_giver(village=OTHER_TOWNSHIP_VILLAGE, skills=("kangfu-huli",), max_elders=0)
    Membership.objects.create(organisation=org, user=helper, status="active")
    elder = make_key_elder()
    need(elder, "kangfu-huli")
    run = match_runs.match_run(region=region(COUNTY), user=county_officer)
    assert [r["giver"] for r in run.chosen] == [f"o{org.pk}"]
    assert "same_county" in run.chosen[0]["reasons"] and "covers:kangfu-huli" in run.chosen[0]["reasons"]


def test_admin_sets_the_places_and_bad_input_changes_nothing(client):
    admin, member, stranger = UserFactory(), UserFactory(), UserFactory()
    org = offering(admin=admin, places=0)
    Membership.objects.create(organisation=org, user=member, status="active")
    url = reverse("services:pairing-organisation", args=[org.pk])
    client.force_login(admin)
    page = client.get(url)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    for bad in ("-1", "abc", "", "501", "2.5", "<script>alert(1)</script>"):
        response = client.post(url, {"pairing_capacity": bad})
        assert response.status_code == 400, bad
        assert "<script>alert(1)" not in response.content.decode()
    org.refresh_from_db()
    assert org.pairing_capacity == 0
    response = client.post(url, {"pairing_capacity": "5"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.pairing_capacity == 5
    event = AuditEvent.objects.get(object_type="volunteers.organisation", object_id=str(org.pk), action="change")
    assert event.changes == {"pairing_capacity": [0, 5]}
    # the organisation page links to it for its admins
    assert url in client.get(org.get_absolute_url()).content.decode()
    client.force_login(member)
    assert client.post(url, {"pairing_capacity": "9"}).status_code == 403
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert client.post(url, {"pairing_capacity": "9"}).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    org.refresh_from_db()
    assert org.pairing_capacity == 5
