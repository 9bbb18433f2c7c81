"""The elder ledger over generated data (BENCH_ELDERS elders, default 100,000) and a 10,000-row import.

Floors: one hand-written query fetching the rows the ledger page shows — active elders of the county,
in the page's order (priority: the same CASE over economic status, age, ability, living arrangement and
a capable, reachable supporter), 25 of them. The page also counts the rows, reads the session, user and
roles, and renders the table.

The import case parses a 10,000-row .xlsx, checks every row and imports it in one transaction, rolled
back after each run so every run creates 10,000 elders; the target is ≥ 2,000 rows/s, i.e. < 5,000 ms.
"""

import datetime
import io
import os
import random

from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

COUNTY = "640422"  # 西吉县 (county officer 13900000003)
VILLAGE = "640422100201"  # 大营村 (village liaison 13900000001)
IMPORT_ROWS = 10_000
_file: dict[str, bytes] = {}


def _ensure_data() -> None:
    from services.models import Elder

    wanted = int(os.environ.get("BENCH_ELDERS", "100000"))
    if Elder.objects.count() < wanted:
        call_command("generate_load", elders=wanted - Elder.objects.count(), stdout=io.StringIO())


def _import_file() -> bytes:
    """10,000 rows as a village keeps them; IDs with a birthplace (110101) generate_load never uses."""
    if "xlsx" not in _file:
        import openpyxl

        from portal.identity import check_digit

        rng = random.Random(10)  # noqa: S311
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(["西吉县吉强镇留守老年人信息台账"])
        sheet.append(
            [
                "序号",
                "姓名",
                "性别",
                "身份证号",
                "出生日期",
                "村",
                "住址",
                "联系电话",
                "经济状况",
                "能力等级",
                "居住情况",
            ]
        )
        villages = ["大营村", "大滩村", "泉儿湾村", "马营村", "团结村"]
        for n in range(IMPORT_ROWS):
            birth = datetime.date(1930, 1, 1) + datetime.timedelta(days=n)  # one elder per day: unique IDs
            sex = "M" if n % 2 else "F"
            first17 = f"110101{birth:%Y%m%d}{n % 100:02d}{(n // 2) % 5 * 2 + (sex == 'M')}"
            sheet.append(
                [
                    n + 1,
                    f"测试{n}",
                    "男" if sex == "M" else "女",
                    first17 + check_digit(first17),
                    birth.isoformat(),
                    villages[n % len(villages)],
                    f"{n % 9 + 1}组",
                    f"139{rng.randint(10_000_000, 99_999_999)}",
                    rng.choice(["一般", "低保", "特困", "建档立卡"]),
                    rng.choice(["能力完好", "轻度失能", "中度失能"]),
                    rng.choice(["独居", "与配偶同住"]),
                ]
            )
        buffer = io.BytesIO()
        book.save(buffer)
        _file["xlsx"] = buffer.getvalue()
    return _file["xlsx"]


def _import_run() -> None:
    from portal.models import Region, RegionLevel
    from services.ledger import imports, spreadsheet

    parsed = spreadsheet.parse_file(content=_import_file(), filename="台账.xlsx")
    villages = Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith="640422100")
    records, errors = imports.check_rows(parsed.rows, villages=villages, default_village=None)
    assert not errors, errors[:3]
    with transaction.atomic():
        created, updated = imports.apply_records(records)
        assert created + updated == IMPORT_ROWS
        transaction.set_rollback(True)


def register(suite) -> None:
    suite.setup(lambda: call_command("seed_demo", stdout=io.StringIO()))
    suite.setup(_ensure_data)
    cutoff = timezone.localdate().replace(year=timezone.localdate().year - 80)
    priority = (
        "CASE WHEN ((e.economic_status IN ('destitute','subsistence','registered_poor') AND (e.birth_date <= %s "
        "OR e.ability_level IN ('moderate','severe','total'))) OR ((e.economic_status IN ('destitute','subsistence',"
        "'registered_poor') OR e.birth_date <= %s OR e.ability_level IN ('mild','moderate','severe','total')) AND "
        "(e.living_arrangement = 'alone' OR NOT EXISTS (SELECT 1 FROM services_familycontact f WHERE f.elder_id = e.id "
        "AND f.can_support AND f.phone <> '')))) THEN 0 WHEN (e.economic_status IN ('destitute','subsistence',"
        "'registered_poor') OR e.birth_date <= %s OR e.ability_level IN ('mild','moderate','severe','total') OR "
        "e.living_arrangement = 'alone' OR NOT EXISTS (SELECT 1 FROM services_familycontact f WHERE f.elder_id = e.id "
        "AND f.can_support AND f.phone <> '')) THEN 1 ELSE 2 END"
    )
    suite.sql_floor(
        "SQL floor: ledger page of a county",
        f"SELECT e.id, e.name, e.birth_date, v.name, e.ability_level, e.economic_status, e.last_visit_at, e.phone, "
        f"{priority} AS rank FROM services_elder e JOIN portal_region v ON v.code = e.village_id "
        f"WHERE e.status = 'active' AND e.village_id LIKE %s ORDER BY rank, e.name LIMIT 25",
        [cutoff, cutoff, cutoff, COUNTY + "%"],
    )
    suite.page(
        "elder ledger (county officer)",
        "/services/elders/",
        user="13900000003",
        floor="SQL floor: ledger page of a county",
    )
    suite.sql_floor(
        "SQL floor: ledger page of a village",
        "SELECT e.id, e.name, e.birth_date, v.name, e.ability_level, e.economic_status, e.last_visit_at, e.phone "
        "FROM services_elder e JOIN portal_region v ON v.code = e.village_id "
        "WHERE e.status = 'active' AND e.village_id LIKE %s ORDER BY e.name LIMIT 25",
        [VILLAGE + "%"],
    )
    suite.page(
        "elder ledger (village liaison)",
        "/services/elders/?sort=name",
        user="13900000001",
        floor="SQL floor: ledger page of a village",
    )
    suite.call("ledger import, 10,000 rows: check + import (target < 5,000 ms)", _import_run, floor=None, repeat=3)
