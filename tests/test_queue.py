"""Background work (portal.tasks, portal.schedule) and the SMS outbox (portal.sms)."""

import datetime
import io

import pytest

from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from conftest import OTHER_COUNTY, VILLAGE
from portal import sms
from portal.models import Region, SmsMessage, SmsStatus
from portal.schedule import SCHEDULE, enqueue_entry
from portal.sms import OutboxSender, SmsError, SmsTemporaryError, deliver, send_sms

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture(autouse=True)
def _worker_keeps_the_test_connection(monkeypatch):
    """db_worker and the scheduler close "old" connections between tasks; inside a test's transaction (autocommit off) Django
    takes the test's own connection for one and closes it (PostgreSQL). Outside tests it must stay."""
    from django_tasks_db.management.commands import db_worker

    from portal.management.commands import run_scheduler

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    monkeypatch.setattr(run_scheduler, "close_old_connections", lambda: None)


def work_the_queue():
    """What a worker process does: run every ready task, then stop."""
    call_command("db_worker", batch=True, interval=0, no_startup_delay=True, stdout=io.StringIO())


class FlakySender:
    """Fails `fail` times with `error`, then sends."""

    calls: list[str] = []
    fail = 0
    error: Exception = SmsTemporaryError("timeout")

    def send(self, phone, message):
        FlakySender.calls.append(phone)
        if FlakySender.fail > 0:
            FlakySender.fail -= 1
            raise FlakySender.error
        return "accepted"


@pytest.fixture
def flaky(settings):
    sms._sender.cache_clear()
    settings.SMS_SENDER = "tests.test_queue.FlakySender"
    FlakySender.calls = []
    FlakySender.fail = 0
    yield FlakySender
    sms._sender.cache_clear()


def test_send_sms_records_the_message_encrypted_and_delivers_it(outbox):
    row = send_sms("13812345678", "您好")
    assert outbox == [("13812345678", "【留守老人关爱】您好")]
    row.refresh_from_db()
    assert (row.status, row.attempts, row.phone_masked) == (SmsStatus.SENT, 1, "138****5678")
    assert row.sent_at is not None and row.next_attempt_at is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, body FROM portal_smsmessage WHERE id = %s", [row.pk])
        stored_phone, stored_body = cursor.fetchone()
    assert "13812345678" not in stored_phone and "您好" not in stored_body


def test_a_message_is_sent_once_even_when_its_task_runs_twice(outbox):
    row = send_sms("13812345678", "一次")
    assert deliver(row.pk) == "skipped"
    assert len(outbox) == 1


def test_temporary_failures_are_retried_with_exponential_backoff(flaky, settings):
    settings.SMS_RETRY_BASE_SECONDS = 30
    flaky.fail = 2
    start = timezone.now()
    row = send_sms("13812345678", "重试")
    row.refresh_from_db()
    assert (row.status, row.attempts) == (SmsStatus.QUEUED, 1)
    assert datetime.timedelta(seconds=29) < row.next_attempt_at - start < datetime.timedelta(seconds=40)
    assert "timeout" in row.provider_answer
    assert deliver(row.pk) == "skipped"  # not due yet
    SmsMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    before = timezone.now()
    assert deliver(row.pk) == "retry"
    row.refresh_from_db()
    assert datetime.timedelta(seconds=59) < row.next_attempt_at - before < datetime.timedelta(seconds=70)  # doubled
    SmsMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert deliver(row.pk) == "sent"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.provider_answer) == (SmsStatus.SENT, 3, "accepted")
    assert len(flaky.calls) == 3


def test_retry_due_picks_up_messages_whose_time_has_come(flaky):
    flaky.fail = 1
    row = send_sms("13812345678", "稍后")
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    SmsMessage.objects.filter(pk=row.pk).update(next_attempt_at=long_ago, created_at=long_ago)
    assert sms.retry_due() == 1
    row.refresh_from_db()
    assert row.status == SmsStatus.SENT


def test_gives_up_after_the_last_attempt_and_on_permanent_errors(flaky, settings):
    settings.SMS_MAX_ATTEMPTS = 1
    flaky.fail = 5
    row = send_sms("13812345678", "放弃")
    row.refresh_from_db()
    assert (row.status, row.attempts) == (SmsStatus.FAILED, 1)
    flaky.error = SmsError("isv.MOBILE_NUMBER_ILLEGAL")
    settings.SMS_MAX_ATTEMPTS = 5
    row = send_sms("13812345678", "错号")
    row.refresh_from_db()
    assert (row.status, row.provider_answer) == (SmsStatus.FAILED, "SmsError: isv.MOBILE_NUMBER_ILLEGAL")
    flaky.error = SmsTemporaryError("timeout")


def test_a_message_stuck_in_sending_is_failed_not_sent_twice(flaky):
    row = send_sms("13812345678", "中断")
    SmsMessage.objects.filter(pk=row.pk).update(
        status=SmsStatus.SENDING, claimed_at=timezone.now() - datetime.timedelta(hours=1), sent_at=None
    )
    sms.retry_due()
    row.refresh_from_db()
    assert row.status == SmsStatus.FAILED
    assert len(flaky.calls) == 1


def test_daily_cap_per_phone(outbox, settings):
    settings.SMS_DAILY_CAP_PER_PHONE = 2
    rows = [send_sms("13812345678", f"第{n}条") for n in range(3)]
    send_sms("13900000009", "别人")
    assert [phone for phone, _ in outbox] == ["13812345678", "13812345678", "13900000009"]
    rows[2].refresh_from_db()
    assert rows[2].status == SmsStatus.FAILED and "cap" in rows[2].provider_answer


@override_settings(SMS_ENQUEUE_AT_ONCE=False)
def test_without_a_database_queue_the_task_is_enqueued_after_commit(outbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        send_sms("13812345678", "提交后")
        assert outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert outbox == [("13812345678", "【留守老人关爱】提交后")]


@override_settings(SMS_ENQUEUE_AT_ONCE=False, TASKS=DB_TASKS)
def test_with_the_database_queue_the_task_row_commits_with_the_message_and_a_worker_sends_it(outbox):
    from django_tasks_db.models import DBTaskResult

    row = send_sms("13812345678", "排队")
    assert outbox == []
    task = DBTaskResult.objects.get()
    assert (task.task_path, task.args_kwargs["args"]) == ("portal.tasks.deliver_sms", [row.pk])
    work_the_queue()
    assert outbox == [("13812345678", "【留守老人关爱】排队")]
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    # A second run of the same task (a worker killed after sending, say) sends nothing more.
    assert deliver(row.pk) == "skipped"
    assert len(outbox) == 1


@override_settings(TASKS=DB_TASKS)
def test_healthz_reports_the_age_of_the_oldest_waiting_task(client):
    from django_tasks_db.models import DBTaskResult

    from portal.tasks import retry_due_sms

    assert client.get("/healthz").json()["queue"] == 0.0
    retry_due_sms.enqueue()
    DBTaskResult.objects.update(enqueued_at=timezone.now() - datetime.timedelta(seconds=90))
    body = client.get("/healthz").json()
    assert body["database"] == "ok" and body["cache"] == "ok"
    assert 89 <= body["queue"] < 120


def test_outbox_page_shows_masked_numbers_in_scope_only(client, liaison, mfa_client):
    from conftest import _staff

    mine = send_sms("13812345678", "验证码 123456", template="verification", region=Region.objects.get(code=VILLAGE))
    send_sms("13700000000", "别处", region=Region.objects.get(code=OTHER_COUNTY))
    client.force_login(liaison)
    page = client.get("/portal/sms/")
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert mine.phone_masked in text and "verification" in text
    assert "13812345678" not in text and "123456" not in text
    assert "137****0000" not in text
    other = _staff("township_officer", "640104001000")  # a township of 兴庆区
    send_sms("13600000000", "兴庆区", region=Region.objects.get(code="640104001000"))
    client.force_login(other)
    text = client.get("/portal/sms/").content.decode()
    assert "136****0000" in text and "137****0000" not in text and "138****5678" not in text
    text = mfa_client(_staff("county_officer", OTHER_COUNTY)).get("/portal/sms/").content.decode()
    assert "137****0000" in text and "138****5678" not in text


def test_outbox_page_needs_a_staff_role(client, volunteer):
    client.force_login(volunteer)
    assert client.get("/portal/sms/").status_code == 403


def test_a_staff_members_messages_are_placed_in_their_region_by_the_worker(liaison):
    row = send_sms(liaison.phone, "你好")
    row.refresh_from_db()
    assert row.region_id == VILLAGE


@override_settings(TASKS=DB_TASKS)
def test_sending_costs_the_request_two_inserts(liaison, django_assert_num_queries):
    """The outbox row and the task row: no lookup of the recipient's region in the request (the worker does it)."""
    with django_assert_num_queries(2):
        row = send_sms(liaison.phone, "你好")
    assert row.region_id is None
    work_the_queue()
    row.refresh_from_db()
    assert row.region_id == VILLAGE and row.status == SmsStatus.SENT


# --- the schedule ---------------------------------------------------------------------------------


def test_every_periodic_command_is_on_the_schedule():
    commands = {entry.args[0] for entry in SCHEDULE if entry.task == "portal.tasks.run_command"}
    assert {
        "publish_scheduled",
        "check_alert_deadlines",
        "send_activity_reminders",
        "send_visit_digest",
        "anonymise_departed",
    } <= commands


def test_the_scheduler_builds_one_cron_job_per_entry():
    from apscheduler.schedulers.background import BackgroundScheduler

    from portal.management.commands.run_scheduler import build_scheduler

    scheduler = build_scheduler(BackgroundScheduler)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {entry.name for entry in SCHEDULE}
        alert = jobs["alert-deadlines"].next_run_time
        assert alert.minute % 15 == 0 and alert.second == 0
        assert jobs["visit-digest"].next_run_time.weekday() == 0
    finally:
        scheduler.shutdown(wait=False)


@pytest.mark.parametrize("entry", SCHEDULE, ids=lambda entry: entry.name)
def test_each_scheduled_task_runs(entry):
    result = enqueue_entry(entry)
    assert result.status == "SUCCESSFUL", result.errors


@override_settings(TASKS=DB_TASKS)
def test_the_scheduler_only_enqueues_and_the_worker_runs(outbox):
    from django_tasks_db.models import DBTaskResult

    from portal.management.commands.run_scheduler import fire

    fire(next(entry for entry in SCHEDULE if entry.name == "alert-deadlines"))
    task = DBTaskResult.objects.get()
    assert task.status == "READY"
    work_the_queue()
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    assert task.return_value == "已提醒超时的紧急情况：0 件"


def test_readme_lists_no_cron_lines():
    from pathlib import Path

    readme = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
    assert "cron" not in readme.lower()
    for process in ("run_worker", "run_scheduler", "gunicorn"):
        assert process in readme


def test_outbox_sender_is_what_the_tests_read():
    OutboxSender().send("1", "x")
    assert OutboxSender.outbox[-1] == ("1", "x")


@override_settings(TASKS=DB_TASKS, SMS_ENQUEUE_AT_ONCE=False)
def test_a_task_whose_worker_died_is_run_again_without_a_second_message(outbox):
    from django_tasks_db.models import DBTaskResult

    from portal.tasks import requeue_stale_tasks

    row = send_sms("13812345678", "断了又续")
    task = DBTaskResult.objects.get()
    # A worker claimed it and was killed before finishing (the message itself was not sent yet).
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING", started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert requeue_stale_tasks.call() == 1
    work_the_queue()
    assert outbox == [("13812345678", "【留守老人关爱】断了又续")]
    # Killed after sending: run again, it sends nothing.
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING", started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert requeue_stale_tasks.call() == 1
    work_the_queue()
    assert len(outbox) == 1
    row.refresh_from_db()
    assert row.status == SmsStatus.SENT


@override_settings(TASKS=DB_TASKS)
def test_a_recent_running_task_is_left_alone():
    from django_tasks_db.models import DBTaskResult

    from portal.tasks import requeue_stale_tasks, retry_due_sms

    retry_due_sms.enqueue()
    DBTaskResult.objects.update(status="RUNNING", started_at=timezone.now())
    assert requeue_stale_tasks.call() == 0


def test_the_worker_carries_on_after_a_database_error(monkeypatch):
    from django_tasks_db.management.commands import db_worker

    from django.db import OperationalError

    from portal.management.commands import run_worker

    runs = []

    def run(self):
        runs.append(self)
        if len(runs) == 1:
            raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(db_worker.Worker, "run", run)
    monkeypatch.setattr(run_worker, "PAUSE_SECONDS", 0)
    with override_settings(TASKS=DB_TASKS):
        call_command("run_worker", batch=True, interval=0, no_startup_delay=True, stdout=io.StringIO())
    assert len(runs) == 2
