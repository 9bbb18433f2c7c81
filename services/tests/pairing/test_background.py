"""Matching runs work off the request with progress: queued → running → done/failed; the proposals page
shows a progress bar (meta refresh without JS, a JSON status for the script); a failure is a message,
not a 500; a second run for an overlapping area is refused while one is working."""

import datetime
import time
from types import SimpleNamespace

import pytest

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from portal.models import Region
from services.models import MatchRun
from services.pairing import matching
from services.pairing import rules as pairing_rules
from services.pairing import runs as match_runs
from services.pairing.models import MatchRunStatus, PairingStatus
from services.tests.factories_care import make_key_elder
from services.tests.pairing.test_services import COUNTY, TOWNSHIP, VILLAGE, make_giver, need, region
from tests.races import race

OTHER_TOWNSHIP = "640422101000"  # 兴隆镇


@pytest.fixture
def officer_client(client, township_officer):
    client.force_login(township_officer)
    return client


def running_run(code=TOWNSHIP, **fields) -> MatchRun:
    values = {"status": MatchRunStatus.RUNNING, "progress": 40, "stage": "scoring"}
    return MatchRun.objects.create(region=region(code), **{**values, **fields})


@pytest.mark.django_db
def test_inline_run_goes_straight_to_the_proposals(officer_client):
    need(make_key_elder(name="马秀英"))
    make_giver()
    response = officer_client.post(reverse("services:match-run"), {"region": TOWNSHIP})
    run = MatchRun.objects.get()
    assert (run.status, run.progress, run.stage) == ("done", 100, "done")
    assert response.url == reverse("services:match-proposals", args=[run.pk])
    assert "马秀英" in officer_client.get(response.url).content.decode()


@pytest.mark.django_db
def test_progress_page_refreshes_without_js_and_status_is_json(officer_client, township_officer):
    run = running_run()
    response = officer_client.get(reverse("services:match-proposals", args=[run.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert '<progress max="100" value="40"' in html
    assert str(pairing_rules.RUN_STAGES["scoring"]) in html
    status = officer_client.get(reverse("services:match-status", args=[run.pk]))
    assert status["Content-Type"] == "application/json" and "no-store" in status["Cache-Control"]
    assert status.json() == {
        "status": "running",
        "finished": False,
        "progress": 40,
        "stage": str(pairing_rules.RUN_STAGES["scoring"]),
        "url": reverse("services:match-proposals", args=[run.pk]),
    }
    # accepting while it runs chooses nothing
    response = officer_client.post(reverse("services:match-proposals", args=[run.pk]), {"action": "accept_all"})
    assert response.status_code == 302
    MatchRun.objects.filter(pk=run.pk).update(status="done", progress=100, stage="done")
    html = officer_client.get(reverse("services:match-proposals", args=[run.pk])).content.decode()
    assert 'http-equiv="refresh"' not in html


@pytest.mark.django_db
def test_status_of_another_areas_run_is_404(client, township_officer, liaison):
    run = running_run(code=OTHER_TOWNSHIP)
    client.force_login(township_officer)
    assert client.get(reverse("services:match-status", args=[run.pk])).status_code == 404
    assert client.get(reverse("services:match-proposals", args=[run.pk])).status_code == 404
    client.force_login(liaison)
    assert client.get(reverse("services:match-status", args=[running_run().pk])).status_code == 403


@pytest.mark.django_db
def test_a_failing_run_shows_a_message_not_a_500(officer_client, monkeypatch):
    need(make_key_elder())
    make_giver()
    earlier = match_runs.match_run(region=region(TOWNSHIP), user=None)
    kept = set(earlier.pairings.values_list("pk", flat=True))

    def broken(*args, **kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(matching, "assign", broken)
    response = officer_client.post(reverse("services:match-run"), {"region": TOWNSHIP})
    run = MatchRun.objects.latest("pk")
    assert run.status == MatchRunStatus.FAILED and "solver exploded" in run.message and run.stage == "failed"
    page = officer_client.get(response.url)
    assert page.status_code == 200 and "solver exploded" in page.content.decode()
    # the earlier run's proposals were not replaced by the failed run
    assert set(earlier.pairings.filter(status=PairingStatus.PROPOSED).values_list("pk", flat=True)) == kept
    assert not run.pairings.exists()


@pytest.mark.django_db
def test_overlapping_run_is_refused_while_one_works(officer_client, county_officer, township_officer):
    busy = running_run(code=TOWNSHIP)
    for code in (TOWNSHIP, VILLAGE, COUNTY):  # the same area, inside it, around it
        actor = county_officer if code == COUNTY else township_officer
        with pytest.raises(ValidationError) as exc:
            match_runs.match_start(region=region(code), user=actor)
        assert exc.value.messages == [str(pairing_rules.RUN_BUSY)]
    response = officer_client.post(reverse("services:match-run"), {"region": TOWNSHIP})
    assert response.status_code == 400 and MatchRun.objects.count() == 1
    # another township of the county is not held
    other = match_runs.match_start(region=region(OTHER_TOWNSHIP), user=county_officer)
    assert other.status == "done"
    # a run left running by a dead worker stops holding the area after RUN_STALE_AFTER
    MatchRun.objects.filter(pk=busy.pk).update(
        created_at=timezone.now() - pairing_rules.RUN_STALE_AFTER - datetime.timedelta(1)
    )
    again = match_runs.match_start(region=region(TOWNSHIP), user=township_officer)
    busy.refresh_from_db()
    assert (
        busy.status == MatchRunStatus.FAILED and busy.message == str(pairing_rules.RUN_STALE) and again.status == "done"
    )


@pytest.mark.django_db
def test_replayed_execute_does_nothing(township_officer):
    need(make_key_elder())
    make_giver()
    run = match_runs.match_run(region=region(TOWNSHIP), user=township_officer)
    assert match_runs.match_execute(run.pk).chosen == run.chosen
    assert run.pairings.count() == 1 and MatchRun.objects.count() == 1


@pytest.mark.django_db
def test_command_refuses_while_a_run_works():
    from django.core.management import CommandError

    running_run()
    with pytest.raises(CommandError, match="仍在进行中"):
        call_command("match", "--region", TOWNSHIP)


def _regions_loaded():
    if not Region.objects.filter(code=VILLAGE).exists():  # a transactional test empties the tables
        call_command("load_regions", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_background_run_in_a_thread(client, settings):
    """The real path: the POST queues the run and returns at once; a thread started on commit works it."""
    _regions_loaded()
    from conftest import _staff

    settings.MATCH_RUN_INLINE = False
    officer = _staff("township_officer", TOWNSHIP)
    need(make_key_elder(name="马秀英"))
    make_giver()
    client.force_login(officer)
    response = client.post(reverse("services:match-run"), {"region": TOWNSHIP})
    assert response.status_code == 302
    run = MatchRun.objects.get()
    deadline = time.monotonic() + 60
    while MatchRun.objects.get(pk=run.pk).status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
    run.refresh_from_db()
    assert (run.status, run.progress) == ("done", 100)
    assert run.pairings.filter(status=PairingStatus.PROPOSED).count() == 1
    assert client.get(reverse("services:match-status", args=[run.pk])).json()["finished"] is True
    assert "马秀英" in client.get(response.url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_officers_starting_at_once_get_one_run(monkeypatch):
    """Both press "run" for the same township at the same moment: one run is queued, the other is told."""
    _regions_loaded()
    from conftest import _staff

    officers = [_staff("township_officer", TOWNSHIP), _staff("county_officer", COUNTY)]
    monkeypatch.setattr(match_runs, "run_match", SimpleNamespace(enqueue=lambda pk: None))  # queued: holds the area
    area = region(TOWNSHIP)

    def press(officer):
        match_runs.match_start(region=area, user=officer, background=True)
        return "started"

    outcomes = race(press, officers)
    assert outcomes == ["run_busy", "started"]
    assert MatchRun.objects.filter(status=MatchRunStatus.QUEUED).count() == 1
