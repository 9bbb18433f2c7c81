"""Supervision dashboards (督促检查) over generated data: BENCH_ELDERS elders (default 100,000) with their
visits and alerts (generate_load, services.care.load) and BENCH_RECORDS service records (generate_records),
all in 西吉县.

Floor: one hand-written aggregate query — active elders per township and priority under the priority rule,
with the number overdue under the default plan (the visits-due floor of cases_care, grouped instead of
listed). The dashboard does more in its constant handful of queries (pairings, staleness, visits, alerts,
medians, hours, purchasing) and is compared with this floor; the target is under one second.
"""

import io

from django.core.management import call_command

from .cases_care import COUNTY, TOWNSHIP, _due_floor
from .cases_care import _ensure_data as _ensure_care_data
from .cases_records import _ensure_data as _ensure_records

COUNTY_OFFICER = "13900000003"
TOWNSHIP_OFFICER = "13900000002"
URL = "/services/supervision/"


def _grouped_floor(vendor: str, prefix: str) -> tuple[str, list]:
    """cases_care's due floor, its final SELECT replaced by a GROUP BY township × priority."""
    sql, params = _due_floor(vendor, prefix)
    head, tail = sql.split("SELECT y.*, COUNT(*) OVER () FROM (SELECT p.id, p.name, v.name AS village, p.pr, ")
    due = tail.split("p.last_visit_at, ", 1)[1].split(" AS due FROM p", 1)[0]
    now = "%s" if vendor == "postgresql" else "julianday(%s)"
    grouped = (
        f"SELECT substr(p.village_id, 1, 9) AS township, p.pr, COUNT(*), "
        f"SUM(CASE WHEN {due} < {now} THEN 1 ELSE 0 END) FROM p GROUP BY 1, 2"
    )
    return head + grouped, params


def register(suite) -> None:
    suite.setup(lambda: call_command("seed_demo", stdout=io.StringIO()))
    suite.setup(_ensure_care_data)
    suite.setup(_ensure_records)
    from django.db import connection

    suite.sql_floor("SQL floor: elders per township and priority, overdue", *_grouped_floor(connection.vendor, COUNTY))
    floor = "SQL floor: elders per township and priority, overdue"
    suite.page("supervision: county dashboard, this month", URL, user=COUNTY_OFFICER, floor=floor)
    suite.page("supervision: county dashboard, this year", URL + "?preset=this_year", user=COUNTY_OFFICER, floor=floor)
    suite.page(
        "supervision: township dashboard, this month",
        URL + f"?region={TOWNSHIP.ljust(12, '0')}",
        user=TOWNSHIP_OFFICER,
        floor=floor,
    )
    suite.page("supervision: ranking of a county's villages", URL + "ranking/", user=COUNTY_OFFICER, floor=floor)
    suite.page("supervision: county export (xlsx)", URL + "export.xlsx", user=COUNTY_OFFICER, floor=floor)
