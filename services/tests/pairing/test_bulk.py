""" "Accept all" is one bulk operation: a constant number of queries for any number of proposals (one
UPDATE, one INSERT of audit events, one SMS per giver); refusals are per proposal and change nothing."""

import pytest

from django.core.management import call_command
from django.urls import reverse

from portal.models import AuditEvent, Region
from services.models import Pairing
from services.pairing import lifecycle
from services.pairing import rules as pairing_rules
from services.pairing import runs as match_runs
from services.pairing.models import PairingStatus
from services.tests.factories_care import make_key_elder
from services.tests.pairing.test_services import TOWNSHIP, VILLAGE, make_giver, need, proposal, region
from tests.races import race


def make_run(officer, elders: int, givers: int, places: int = 2):
    for _ in range(elders):
        need(make_key_elder())
    for _ in range(givers):
        make_giver(max_elders=places)
    return match_runs.match_run(region=region(TOWNSHIP), user=officer)


def accept_all_queries(client, run, django_assert_max_num_queries, limit=None):
    url = reverse("services:match-proposals", args=[run.pk])
    with django_assert_max_num_queries(limit or 10_000) as ctx:
        response = client.post(url, {"action": "accept_all"})
    assert response.status_code == 302
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_accept_all_queries_do_not_depend_on_the_number_of_proposals(
    client, township_officer, outbox, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client.force_login(township_officer)
    small = make_run(township_officer, elders=2, givers=1)
    assert small.pairings.count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        few = accept_all_queries(client, small, django_assert_max_num_queries)
    assert small.pairings.filter(status=PairingStatus.OFFERED).count() == 2
    assert len(outbox) == 1  # one SMS for the giver of both elders
    outbox.clear()

    big = make_run(township_officer, elders=12, givers=6)
    assert big.pairings.filter(status=PairingStatus.PROPOSED).count() == 12
    with django_capture_on_commit_callbacks(execute=True):
        accept_all_queries(client, big, django_assert_max_num_queries, limit=few)
    assert big.pairings.filter(status=PairingStatus.OFFERED).count() == 12
    assert len(outbox) == 6  # one per giver, not one per pairing
    events = AuditEvent.objects.filter(object_type="services.pairing", action="change")
    assert events.count() == 14 and all(e.actor_id == township_officer.pk for e in events)
    assert all(e.changes == {"status": ["proposed", "offered"]} for e in events)


@pytest.mark.django_db
def test_bulk_accept_refuses_per_proposal_and_replay_changes_nothing(township_officer, liaison, outbox):
    full = make_giver(max_elders=1)
    roomy = make_giver(max_elders=5)
    gone = make_giver()
    moved_elder = make_key_elder()
    proposals = [
        proposal(make_key_elder(), full),
        proposal(make_key_elder(), full),  # over the giver's places
        proposal(make_key_elder(), roomy),
        proposal(moved_elder, roomy),  # the elder left the ledger
        proposal(make_key_elder(), gone),  # the giver's account closed
    ]
    moved_elder.status = "moved"
    moved_elder.save(update_fields=["status"])
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    proposals = list(Pairing.objects.filter(pk__in=[p.pk for p in proposals]).order_by("pk"))
    accepted, refused = lifecycle.pairings_accept(actor=township_officer, pairings=proposals)
    assert [p.pk for p in accepted] == [proposals[0].pk, proposals[2].pk]
    assert [(p.pk, text) for p, text in refused] == [
        (proposals[1].pk, str(pairing_rules.GIVER_FULL)),
        (proposals[3].pk, str(pairing_rules.ELDER_NOT_ACTIVE)),
        (proposals[4].pk, str(pairing_rules.GIVER_INACTIVE)),
    ]
    statuses = dict(Pairing.objects.values_list("pk", "status"))
    assert [statuses[p.pk] for p in proposals] == ["offered", "proposed", "offered", "proposed", "proposed"]
    # replayed: nothing changes, each is refused as no longer proposed
    again, refused = lifecycle.pairings_accept(actor=township_officer, pairings=proposals[:1] + proposals[2:3])
    assert again == [] and {text for _, text in refused} == {str(pairing_rules.NOT_PROPOSED)}
    # a liaison may not accept
    accepted, refused = lifecycle.pairings_accept(actor=liaison, pairings=[proposals[1]])
    assert accepted == [] and refused == [(proposals[1], str(pairing_rules.READ_ONLY))]
    assert Pairing.objects.get(pk=proposals[1].pk).status == "proposed"


@pytest.mark.django_db(transaction=True)
def test_two_officers_accepting_for_one_giver_at_once_do_not_overfill_it():
    """Two officers accept, at the same moment, different proposals of a giver with one place left."""
    if not Region.objects.filter(code=VILLAGE).exists():  # a transactional test empties the tables
        call_command("load_regions", verbosity=0)
    from conftest import _staff

    officers = [_staff("township_officer", TOWNSHIP), _staff("county_officer", "640422000000")]
    giver = make_giver(max_elders=1)
    proposals = [proposal(make_key_elder(), giver), proposal(make_key_elder(), giver)]

    def press(officer, pairing):
        accepted, refused = lifecycle.pairings_accept(actor=officer, pairings=[pairing])
        return "accepted" if accepted else refused[0][1]

    outcomes = race(press, zip(officers, proposals, strict=True))
    assert outcomes == sorted(["accepted", str(pairing_rules.GIVER_FULL)])
    assert Pairing.objects.filter(giver_user=giver, status=PairingStatus.OFFERED).count() == 1
