"""Matching runs and spreadsheet imports on the durable queue: the request only enqueues, a worker does the
work, and a job whose worker was killed mid-way is picked up again and finishes without double effects."""

import datetime

import pytest

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from portal.tasks import requeue_stale_tasks
from services.ledger.models import Elder, ImportJob, ImportStatus
from services.pairing.models import MatchRun, MatchRunStatus, PairingStatus
from services.tests.factories_care import make_key_elder
from services.tests.ledger.test_import import _row, _upload, xlsx_bytes
from services.tests.pairing.test_services import TOWNSHIP, make_giver, need
from tests.test_queue import DB_TASKS, _worker_keeps_the_test_connection, work_the_queue  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db


def kill_the_worker_of(task_path: str, minutes: int = 30):
    """What a killed worker leaves: its task RUNNING since long ago (and whatever it had claimed)."""
    from django_tasks_db.models import DBTaskResult

    started = timezone.now() - datetime.timedelta(minutes=minutes)
    DBTaskResult.objects.filter(task_path=task_path).update(status="RUNNING", started_at=started)


@override_settings(TASKS=DB_TASKS, MATCH_RUN_INLINE=False)
def test_a_matching_run_is_queued_then_worked_and_survives_its_worker(mfa_client, township_officer):
    need(make_key_elder(name="马秀英"))
    make_giver()
    client = mfa_client(township_officer)
    response = client.post(reverse("services:match-run"), {"region": TOWNSHIP})
    assert response.status_code == 302
    run = MatchRun.objects.get()
    assert run.status == MatchRunStatus.QUEUED  # the request only enqueued it
    # the worker claims the run and dies before writing anything
    MatchRun.objects.filter(pk=run.pk).update(
        status=MatchRunStatus.RUNNING, created_at=timezone.now() - datetime.timedelta(minutes=30)
    )
    kill_the_worker_of("services.pairing.runs.run_match")
    assert requeue_stale_tasks.call() == 1
    work_the_queue()
    run.refresh_from_db()
    assert (run.status, run.progress) == (MatchRunStatus.DONE, 100)
    assert run.pairings.filter(status=PairingStatus.PROPOSED).count() == 1  # one set of proposals, not two
    assert "马秀英" in client.get(response.url).content.decode()


@override_settings(TASKS=DB_TASKS, LEDGER_IMPORT_INLINE_ROWS=2)
def test_a_large_import_is_worked_by_the_queue_and_a_killed_apply_finishes_once(client, liaison):
    client.force_login(liaison)
    _upload(client, xlsx_bytes([_row(i) for i in range(1, 6)]))
    job = ImportJob.objects.get()
    assert job.status not in (ImportStatus.READY, ImportStatus.DONE)  # waiting for a worker
    work_the_queue()
    job.refresh_from_db()
    assert job.status == ImportStatus.READY
    client.post(reverse("services:elder-import-confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and not Elder.objects.exists()
    kill_the_worker_of("services.ledger.imports.run_import")  # killed before it wrote anything
    assert requeue_stale_tasks.call() == 2  # the apply, and the validation done long ago (it does nothing)
    work_the_queue()
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE and Elder.objects.count() == 5
    kill_the_worker_of("services.ledger.imports.run_import")  # killed after it finished: run again
    requeue_stale_tasks.call()
    work_the_queue()
    assert Elder.objects.count() == 5
