"""Close pairing offers the volunteer did not answer in time, freeing their places (run daily)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from services.pairing.offers import offers_expire


class Command(BaseCommand):
    help = "Close pairing offers past their deadline (the place goes to the next matching run)."

    def handle(self, *args, **options):
        count = offers_expire()
        self.stdout.write(_("Pairing offers closed: %(count)s") % {"count": count})
