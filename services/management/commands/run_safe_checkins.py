"""One pass of the 平安铃 daily round (the scheduler runs it every five minutes): messages due, second messages,
missed days and the visit tasks and alerts they lead to. Idempotent."""

import json

from django.core.management.base import BaseCommand

from services.safecheck.actions import run_round


class Command(BaseCommand):
    help = "平安铃: send the daily and second messages due, count missed days (task after 2, alert after 3)."

    def handle(self, *args, **options):
        self.stdout.write(json.dumps(run_round()))
