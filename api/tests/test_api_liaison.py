"""Staff endpoints: a liaison sees only their village's elders, masked; visits; alerts. One test per role
that must not see."""

import pytest

from portal.models import AuditEvent
from portal.scoping import NO_ROLE
from services.care import alerts as care_alerts
from services.care.models import Alert, AlertStatus, Visit
from services.tests.factories_care import make_elder, staff

from .conftest import bearer

VILLAGE = "640422100201"  # 大营村委会 (吉强镇)
OTHER_VILLAGE = "640422101201"  # a village of 兴隆镇
TOWNSHIP = "640422100000"


@pytest.fixture
def elders(db):
    from portal.models import Region

    other = Region.objects.filter(level="village", code__startswith="640422101").first()
    return make_elder(name="本村老人", phone="13812345678"), make_elder(name="外村老人", village=other.code)


def test_liaison_sees_own_village_masked(api_get, liaison, elders):
    mine, theirs = elders
    response = api_get("/elders/", liaison)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    row = body["items"][0]
    assert row["name"] == "本村老人"
    assert row["id_number"] != mine.id_number and "*" in row["id_number"]
    assert row["phone"] == "138****5678"
    assert "no-store" in response["Cache-Control"]


def test_elder_list_query_count_does_not_grow(client, liaison, django_assert_max_num_queries):
    """Savepoints, token check, last-used stamp, roles, count and the page: the same for 12 rows as for 1."""
    headers = bearer(liaison)
    make_elder(name="老人")
    with django_assert_max_num_queries(7):
        assert client.get("/api/v1/elders/", {"page_size": 50}, **headers).json()["count"] == 1
    for n in range(12):
        make_elder(name=f"老人{n}")
    with django_assert_max_num_queries(7):
        assert client.get("/api/v1/elders/", {"page_size": 50}, **headers).json()["count"] == 13


def test_liaison_gets_404_for_another_villages_elder(api_get, liaison, elders):
    _mine, theirs = elders
    response = api_get(f"/elders/{theirs.pk}", liaison)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_elder_detail_is_masked_and_audited(api_get, liaison, elders):
    mine, _ = elders
    response = api_get(f"/elders/{mine.pk}", liaison)
    assert response.status_code == 200
    assert response.json()["phone"] == "138****5678"
    assert AuditEvent.objects.filter(actor=liaison, action="view", object_id=str(mine.pk)).exists()


def test_township_officer_sees_the_township(api_get, db, elders):
    officer = staff("township_officer", "640422101000")
    names = [row["name"] for row in api_get("/elders/", officer).json()["items"]]
    assert names == ["外村老人"]


@pytest.mark.parametrize("path", ["/elders/", "/visits/due", "/alerts/"])
def test_a_volunteer_without_role_is_refused(api_get, volunteer, elders, path):
    response = api_get(path, volunteer)
    assert response.status_code == 403
    assert response.json()["error"] == {"code": "forbidden", "message": str(NO_ROLE), "fields": {}}


@pytest.mark.parametrize("path", ["/elders/", "/visits/due", "/alerts/"])
def test_anonymous_is_refused(api_get, db, path):
    assert api_get(path).status_code == 401


def test_visits_due_are_scoped(api_get, liaison, elders):
    names = [row["elder"]["name"] for row in api_get("/visits/due", liaison, when="all").json()["items"]]
    assert names == ["本村老人"]


def test_due_and_alert_lists_query_counts_do_not_grow(client, liaison, elders, django_assert_max_num_queries):
    headers = bearer(liaison)
    mine, _ = elders
    _alert(mine)
    # warm up: the last-used stamp (once a minute) and the cached visit plans are not per row
    client.get("/api/v1/visits/due", **headers)
    counts = []
    for _round in range(2):
        with django_assert_max_num_queries(8) as due:
            assert client.get("/api/v1/visits/due", {"when": "all"}, **headers).status_code == 200
        with django_assert_max_num_queries(8) as alerts:
            assert client.get("/api/v1/alerts/", **headers).status_code == 200
        counts.append((len(due), len(alerts)))
        for n in range(6):
            _alert(make_elder(name=f"老人{n}"))
    assert counts[0] == counts[1]


def test_visit_create_and_refusals(api_post, liaison, elders):
    mine, theirs = elders
    response = api_post("/visits/", liaison, {"elder": mine.pk, "method": "phone", "notes": "电话问候"})
    assert response.status_code == 201
    assert Visit.objects.filter(elder=mine, visitor=liaison).count() == 1

    assert api_post("/visits/", liaison, {"elder": theirs.pk}).status_code == 404
    future = api_post("/visits/", liaison, {"elder": mine.pk, "visited_at": "2999-01-01T09:00:00+08:00"})
    assert future.status_code == 400
    assert "visited_at" in future.json()["error"]["fields"]
    bad = api_post("/visits/", liaison, {"elder": mine.pk, "method": "telepathy"})
    assert bad.status_code == 400 and "method" in bad.json()["error"]["fields"]
    assert Visit.objects.count() == 1


def _alert(elder):
    from services.care.alerts import alert_raise

    alert, _ = alert_raise(
        elder=elder,
        village=elder.village,
        kind="critical_illness",
        description="突发疾病",
        source="public",
        reporter_phone="13700001234",
    )
    return alert


def test_alerts_listed_in_scope_and_acknowledged(api_get, api_post, liaison, elders):
    mine, theirs = elders
    ours, other = _alert(mine), _alert(theirs)
    rows = api_get("/alerts/", liaison).json()["items"]
    assert [r["reference"] for r in rows] == [ours.reference]
    assert rows[0]["reporter_phone"] == "137****1234"

    response = api_post(f"/alerts/{ours.pk}/acknowledge", liaison, {"note": "已电话联系"})
    assert response.status_code == 200
    assert response.json()["status"] == AlertStatus.ACKNOWLEDGED
    assert api_post(f"/alerts/{other.pk}/acknowledge", liaison, {}).status_code == 404
    assert Alert.objects.get(pk=other.pk).status == AlertStatus.REPORTED


def test_read_only_supervisor_cannot_acknowledge(api_post, db, elders):
    mine, _ = elders
    alert = _alert(mine)
    supervisor = staff("supervisor", "640422000000")
    response = api_post(f"/alerts/{alert.pk}/acknowledge", supervisor, {})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == str(care_alerts.READ_ONLY)
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.REPORTED


def _proposal(elder, officer):
    from services.pairing.lifecycle import pairing_propose
    from tests.factories import UserFactory
    from volunteers.tests.conftest import make_profile

    giver = UserFactory(real_name="志愿者小马")
    make_profile(giver, max_elders=2)
    return pairing_propose(actor=officer, elder=elder, giver_user=giver)


def test_township_officer_accepts_and_declines_proposals(api_get, api_post, township_officer, elders):
    from services.pairing.models import Pairing, PairingStatus

    mine, _ = elders
    first = _proposal(mine, township_officer)
    rows = api_get("/pairings/proposals", township_officer).json()["items"]
    assert [(r["id"], r["giver_name"]) for r in rows] == [(first.pk, "志愿者小马")]
    assert "*" in rows[0]["elder"]["id_number"]
    response = api_post(f"/pairings/{first.pk}/accept", township_officer)
    assert response.status_code == 200 and response.json()["status"] == PairingStatus.OFFERED  # the volunteer answers
    again = api_post(f"/pairings/{first.pk}/accept", township_officer)
    assert again.status_code == 400

    second = _proposal(make_elder(name="另一位老人"), township_officer)
    response = api_post(f"/pairings/{second.pk}/decline", township_officer, {"note": "路远"})
    assert response.status_code == 200
    assert Pairing.objects.get(pk=second.pk).status == PairingStatus.DECLINED


def test_liaison_and_other_township_cannot_decide_proposals(api_get, api_post, township_officer, liaison, elders):
    from services.pairing.models import Pairing, PairingStatus

    mine, _ = elders
    pairing = _proposal(mine, township_officer)
    refused = api_post(f"/pairings/{pairing.pk}/accept", liaison)
    assert refused.status_code == 400
    other_officer = staff("township_officer", "640422101000")
    assert api_get("/pairings/proposals", other_officer).json()["count"] == 0
    assert api_post(f"/pairings/{pairing.pk}/accept", other_officer).status_code == 404
    assert Pairing.objects.get(pk=pairing.pk).status == PairingStatus.PROPOSED
