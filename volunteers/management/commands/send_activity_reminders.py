"""Text everyone signed up for tomorrow's activities (run daily, e.g. from cron at 18:00). Idempotent."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from volunteers.activities import reminders_send


class Command(BaseCommand):
    help = "Send SMS reminders for activities starting tomorrow; nobody is reminded twice for one activity."

    def handle(self, *args, **options):
        sent = reminders_send()
        self.stdout.write(_("Reminders sent: %(count)s") % {"count": sent})
