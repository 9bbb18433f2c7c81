"""Service records at scale (issue 7): a giver's hours page, an organisation's pending-confirmation list and
a county's monthly totals, over BENCH_RECORDS generated records (default 200,000; the issue's target is
2,000,000: `BENCH_RECORDS=2000000 make bench`).

The demo volunteer 海小勇 (13900000006) holds 2,000 of them; 马兰花 (13900000001) runs 大营村老年协会, which
holds every generated record, the newest ten days of them waiting for confirmation.
"""

import io
import os

from django.core.management import call_command

RECORDS = int(os.environ.get("BENCH_RECORDS", "200000"))
GIVER = "13900000006"
ORG_ADMIN = "13900000001"
COUNTY_OFFICER = "13900000003"
ORGANISATION = "大营村老年协会"


def _ensure_data() -> None:
    from services.models import ServiceRecord

    have = ServiceRecord.objects.count()
    if have < RECORDS:
        out = io.StringIO()
        call_command(
            "generate_records",
            records=RECORDS - have,
            focus_phone=GIVER if have == 0 else "",
            organisation=ORGANISATION,
            seed=have + 7,
            stdout=out,
        )
        print(f"  generate_records: {out.getvalue().strip()}", flush=True)


def register(suite) -> None:
    suite.setup(_ensure_data)
    suite.page("records: my hours (giver with 2,000 records)", "/services/records/", user=GIVER)
    suite.sql_floor(
        "SQL floor: pending records of an organisation",
        "SELECT r.id, r.start, r.minutes, r.kind, r.status, u.real_name, e.name, i.name "
        "FROM services_servicerecord r JOIN portal_user u ON u.id = r.giver_id "
        "LEFT JOIN services_elder e ON e.id = r.elder_id "
        "JOIN services_serviceitem i ON i.id = r.service_item_id "
        "JOIN volunteers_organisation o ON o.id = r.organisation_id "
        "WHERE o.name = %s AND r.status = 'submitted' ORDER BY r.start DESC LIMIT 50",
        [ORGANISATION],
    )
    suite.page(
        "records: pending list to confirm (organisation admin)",
        "/volunteers/records/?status=submitted&to_confirm=on",
        user=ORG_ADMIN,
        floor="SQL floor: pending records of an organisation",
    )

    def county_totals():
        from portal.models import User
        from services.records.selectors import county_monthly_totals

        return list(county_monthly_totals(user=User.objects.get(phone=COUNTY_OFFICER)))

    suite.call("records: monthly totals per county (one aggregate query)", county_totals, repeat=5)
