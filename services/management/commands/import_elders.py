"""python manage.py import_elders FILE --region CODE [--dry-run]

The same checks as the import page: every row is checked first; any error prints the row errors and
exits non-zero with nothing written; otherwise all rows are imported in one transaction.
--region is the area the file may touch (a village, township or county code); a village code is
also the village of rows that name none.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from portal import audit
from portal.models import AuditAction, Region, RegionLevel
from services.ledger import imports, spreadsheet


class Command(BaseCommand):
    help = "Import elders from a village spreadsheet (.xlsx or .csv, UTF-8 or GBK)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--region", required=True, help="12-digit division code of the area the file covers")
        parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")

    def handle(self, *args, file, region, dry_run, **options):
        try:
            area = Region.objects.get(code=region)
        except Region.DoesNotExist as exc:
            raise CommandError(f"Unknown region code {region}") from exc
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        if path.stat().st_size > spreadsheet.max_bytes():  # refused before reading
            raise CommandError(str(spreadsheet.FILE_TOO_LARGE % {"limit": spreadsheet.max_bytes() // 2**20}))
        try:
            parsed = spreadsheet.parse_file(content=path.read_bytes(), filename=path.name)
        except spreadsheet.ImportFileError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        villages = Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith=area.prefix)
        default = area if area.level == RegionLevel.VILLAGE else None
        records, errors = imports.check_rows(parsed.rows, villages=villages, default_village=default)
        if errors:
            for e in errors:
                self.stderr.write(f"row {e['row']} {e['name']} [{e['column']}]: {e['message']}")
            raise CommandError(f"{len(errors)} error(s) in {len(records)} rows; nothing was imported.")
        new = sum(1 for r in records if r["action"] == "create")
        if dry_run:
            self.stdout.write(
                f"OK: {len(records)} rows, {new} new, {len(records) - new} already on the ledger (dry run)."
            )
            return
        created, updated = imports.apply_records(records)
        audit.record(
            AuditAction.CREATE,
            object_type="services.elder",
            object_repr=f"import_elders {path.name}"[:200],
            changes={"created": created, "updated": updated, "rows": len(records), "region": area.code},
        )
        self.stdout.write(self.style.SUCCESS(f"Imported {len(records)} rows: {created} new, {updated} updated."))
