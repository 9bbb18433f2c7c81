"""Enqueue the periodic tasks of portal/schedule.py at their times (APScheduler cron triggers)."""

import logging
import signal

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from portal.schedule import SCHEDULE, Entry, enqueue_entry

logger = logging.getLogger("portal.schedule")


def fire(entry: Entry) -> None:
    close_old_connections()
    try:
        result = enqueue_entry(entry)
        logger.info("enqueued %s (%s)", entry.name, result.id)
    except Exception:  # the database may be restarting: the next firing tries again
        logger.exception("could not enqueue %s", entry.name)
    finally:
        close_old_connections()


def build_scheduler(scheduler_class=BlockingScheduler):
    scheduler = scheduler_class(timezone=settings.TIME_ZONE)
    for entry in SCHEDULE:
        scheduler.add_job(
            fire,
            CronTrigger.from_crontab(entry.cron, timezone=settings.TIME_ZONE),
            args=[entry],
            id=entry.name,
            name=entry.help or entry.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=60,
        )
    return scheduler


class Command(BaseCommand):
    help = "Run the periodic schedule (portal/schedule.py): enqueue each task at its time. Run one of these."

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="Print the schedule and exit.")

    def handle(self, *args, **options):
        if options["list"]:
            for entry in SCHEDULE:
                self.stdout.write(f"{entry.cron:<16} {entry.name:<20} {entry.task} {' '.join(entry.args)}")
            return
        scheduler = build_scheduler()

        def stop(signum, frame):
            scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Scheduler: {len(SCHEDULE)} periodic tasks")
        scheduler.start()
