"""The periodic schedule, in code: what `manage.py run_scheduler` enqueues and when (Asia/Shanghai).

Each entry only enqueues a task; the workers (`manage.py run_worker`) run it. Run exactly one scheduler
process (a second one would enqueue everything twice; the jobs are idempotent, so that costs work, not
double messages). Cron syntax: minute hour day month day-of-week.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    name: str
    cron: str
    task: str  # dotted path of a django-tasks Task
    args: tuple = field(default_factory=tuple)
    help: str = ""


SCHEDULE: list[Entry] = [
    Entry(
        "publish-scheduled",
        "*/5 * * * *",
        "portal.tasks.run_command",
        ("publish_scheduled",),
        "Wagtail's go-live and expiry dates (publish_scheduled).",
    ),
    Entry(
        "alert-deadlines",
        "*/15 * * * *",
        "portal.tasks.run_command",
        ("check_alert_deadlines",),
        "Tell the next level about alerts past their step's deadline.",
    ),
    Entry(
        "activity-reminders",
        "0 18 * * *",
        "portal.tasks.run_command",
        ("send_activity_reminders",),
        "SMS to everyone signed up for tomorrow's activities.",
    ),
    Entry(
        "pairing-offers",
        "15 7 * * *",
        "portal.tasks.run_command",
        ("expire_pairing_offers",),
        "Close pairing offers the volunteer did not answer in time (the place is free again).",
    ),
    Entry(
        "visit-digest",
        "0 8 * * mon",
        "portal.tasks.run_command",
        ("send_visit_digest",),
        "Weekly SMS to each village liaison: visits due and overdue.",
    ),
    Entry(
        "family-messages",
        "0 19 * * *",
        "portal.tasks.run_command",
        ("send_family_messages",),
        "SMS to families: the monthly summary (last day), 30 days without contact, care agreements ending.",
    ),
    Entry(
        "retention",
        "30 2 * * *",
        "portal.tasks.run_command",
        ("anonymise_departed",),
        "Erase personal data of elders off the ledger past LEDGER_RETENTION_DAYS (PIPL).",
    ),
    Entry(
        "referral-deadlines",
        "10 * * * *",
        "portal.tasks.run_command",
        ("escalate_referrals",),
        "Tell the township and county about referrals past their deadline without an answer.",
    ),
    Entry(
        "safe-checkin",
        "*/5 * * * *",
        "portal.tasks.run_command",
        ("run_safe_checkins",),
        "平安铃: daily messages due, second messages, missed days (task, alert).",
    ),
    Entry(
        "elder-state-roll",
        "10 0 * * *",
        "portal.tasks.run_command",
        ("roll_elder_state",),
        "Stored elder state: tiers of elders who turned 80, overdue-visit flags (services.care.state.roll).",
    ),
    Entry("sms-retry", "* * * * *", "portal.tasks.retry_due_sms", (), "Outbox messages due for another attempt."),
    Entry(
        "requeue-stale-tasks",
        "*/5 * * * *",
        "portal.tasks.requeue_stale_tasks",
        (),
        "Tasks whose worker died mid-way run again (TASKS_REQUEUE_AFTER).",
    ),
    Entry(
        "prune-exports",
        "15 3 * * *",
        "portal.export_jobs.prune_exports_task",
        (),
        "Delete export files older than EXPORT_KEEP_DAYS.",
    ),
    Entry("prune-tasks", "30 3 * * *", "portal.tasks.prune_finished_tasks", (), "Forget old finished task results."),
]


def enqueue_entry(entry: Entry):
    """Enqueue one entry's task now (what the scheduler does at each firing)."""
    from django.utils.module_loading import import_string

    return import_string(entry.task).enqueue(*entry.args)
