"""The task worker: django-tasks-db's `db_worker`, kept alive across database restarts.

`db_worker` exits on the first database error that is not a lock (PostgreSQL restarting, a dropped
connection); this command logs it, drops the connection, waits and carries on, so one restart of the
database does not stop background work. Options are those of `db_worker`.
"""

import logging
import time

from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from django.db import InterfaceError, OperationalError, connections

logger = logging.getLogger("portal.tasks")

PAUSE_SECONDS = 1.0


class Command(DbWorkerCommand):
    help = "Run queued tasks (db_worker that survives database restarts)."

    def handle(self, *args, **options):
        while True:
            try:
                return super().handle(*args, **options)
            except (OperationalError, InterfaceError) as exc:
                logger.warning("worker: database unavailable (%s); retrying in %ss", exc, PAUSE_SECONDS)
                for connection in connections.all(initialized_only=True):
                    connection.close_if_unusable_or_obsolete()
                    if connection.connection is not None and not connection.is_usable():
                        connection.close()
                time.sleep(PAUSE_SECONDS)
