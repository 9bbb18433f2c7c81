"""Create demo accounts and content. Idempotent; refuses to run on production settings."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from portal.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from portal.models import Region

# Each app's demo seeding, in dependency order. Later issues append to this list.
SEEDERS = [
    "portal.demo.seed",  # accounts, one per role
    "services.catalogue.demo.seed",  # the care-service list
    "services.ledger.demo.seed",  # elders of the demo village, families, agreements
    "services.care.demo.seed",  # visits and alerts
    "cms.demo.seed",  # home page, policies, publicity, service list page
    "volunteers.demo.seed",  # volunteers, organisations, activities
    "services.pairing.demo.seed",  # needs and pairings in the demo village
    "services.records.demo.seed",  # the demo volunteer's service records, training, award
    "services.purchasing.demo.seed",  # the county's contract with the demo association, October's settlement
    "services.timebank.demo.seed",  # deposits of the confirmed demo records, a transfer to kin
    "services.family.demo.seed",  # a family member (13900000007) of one demo elder: reports, a change to confirm
    "services.spotchecks.demo.seed",  # last month's spot-check draw for 吉强镇, a few call-backs
    "services.referrals.demo.seed",  # referrals from visits, one acknowledged by the department account
    "services.safecheck.demo.seed",  # 平安铃: two elders enrolled, a week of answers and misses
]


class Command(BaseCommand):
    help = "Create demo accounts (one per role) and demo content. Safe to run again."

    def handle(self, *args, **options):
        if getattr(settings, "PORTAL_ENVIRONMENT", "") == "production":
            raise CommandError(_("seed_demo refuses to run with production settings."))
        if not Region.objects.exists():
            call_command("load_regions", stdout=self.stdout)
        for path in SEEDERS:
            import_string(path)()
            self.stdout.write(_("Seeded: %(name)s") % {"name": path.rsplit(".", 1)[0]})

        self.stdout.write(self.style.SUCCESS(_("Demo accounts (password %(password)s):") % {"password": DEMO_PASSWORD}))
        for phone, name, role, code in DEMO_ACCOUNTS:
            label = role.label if role else _("Volunteer")
            self.stdout.write(f"  {phone}  {name}  {label}  {code or ''}")
