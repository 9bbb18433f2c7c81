"""Tell the next level about alerts past the deadline of their current step (run every 15 minutes)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from services.care.alerts import alerts_notify_overdue


class Command(BaseCommand):
    help = "Notify the township or county about overdue alert steps (once per step)."

    def handle(self, *args, **options):
        count = alerts_notify_overdue()
        self.stdout.write(_("Overdue alerts notified: %(count)s") % {"count": count})
