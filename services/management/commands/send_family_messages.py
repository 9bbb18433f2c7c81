"""Messages to families: the monthly summary on a month's last day ("本月巡访2次、服务3次") and the reminder after
30 days without a reported family contact (不得忽视、冷落老年人).

Idempotent: a FamilyMessage row per elder, kind and period is written before the message goes out, so running the
command twice (or from two cron hosts) sends nothing the second time.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from services.family.actions import monthly_summary_send, no_contact_remind
from services.family.agreements import agreement_end_remind


class Command(BaseCommand):
    help = "Send families the monthly summary (last day of the month) and the 30-day no-contact reminder."

    def handle(self, *args, **options):
        monthly, monthly_skipped = monthly_summary_send()
        silent, silent_skipped = no_contact_remind()
        ending, ending_skipped = agreement_end_remind()
        self.stdout.write(
            _(
                "Monthly summaries sent: %(monthly)s; no-contact reminders sent: %(silent)s; agreement reminders "
                "sent: %(ending)s; already sent: %(skipped)s"
            )
            % {
                "monthly": monthly,
                "silent": silent,
                "ending": ending,
                "skipped": monthly_skipped + silent_skipped + ending_skipped,
            }
        )
