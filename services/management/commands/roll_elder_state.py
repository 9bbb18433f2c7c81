"""The daily roll of the stored elder state: tiers of elders who turned 80, overdue-visit flags (scheduled)."""

from django.core.management.base import BaseCommand

from services.care.state import roll


class Command(BaseCommand):
    help = "Roll the date-dependent parts of the stored elder state (run daily by the scheduler)."

    def handle(self, *args, **options):
        counts = roll()
        self.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()))
