"""Draw one month's spot checks (抽查回访) of a county or township.

    python manage.py draw_spotchecks --month 2026-11 --region 640422000000
    python manage.py draw_spotchecks --month 2026-11 --region 640422000000 --seed 12345 --share 0.1

The draw is stratified by township and provider and seeded: --seed repeats a draw (the seed of every draw
is kept and shown). A month already drawn is not drawn again; its summary is printed. The last line of
output is a JSON summary (region, month, seed, share, population, drawn, visits, records, created).
"""

import json
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal.models import Region
from services.purchasing import rules as purchasing_rules
from services.spotchecks import actions


class Command(BaseCommand):
    help = "Draw a month's spot-check call-backs for a county or township; prints a JSON summary last."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--region", required=True, help="12-digit code of a county or township")
        parser.add_argument("--seed", type=int, default=None, help="repeat a draw with its seed")
        parser.add_argument("--share", default=None, help="share to draw, e.g. 0.05 (default SPOTCHECK_SHARE)")

    def handle(self, *args, month: str, region: str, seed, share, **options):
        try:
            first_day = purchasing_rules.parse_month(month)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        found = Region.objects.filter(code=region.strip()).first()
        if found is None:
            raise CommandError(f"No region with code {region!r}.")
        if share is not None:
            try:
                share = Decimal(share)
            except InvalidOperation:
                raise CommandError(f"--share must be a number between 0 and 1, not {share!r}.") from None
            if not (0 < share <= 1):
                raise CommandError(f"--share must be a number between 0 and 1, not {share}.")
        try:
            draw, created = actions.draw_month(
                actor=None, region=found, month=first_day, seed=seed, share=share, system=True
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(json.dumps(actions.summary(draw, created=created), ensure_ascii=False))
