"""Visits due and the alert list over generated data (BENCH_ELDERS elders, default 100,000).

Floors: one hand-written query fetching the page's rows — for the due list, the overdue elders of the
area under the priority rule and the default plan, earliest due first, with the total; for the alerts,
the open alerts of the area, newest first. The pages do a little more (county plans, open alerts,
follow-ups) and are compared with these floors.
"""

import io
import os

from django.core.management import call_command
from django.utils import timezone

from services.ledger.models import birth_cutoff

COUNTY = "640422"  # 西吉县 (county officer 13900000003)
TOWNSHIP = "640422100"  # 吉强镇 (township officer 13900000002)


def _ensure_data() -> None:
    from services.models import Elder, Visit

    wanted = int(os.environ.get("BENCH_ELDERS", "100000"))
    if Elder.objects.count() < wanted:
        call_command("generate_load", elders=wanted - Elder.objects.count(), stdout=io.StringIO())
    if not Visit.objects.exists():  # elders made by someone else's setup, without visits
        from services.care.load import generate

        generate(elder_ids=list(Elder.objects.values_list("pk", flat=True)), seed=1)


DIFFICULT = "('destitute','subsistence','registered_poor')"


def _due_floor(vendor: str, prefix: str) -> tuple[str, list]:
    """The same rows as the overdue list, by hand: the priority rule evaluated once per row (CTEs), the
    default plan's intervals per priority, the earliest due date, the total in the same query. It leaves out
    what the page adds (county plans, open alerts, follow-ups)."""
    cutoff = birth_cutoff(80)
    difficult = f"s.economic_status IN {DIFFICULT}"
    old, disabled = "s.birth_date <= %s", "s.ability_level IN ('moderate','severe','total')"
    attention = f"({difficult} OR {old} OR s.ability_level <> 'intact')"
    raised = "(s.living_arrangement = 'alone' OR NOT s.ok)"
    rule = (
        f"CASE WHEN ({difficult} AND ({old} OR {disabled})) OR ({attention} AND {raised}) THEN 'key' "
        f"WHEN {attention} OR {raised} THEN 'attention' ELSE 'normal' END"
    )
    sql = (
        "WITH s AS (SELECT e.id, e.name, e.village_id, e.last_visit_at, e.last_home_visit_at, e.created_at, "
        "e.economic_status, e.birth_date, e.ability_level, e.living_arrangement, EXISTS (SELECT 1 FROM "
        "services_familycontact f WHERE f.elder_id = e.id AND f.can_support AND f.phone <> '') AS ok "
        "FROM services_elder e WHERE e.status = 'active' AND e.village_id LIKE %s), "
        f"p AS (SELECT s.id, s.name, s.village_id, s.last_visit_at, s.last_home_visit_at, s.created_at, {rule} AS pr "
        "FROM s) "
    )
    if vendor == "postgresql":
        due = (
            "LEAST(COALESCE(p.last_visit_at, p.created_at) + CASE p.pr WHEN 'key' THEN interval '7 days' "
            "WHEN 'attention' THEN interval '14 days' ELSE interval '30 days' END, "
            "COALESCE(p.last_home_visit_at, p.created_at) + CASE p.pr WHEN 'key' THEN interval '30 days' "
            "WHEN 'attention' THEN interval '60 days' ELSE interval '90 days' END)"
        )
        now = "%s"
    else:  # SQLite keeps datetimes as text: compare Julian days
        due = (
            "MIN(julianday(COALESCE(p.last_visit_at, p.created_at)) + CASE p.pr WHEN 'key' THEN 7 "
            "WHEN 'attention' THEN 14 ELSE 30 END, julianday(COALESCE(p.last_home_visit_at, p.created_at)) + "
            "CASE p.pr WHEN 'key' THEN 30 WHEN 'attention' THEN 60 ELSE 90 END)"
        )
        now = "julianday(%s)"
    sql += (
        f"SELECT y.*, COUNT(*) OVER () FROM (SELECT p.id, p.name, v.name AS village, p.pr, p.last_visit_at, {due} AS due "
        f"FROM p JOIN portal_region v ON v.code = p.village_id) y WHERE y.due < {now} ORDER BY y.due LIMIT 50"
    )
    now_value = timezone.now() if vendor == "postgresql" else timezone.now().strftime("%Y-%m-%d %H:%M:%S")
    return sql, [prefix + "%", *[cutoff] * rule.count("%s"), now_value]


def register(suite) -> None:
    suite.setup(lambda: call_command("seed_demo", stdout=io.StringIO()))
    suite.setup(_ensure_data)
    from django.db import connection

    suite.sql_floor("SQL floor: elders overdue in a township", *_due_floor(connection.vendor, TOWNSHIP))
    suite.page(
        "visits due, overdue (township officer)",
        "/services/visits/due/?when=overdue",
        user="13900000002",
        floor="SQL floor: elders overdue in a township",
    )
    suite.sql_floor("SQL floor: elders overdue in a county", *_due_floor(connection.vendor, COUNTY))
    suite.page(
        "visits due, overdue (county officer)",
        "/services/visits/due/?when=overdue",
        user="13900000003",
        floor="SQL floor: elders overdue in a county",
    )
    suite.sql_floor(
        "SQL floor: open alerts of a county",
        "SELECT a.id, a.reference, a.created_at, a.kind, e.name, a.person_name, v.name, a.status, a.due_at "
        "FROM services_alert a JOIN portal_region v ON v.code = a.village_id "
        "LEFT JOIN services_elder e ON e.id = a.elder_id "
        "WHERE a.village_id LIKE %s AND a.status <> 'closed' ORDER BY a.created_at DESC LIMIT 50",
        [COUNTY + "%"],
    )
    suite.page(
        "alert list, open (county officer)",
        "/services/alerts/",
        user="13900000003",
        floor="SQL floor: open alerts of a county",
    )
