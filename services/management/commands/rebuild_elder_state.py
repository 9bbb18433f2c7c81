"""Recompute every elder's stored state (priority tier, reachable supporter, next visit due, overdue flag).

The state is kept incrementally by the domain functions; this is the repair and the check after a bulk change
made outside them. Batches of primary keys, one UPDATE … FROM statement and one transaction per batch.
"""

import time

from django.core.management.base import BaseCommand

from services.care.state import BATCH, rebuild


class Command(BaseCommand):
    help = "Recompute the stored per-elder state (tier, next visit due, overdue) of every elder."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=BATCH, help="Elders per statement.")

    def handle(self, *args, **options):
        started = time.perf_counter()
        done = rebuild(batch=max(1, options["batch"]))
        self.stdout.write(f"elders: {done}; {time.perf_counter() - started:.1f} s")
