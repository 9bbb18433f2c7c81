"""Escalate referrals past their deadline without an outcome (run every hour by the scheduler)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from services.referrals.actions import escalate_overdue


class Command(BaseCommand):
    help = "Tell the township and county officers about overdue referrals (once per referral)."

    def handle(self, *args, **options):
        count = escalate_overdue()
        self.stdout.write(_("Overdue referrals escalated: %(count)s") % {"count": count})
