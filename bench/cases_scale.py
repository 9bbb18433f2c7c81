"""Scale mode (issue 14): the county-level staff pages over the stored per-elder state, each against the best
indexed query for the same rows. Run on PostgreSQL:

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_scale_bench BENCH_ELDERS=1000000 \
        BENCH_MODULES=scale BENCH_REPEAT=10 make bench

Data: BENCH_ELDERS elders (generate_load: families, visits, alerts; the stored state is computed at the end,
set-based). The floors read the stored columns (Elder.tier, tier_rank, next_due_at) through the partial
indexes of migration 0011; they are what a page cannot do better than.
"""

import io

from django.core.management import call_command
from django.utils import timezone

from .cases_care import _ensure_data

COUNTY_OFFICER = "13900000003"  # 西吉县
LIAISON = "13900000001"  # 大营村
COUNTY_RANGE = ["640422000000", "640422999999"]
VILLAGE = "640422100201"


def _now():
    return timezone.now()


def register(suite) -> None:
    suite.setup(lambda: call_command("seed_demo", stdout=io.StringIO()))
    suite.setup(_ensure_data)

    overdue_floor = "scale floor: overdue elders of a county, 50 (stored due date)"
    suite.sql_floor(
        overdue_floor,
        "SELECT e.id, e.name, v.name, e.tier, e.last_visit_at, e.next_due_at, COUNT(*) OVER () "
        "FROM services_elder e JOIN portal_region v ON v.code = e.village_id "
        "WHERE e.status = 'active' AND e.village_id BETWEEN %s AND %s AND e.next_due_at < %s "
        "ORDER BY e.next_due_at LIMIT 50",
        [*COUNTY_RANGE, _now()],
    )
    suite.page(
        "scale: overdue list (county)", "/services/visits/due/?when=overdue", user=COUNTY_OFFICER, floor=overdue_floor
    )

    counts_floor = "scale floor: workbench counts + 50 villages of a county"
    suite.sql_floor(
        counts_floor,
        "SELECT v.code, v.name, "
        "(SELECT COUNT(*) FROM services_elder e WHERE e.status = 'active' AND e.village_id BETWEEN %s AND %s "
        "AND e.next_due_at < %s), "
        "(SELECT COUNT(*) FROM services_alert a WHERE a.village_id BETWEEN %s AND %s AND a.status <> 'closed') "
        "FROM portal_region v WHERE v.level = 'village' AND v.code BETWEEN %s AND %s ORDER BY v.code LIMIT 50",
        [*COUNTY_RANGE, _now(), *COUNTY_RANGE, *COUNTY_RANGE],
    )
    suite.page("scale: workbench (county)", "/portal/workbench/", user=COUNTY_OFFICER, floor=counts_floor)

    ledger_floor = "scale floor: ledger page of a county, 25 (stored tier)"
    suite.sql_floor(
        ledger_floor,
        "SELECT e.id, e.name, v.name, e.tier, e.last_visit_at, COUNT(*) OVER () "
        "FROM services_elder e JOIN portal_region v ON v.code = e.village_id "
        "WHERE e.status = 'active' AND e.village_id BETWEEN %s AND %s ORDER BY e.tier_rank, e.name, e.id LIMIT 25",
        COUNTY_RANGE,
    )
    suite.page("scale: ledger (county)", "/services/elders/", user=COUNTY_OFFICER, floor=ledger_floor)

    village_floor = "scale floor: ledger page of a village, 25"
    suite.sql_floor(
        village_floor,
        "SELECT e.id, e.name, e.tier, e.last_visit_at, COUNT(*) OVER () FROM services_elder e "
        "WHERE e.status = 'active' AND e.village_id = %s ORDER BY e.tier_rank, e.name, e.id LIMIT 25",
        [VILLAGE],
    )
    suite.page("scale: ledger (village liaison)", "/services/elders/", user=LIAISON, floor=village_floor)

    alerts_floor = "scale floor: open alerts of a county, 50"
    suite.sql_floor(
        alerts_floor,
        "SELECT a.id, a.reference, a.created_at, a.kind, e.name, v.name, a.status, a.due_at, COUNT(*) OVER () "
        "FROM services_alert a JOIN portal_region v ON v.code = a.village_id "
        "LEFT JOIN services_elder e ON e.id = a.elder_id "
        "WHERE a.village_id BETWEEN %s AND %s AND a.status <> 'closed' ORDER BY a.created_at DESC LIMIT 50",
        COUNTY_RANGE,
    )
    suite.page("scale: alerts (county)", "/services/alerts/", user=COUNTY_OFFICER, floor=alerts_floor)

    grouped_floor = "scale floor: elders per village × tier, overdue (stored)"
    suite.sql_floor(
        grouped_floor,
        "SELECT e.village_id, e.tier, COUNT(*), SUM(CASE WHEN e.next_due_at < %s THEN 1 ELSE 0 END) "
        "FROM services_elder e WHERE e.status = 'active' AND e.village_id BETWEEN %s AND %s GROUP BY 1, 2",
        [_now(), *COUNTY_RANGE],
    )
    suite.page(
        "scale: supervision dashboard (county)", "/services/supervision/", user=COUNTY_OFFICER, floor=grouped_floor
    )
    suite.page("scale: ranking (county)", "/services/supervision/ranking/", user=COUNTY_OFFICER, floor=grouped_floor)
