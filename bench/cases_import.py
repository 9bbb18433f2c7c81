"""The elder import at scale: a generated 50,000-row .xlsx (BENCH_IMPORT_ROWS) as villages keep it (a title row,
a 赡养人情况 group over its columns), timed phase by phase — parse, validate, write — and end to end through an
ImportJob (import_start → import_validate → import_apply), each reported in rows per second. Writes are rolled
back, so every run imports the same rows into the same database.

Target (issue #14): ≥ 10,000 rows/s end to end on PostgreSQL. Run alone:
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_import_bench BENCH_MODULES=import \
        BENCH_ONLY=import BENCH_REPEAT=3 .venv/bin/python -m bench.run
"""

import datetime
import io
import os
import random

from django.db import transaction

IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "50000"))
VILLAGE_PREFIX = "640422100"  # 吉强镇's villages in 西吉县
_cache: dict[str, object] = {}


def import_workbook(rows: int = IMPORT_ROWS) -> bytes:
    """`rows` elders aged 69 to 96, unique IDs with a birthplace (110101) generate_load never uses."""
    key = f"xlsx{rows}"
    if key not in _cache:
        import openpyxl

        from portal.identity import check_digit

        rng = random.Random(10)  # noqa: S311
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(["吉强镇农村留守老年人基本情况登记表"])
        sheet.append(
            [
                "序号",
                "姓名",
                "性别",
                "公民身份证号码",
                "出生日期",
                "村",
                "住址",
                "联系电话",
                "经济状况",
                "能力等级",
                "居住情况",
                "赡养人情况",
                None,
                None,
            ]
        )
        sheet.append([None] * 11 + ["子女姓名", "务工地点", "子女电话"])
        villages = ["大营村", "大滩村", "泉儿湾村", "马营村"]  # 团结村 is two villages in the county
        for n in range(rows):
            day, batch = n % 10_000, n // 10_000
            birth = datetime.date(1930, 1, 1) + datetime.timedelta(days=day)
            sex = "M" if n % 2 else "F"
            first17 = f"110101{birth:%Y%m%d}{batch % 10}{day % 10}{(n // 10) % 5 * 2 + (sex == 'M')}"
            sheet.append(
                [
                    n + 1,
                    f"测试{n}",
                    "男" if sex == "M" else "女",
                    first17 + check_digit(first17),
                    birth.isoformat() if n % 3 else f"{birth.year}年{birth.month}月{birth.day}日",
                    villages[n % len(villages)],
                    f"{n % 9 + 1}组",
                    f"139{rng.randint(10_000_000, 99_999_999)}",
                    rng.choice(["一般", "低保", "特困", "建档立卡"]),
                    rng.choice(["能力完好", "轻度失能", "中度失能"]),
                    rng.choice(["独居", "与配偶同住（空巢）"]),
                    f"子{n}",
                    "银川",
                    f"138{rng.randint(10_000_000, 99_999_999)}",
                ]
            )
        buffer = io.BytesIO()
        book.save(buffer)
        _cache[key] = buffer.getvalue()
    return _cache[key]  # type: ignore[return-value]


def _villages():
    from portal.models import Region, RegionLevel

    return Region.objects.filter(level=RegionLevel.VILLAGE, code__startswith=VILLAGE_PREFIX)


def _parse():
    from services.ledger import spreadsheet

    _cache["parsed"] = spreadsheet.parse_file(content=import_workbook(), filename="台账.xlsx")


def _validate():
    from services.ledger import imports

    if "parsed" not in _cache:
        _parse()
    records, errors = imports.check_rows(_cache["parsed"].rows, villages=_villages(), default_village=None)
    assert not errors, errors[:3]
    _cache["records"] = records


def _write():
    from services.ledger import imports

    if "records" not in _cache:
        _validate()
    with transaction.atomic():
        created, updated = imports.apply_records(_cache["records"])
        assert created == IMPORT_ROWS, (created, updated)
        transaction.set_rollback(True)


def _importer():
    from django.contrib.auth import get_user_model

    from portal.models import Region

    user = get_user_model().objects.filter(phone="13900000003").first()  # 西吉县 county officer (seed_demo)
    return user, Region.objects.get(code="640422100201")


def _end_to_end():
    from services.ledger import imports

    user, village = _importer()
    with transaction.atomic():
        job = imports.import_start(actor=user, content=import_workbook(), filename="台账.xlsx", default_village=village)
        job = imports.import_validate(job=job)
        assert not job.errors, job.errors[:3]
        job = imports.import_apply(job=job, actor=user)
        assert job.created_count == IMPORT_ROWS
        transaction.set_rollback(True)


def register(suite) -> None:
    from django.core.management import call_command

    suite.setup(lambda: call_command("seed_demo", stdout=io.StringIO()))
    suite.setup(lambda: import_workbook())
    label = f"import {IMPORT_ROWS:,} rows"
    suite.throughput(f"{label}: parse xlsx", _parse, prepare=lambda: None, items=IMPORT_ROWS, repeat=3)
    suite.throughput(f"{label}: validate", _validate, prepare=_parse, items=IMPORT_ROWS, repeat=3)
    suite.throughput(f"{label}: write", _write, prepare=_validate, items=IMPORT_ROWS, repeat=3)
    suite.throughput(f"{label}: end to end (job)", _end_to_end, prepare=lambda: None, items=IMPORT_ROWS, repeat=3)
