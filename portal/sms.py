"""Text messages through an outbox: `send_sms` records, a task delivers.

`send_sms(phone, message)` writes a `portal.SmsMessage` row (number and text encrypted) and hands its
id to the `deliver_sms` task (portal.tasks). With the database task backend the task row is written in
the caller's transaction, so a message exists — and is sent — exactly when the caller's data is
committed; with a backend outside the database (none configured today) it is enqueued after the commit.
A slow or failing provider therefore never fails the request that asked for the message.

Delivery (`deliver`): the row is claimed by a conditional UPDATE (queued and due → sending), so a task
that runs twice, or two workers, send a message at most once. A temporary failure (timeout, throttling,
a provider's "try later") puts it back as queued with `next_attempt_at` doubling from
SMS_RETRY_BASE_SECONDS, at most SMS_MAX_ATTEMPTS attempts; a permanent one marks it failed. One phone
receives at most SMS_DAILY_CAP_PER_PHONE messages per day (Asia/Shanghai). `retry_due` (scheduled
every minute, portal/schedule.py) enqueues the queued messages whose time has come.

`settings.SMS_SENDER` names the sender class. A sender has `send(phone, message)`; one that sets
`uses_templates = True` (the Aliyun and Tencent adapters, portal/sms_providers.py) is called as
`send(phone, message, template=KEY, params=DICT)` and returns the provider's answer. LogSender (the
default) writes the message to the log; OutboxSender keeps it in memory for the tests.
"""

import datetime
import json
import logging
from functools import lru_cache, partial

from django_tasks_db.backend import DatabaseBackend

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from . import tasks
from .identity import keyed_hash
from .models import SmsMessage, SmsStatus, StaffRole
from .phone import mask_phone

logger = logging.getLogger("portal.sms")


class SmsError(Exception):
    """A provider refused or failed. `retryable`: worth trying again later."""

    retryable = False

    def __init__(self, message: str, *, retryable: bool | None = None):
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class SmsTemporaryError(SmsError):
    """Timeout, connection refused, throttling, provider busy: try again later."""

    retryable = True


class LogSender:
    """Writes each message to the log instead of sending it."""

    def send(self, phone: str, message: str) -> None:
        logger.warning("SMS to %s: %s", mask_phone(phone), message)


class OutboxSender:
    """Keeps messages in memory (tests read `OutboxSender.outbox`)."""

    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        OutboxSender.outbox.append((phone, message))


@lru_cache(maxsize=4)
def _sender(path: str):
    return import_string(path)()


def get_sender():
    return _sender(settings.SMS_SENDER)


def _region_of(phone: str):
    """The region of the staff member with this number (their first role), for scoping the outbox."""
    role = StaffRole.objects.filter(user__phone=phone).order_by("pk").only("region_id").first()
    return role.region_id if role else None


def send_sms(phone: str, message: str, *, template: str = "", params: dict | None = None, region=None):
    """Record the message in the outbox and have it delivered by a task. Returns the SmsMessage."""
    # The recipient's region (for scoping the outbox) is looked up by the worker when not given: one query
    # less inside the request that sends the message.
    region_id = getattr(region, "pk", region) if region is not None else None
    row = SmsMessage.objects.create(
        phone=phone,
        phone_hash=keyed_hash(phone),
        phone_masked=mask_phone(phone),
        body=str(message),
        template=template,
        params=json.dumps(params or {}, ensure_ascii=False, default=str),
        region_id=region_id,
        next_attempt_at=timezone.now(),
    )
    dispatch(row.pk)
    return row


def _enqueue_is_transactional() -> bool:
    """True when the task backend writes its queue into the default database (django-tasks-db)."""
    backend = tasks.deliver_sms.get_backend()
    return isinstance(backend, DatabaseBackend) and backend.options.get("database", "default") == "default"


def dispatch(message_id: int) -> None:
    """Enqueue the delivery task: inside the caller's transaction when the queue lives in the same
    database (it commits with the row), else after the commit. SMS_ENQUEUE_AT_ONCE (tests) enqueues now."""
    enqueue = partial(tasks.deliver_sms.enqueue, message_id)
    connection = transaction.get_connection()
    if getattr(settings, "SMS_ENQUEUE_AT_ONCE", False) or not connection.in_atomic_block or _enqueue_is_transactional():
        enqueue()
    else:
        transaction.on_commit(enqueue, robust=True)


def _day_start(now: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _retry_delay(attempts: int) -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.SMS_RETRY_BASE_SECONDS * (2 ** max(attempts - 1, 0)))


def deliver(message_id: int) -> str:
    """Send one outbox message once. Returns what happened: sent, retry, failed, capped or skipped."""
    now = timezone.now()
    claimed = (
        SmsMessage.objects.filter(pk=message_id, status=SmsStatus.QUEUED)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=SmsStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    )
    if not claimed:
        return "skipped"
    row = SmsMessage.objects.get(pk=message_id)
    if row.region_id is None and (region_id := _region_of(row.phone)):
        SmsMessage.objects.filter(pk=row.pk).update(region_id=region_id)
    sent_today = SmsMessage.objects.filter(
        phone_hash=row.phone_hash, status=SmsStatus.SENT, sent_at__gte=_day_start(now)
    ).count()
    if sent_today >= settings.SMS_DAILY_CAP_PER_PHONE:
        _finish(row, SmsStatus.FAILED, "daily cap reached (SMS_DAILY_CAP_PER_PHONE)")
        logger.warning("SMS %s to %s not sent: daily cap", row.pk, row.phone_masked)
        return "capped"
    sender = get_sender()
    sign = getattr(settings, "SMS_SIGN_NAME", "")
    try:
        if getattr(sender, "uses_templates", False):
            answer = sender.send(row.phone, row.body, template=row.template, params=json.loads(row.params or "{}"))
        else:
            answer = sender.send(row.phone, f"【{sign}】{row.body}" if sign else row.body)
    except Exception as exc:  # a sender may raise anything; the row must not stay "sending"
        retryable = getattr(exc, "retryable", not isinstance(exc, SmsError))
        answer = f"{type(exc).__name__}: {exc}"[:500]
        if retryable and row.attempts < settings.SMS_MAX_ATTEMPTS:
            when = timezone.now() + _retry_delay(row.attempts)
            SmsMessage.objects.filter(pk=row.pk, status=SmsStatus.SENDING).update(
                status=SmsStatus.QUEUED, next_attempt_at=when, provider_answer=answer, claimed_at=None
            )
            _enqueue_retry(row.pk, when)
            logger.warning("SMS %s to %s: %s; next attempt at %s", row.pk, row.phone_masked, answer, when)
            return "retry"
        _finish(row, SmsStatus.FAILED, answer)
        logger.error("SMS %s to %s failed: %s", row.pk, row.phone_masked, answer)
        return "failed"
    _finish(row, SmsStatus.SENT, str(answer or "ok")[:500], sent_at=timezone.now())
    return "sent"


def _finish(row, status: str, answer: str, sent_at=None) -> None:
    SmsMessage.objects.filter(pk=row.pk, status=SmsStatus.SENDING).update(
        status=status, provider_answer=answer, sent_at=sent_at, next_attempt_at=None
    )


def _enqueue_retry(message_id: int, when: datetime.datetime) -> None:
    """A deferred task when the backend can defer; otherwise `retry_due` (every minute) picks it up."""
    if tasks.deliver_sms.get_backend().supports_defer:
        tasks.deliver_sms.using(run_after=when).enqueue(message_id)


# A message "sending" for this long was cut off mid-way (worker killed): whether the provider got it is
# unknown, so it is marked failed rather than sent a second time.
STALE_SENDING = datetime.timedelta(minutes=10)


def retry_due() -> int:
    """Enqueue the queued messages whose time has come; end messages stuck in "sending". Returns the count."""
    now = timezone.now()
    SmsMessage.objects.filter(status=SmsStatus.SENDING, claimed_at__lt=now - STALE_SENDING).update(
        status=SmsStatus.FAILED, provider_answer="interrupted while sending; not retried (may have been sent)"
    )
    # Older than a minute: a fresh message has its own task already.
    due = SmsMessage.objects.filter(
        status=SmsStatus.QUEUED, next_attempt_at__lte=now, created_at__lt=now - datetime.timedelta(minutes=1)
    ).values_list("pk", flat=True)
    count = 0
    for pk in due[:1000]:
        dispatch(pk)
        count += 1
    return count
