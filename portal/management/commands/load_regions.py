"""Load the administrative divisions from CSV: all-or-nothing, idempotent, in bulk."""

import csv
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.models import PREFIX_LENGTH, Region, RegionLevel

DEFAULT_CSV = Path(__file__).resolve().parents[2] / "data" / "ningxia_divisions.csv"
HEADER = ["code", "name", "level", "parent_code"]
LEVEL_ORDER = [RegionLevel.PROVINCE, RegionLevel.CITY, RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.VILLAGE]
PARENT_LEVEL = dict(zip(LEVEL_ORDER[1:], LEVEL_ORDER[:-1], strict=True))
CODE_RE = re.compile(r"^\d{12}$")


def parse_regions(path: Path) -> list[dict]:
    """Read and check every row before anything is written; raise CommandError naming the bad line."""
    if not path.is_file():
        raise CommandError(_("Region file not found: %(path)s") % {"path": path})
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header != HEADER:
                raise CommandError(
                    _("Line 1: the header must be %(expected)s, found %(found)s")
                    % {"expected": ",".join(HEADER), "found": ",".join(header or [])}
                )
            rows: list[dict] = []
            seen: dict[str, dict] = {}
            for line_no, fields in enumerate(reader, start=2):
                if not fields:
                    continue
                rows.append(_check_row(line_no, fields, seen))
    except UnicodeDecodeError as exc:
        raise CommandError(_("The file is not UTF-8 text: %(error)s") % {"error": exc}) from exc
    for row in rows:
        parent = row["parent_code"]
        if parent and parent not in seen:
            raise CommandError(
                _("Line %(line)d: parent %(parent)s of %(code)s is not in the file")
                % {"line": row["line"], "parent": parent, "code": row["code"]}
            )
        if parent and seen[parent]["level"] != PARENT_LEVEL[row["level"]]:
            raise CommandError(
                _("Line %(line)d: parent %(parent)s of %(code)s is not one level up")
                % {"line": row["line"], "parent": parent, "code": row["code"]}
            )
    if not rows:
        raise CommandError(_("The region file has no rows."))
    return rows


def _check_row(line_no: int, fields: list[str], seen: dict) -> dict:
    def fail(message: str):
        raise CommandError(_("Line %(line)d: %(message)s") % {"line": line_no, "message": message})

    if len(fields) != 4:
        fail(_("expected 4 columns, found %(n)d") % {"n": len(fields)})
    code, name, level, parent = (f.strip() for f in fields)
    if not CODE_RE.match(code):
        fail(_("code %(code)r is not 12 digits") % {"code": code})
    if code in seen:
        fail(_("code %(code)s appears twice") % {"code": code})
    if not name or len(name) > 100:
        fail(_("the name is empty or longer than 100 characters"))
    if level not in RegionLevel.values:
        fail(_("unknown level %(level)r") % {"level": level})
    level = RegionLevel(level)
    if level == RegionLevel.PROVINCE:
        if parent:
            fail(_("a province has no parent"))
    else:
        if not CODE_RE.match(parent):
            fail(_("parent code %(code)r is not 12 digits") % {"code": parent})
        parent_prefix = parent[: PREFIX_LENGTH[PARENT_LEVEL[level]]]
        if not code.startswith(parent_prefix):
            fail(
                _("code %(code)s does not start with its parent's prefix %(prefix)s")
                % {"code": code, "prefix": parent_prefix}
            )
    row = {"line": line_no, "code": code, "name": name, "level": level, "parent_code": parent}
    seen[code] = row
    return row


@transaction.atomic
def save_regions(rows: list[dict]) -> tuple[int, int]:
    """Upsert level by level (parents first). Returns (created, updated)."""
    existing = set(Region.objects.values_list("code", flat=True))
    for level in LEVEL_ORDER:
        batch = [
            Region(code=r["code"], name=r["name"], level=r["level"], parent_id=r["parent_code"] or None)
            for r in rows
            if r["level"] == level
        ]
        Region.objects.bulk_create(
            batch,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["code"],
            update_fields=["name", "level", "parent"],
        )
    created = sum(1 for r in rows if r["code"] not in existing)
    return created, len(rows) - created


class Command(BaseCommand):
    help = "Load administrative divisions (code,name,level,parent_code) from CSV; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--file", type=Path, default=DEFAULT_CSV, help="CSV file (default: the bundled Ningxia list)"
        )

    def handle(self, *args, file: Path, **options):
        rows = parse_regions(file)
        created, updated = save_regions(rows)
        counts = {lv: sum(1 for r in rows if r["level"] == lv) for lv in LEVEL_ORDER}
        summary = ", ".join(f"{RegionLevel(lv).label} {n}" for lv, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                _("Regions loaded: %(total)d (%(created)d new, %(updated)d updated). %(summary)s")
                % {"total": len(rows), "created": created, "updated": updated, "summary": summary}
            )
        )
