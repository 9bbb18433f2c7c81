"""Background work: the cost of putting an SMS in the outbox inside a request's transaction (outbox row +
task row, the database queue as in production), and the task worker's throughput (SMS deliveries/s).

On SQLite by default; BENCH_DATABASE_URL=postgres://… measures PostgreSQL, the production database."""

from django.db import transaction
from django.test import override_settings

from portal.sms import OutboxSender

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
BATCH = 100


def _database_queue():
    return override_settings(TASKS=DB_TASKS, SMS_ENQUEUE_AT_ONCE=False, SMS_DAILY_CAP_PER_PHONE=10**9)


def _empty_queue():
    from django_tasks_db.models import DBTaskResult

    from portal.models import SmsMessage

    DBTaskResult.objects.all().delete()
    SmsMessage.objects.all().delete()
    OutboxSender.outbox.clear()


def enqueue_many():
    """BATCH requests' worth: each SMS in its own transaction, as a request would (ATOMIC_REQUESTS)."""
    from portal.sms import send_sms

    with _database_queue():
        for _ in range(BATCH):
            with transaction.atomic():
                send_sms("13812345678", "您好，明天上午九点健康讲座。")


def enqueue_in_open_transaction():
    """The marginal cost inside a request: BATCH SMS in one open transaction (the request commits anyway,
    with or without a message), i.e. the outbox row, the task row and the encryption, without a COMMIT each."""
    from portal.sms import send_sms

    with _database_queue(), transaction.atomic():
        for _ in range(BATCH):
            send_sms("13812345678", "您好，明天上午九点健康讲座。")


def fill_queue():
    from portal.sms import send_sms

    _empty_queue()
    with _database_queue(), transaction.atomic():
        for n in range(BATCH):
            send_sms(f"1381234{n:04d}", "您好，明天上午九点健康讲座。")


def run_worker():
    from django_tasks_db.management.commands.db_worker import Worker

    with _database_queue():
        Worker(
            queue_names=["default"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id="bench",
            excluded_queue_names=[],
        ).run()
    assert len(OutboxSender.outbox) == BATCH, len(OutboxSender.outbox)


def register(suite) -> None:
    suite.throughput(f"SMS enqueued: {BATCH} transactions", enqueue_many, prepare=_empty_queue, items=BATCH, repeat=5)
    suite.throughput(
        f"SMS enqueued: {BATCH} in one open transaction (marginal cost in a request)",
        enqueue_in_open_transaction,
        prepare=_empty_queue,
        items=BATCH,
        repeat=5,
    )
    suite.throughput(f"worker: {BATCH} SMS deliveries", run_worker, prepare=fill_queue, items=BATCH, repeat=5)
