"""Erase the personal data of elders whose retention period after leaving the ledger has ended (run daily)."""

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from services.ledger.retention import anonymise_due, elders_due


class Command(BaseCommand):
    help = "Anonymise elders who left the ledger more than LEDGER_RETENTION_DAYS ago (default 3 years)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help=_("Only count; change nothing."))

    def handle(self, *args, dry_run=False, **options):
        count = elders_due().count() if dry_run else anonymise_due()
        self.stdout.write(
            _("Elders anonymised: %(count)s") % {"count": count}
            if not dry_run
            else _("Elders due: %(count)s") % {"count": count}
        )
        self.stdout.write(json.dumps({"due" if dry_run else "anonymised": count}))
