"""Weekly SMS to each village liaison: who must be visited this week and who is overdue.

Idempotent per week: a VisitDigest row per liaison and week is written with the message, so running
the command twice (or from two cron hosts) sends nothing the second time.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from services.care.visits import digest_send_all


class Command(BaseCommand):
    help = "Send each village liaison an SMS with the visits due this week (once per week)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, send nothing.")

    def handle(self, *args, **options):
        sent, skipped = digest_send_all(dry_run=options["dry_run"])
        self.stdout.write(
            _("Digests sent: %(sent)s; already sent this week: %(skipped)s") % {"sent": sent, "skipped": skipped}
        )
