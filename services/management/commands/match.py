"""Run the pairing matching for a region: `python manage.py match --region CODE [--apply]`.

Without --apply the pairs are stored as proposals for the officers to accept; with --apply they become
active pairings at once. The last line of output is the JSON summary (pairs, total score, 重点 elders
covered/total, coverage before and after, seconds).
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from portal.models import Region
from services.pairing.models import MatchRunStatus
from services.pairing.runs import match_run, run_summary


class Command(BaseCommand):
    help = "Propose (or, with --apply, make) the best pairings of elders and givers for a region."

    def add_arguments(self, parser):
        parser.add_argument("--region", required=True, help="12-digit division code (county, township or village)")
        parser.add_argument("--apply", action="store_true", help="make the pairs active instead of proposing them")

    def handle(self, *args, region: str, apply: bool, **options):
        code = (region or "").strip()
        if not (len(code) == 12 and code.isdigit()):
            raise CommandError(f"--region must be a 12-digit division code, got {region!r}.")
        try:
            area = Region.objects.get(code=code)
        except Region.DoesNotExist:
            raise CommandError(f"No region with code {code}; run load_regions first?") from None
        try:
            run = match_run(region=area, user=None, apply=apply)
        except ValidationError as exc:  # another run for this area is still working
            raise CommandError(" ".join(exc.messages)) from None
        if run.status == MatchRunStatus.FAILED:
            raise CommandError(f"Matching run {run.pk} failed: {run.message}")
        summary = run_summary(run)
        before, after = summary["coverage_before"], summary["coverage_after"]
        self.stdout.write(
            f"{area.name}: {summary['pairs']} pairs, 重点 covered {before['key_covered']}/{before['key_total']}"
            f" → {after['key_covered']}/{after['key_total']}, {summary['seconds']} s"
        )
        self.stdout.write(json.dumps(summary, ensure_ascii=False))
