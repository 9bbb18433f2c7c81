"""Background work: the shared tasks (Django's tasks API, the django-tasks backport).

The queue is durable (django-tasks-db: rows in the database, `manage.py run_worker` runs them, any number
of worker processes); the tests run tasks at once (the immediate backend). Any app defines its own tasks
the same way — `@task()` on a module-level function taking JSON-serialisable arguments, enqueued with
`.enqueue(...)` — and may call `run_command` for a management command. Periodic tasks are listed in
portal/schedule.py and enqueued by `manage.py run_scheduler`.

A task may run more than once (a worker killed mid-way, a scheduler restarted): every task here is
idempotent, and a new one must be too (claim its row with a conditional UPDATE, as portal.sms does).
"""

import io
import logging

from django_tasks import task

from django.core.management import call_command

from portal import sms  # portal.sms imports this module too: its functions are read at call time

logger = logging.getLogger("portal.tasks")


@task()
def deliver_sms(message_id: int) -> str:
    """Send one outbox message (portal.sms.deliver): sent at most once, retried with backoff."""
    return sms.deliver(message_id)


@task()
def retry_due_sms() -> int:
    """Enqueue the outbox messages due for another attempt (portal.sms.retry_due)."""
    return sms.retry_due()


@task()
def run_command(name: str, *args: str) -> str:
    """Run a management command (the periodic ones are idempotent) and return what it printed."""
    out = io.StringIO()
    call_command(name, *args, stdout=out, stderr=out)
    text = out.getvalue().strip()
    logger.info("%s: %s", name, text)
    return text[-2000:]


@task()
def prune_finished_tasks(days: int = 14) -> str:
    """Forget finished task results older than `days` (the queue table stays small)."""
    from django_tasks_db.backend import DatabaseBackend

    if not isinstance(prune_finished_tasks.get_backend(), DatabaseBackend):
        return "not a database queue"
    out = io.StringIO()
    call_command("prune_db_task_results", min_age_days=days, stdout=out)
    return out.getvalue().strip()[-2000:]


@task()
def requeue_stale_tasks() -> int:
    """Put back in the queue the tasks whose worker died mid-way (killed, machine restarted).

    django-tasks-db leaves such a task "RUNNING" for ever. For each task path in settings.TASKS_REQUEUE_AFTER
    (path → seconds), a task running for longer than that is made READY again and a worker runs it anew, so
    only idempotent tasks belong there (a re-run must not double its effects) and the time must exceed the
    longest honest run. Returns how many were put back.
    """
    import datetime

    from django_tasks_db.models import DBTaskResult

    from django.conf import settings
    from django.utils import timezone

    now = timezone.now()
    count = 0
    for path, seconds in getattr(settings, "TASKS_REQUEUE_AFTER", {}).items():
        stale = DBTaskResult.objects.filter(
            status="RUNNING", task_path=path, started_at__lt=now - datetime.timedelta(seconds=seconds)
        )
        put_back = stale.update(status="READY")
        if put_back:
            logger.warning("requeued %s stale %s task(s)", put_back, path)
        count += put_back
    return count
