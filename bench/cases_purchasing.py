"""Purchasing (issue 8): building one contract-month settlement over the generated service records, and the
contract list / settlement pages.

Data: the records of bench/cases_records.py (BENCH_RECORDS, default 200,000; `BENCH_RECORDS=2000000` for the
issue's scale), all held by 大营村老年协会, one in ten purchased; the demo contract of
services/purchasing/demo.py, given a line for every item the generated records use. The month built is the
latest full month whose settlement is still open (a draft or none) — rebuilt on every repeat. Target: under
2 s, the quantities summed in the database (GROUP BY item), only that organisation's month read.
"""

import datetime

from bench.cases_records import ORG_ADMIN, _ensure_data

COUNTY_OFFICER = "13900000003"
ASSOCIATION = "大营村老年协会"
STATE: dict = {}


def _prepare() -> None:
    from decimal import Decimal

    from django.utils import timezone

    from portal.models import User
    from services.models import ServiceItem
    from services.purchasing import demo as demo_purchasing
    from services.purchasing import settlements
    from services.purchasing.models import ContractLine, PurchaseContract, Settlement, SettlementStatus, Unit

    _ensure_data()
    demo_purchasing.seed()
    contract = PurchaseContract.objects.get(organisation__name=ASSOCIATION, number=demo_purchasing.NUMBER)
    have = set(contract.lines.values_list("service_item_id", flat=True))
    for n, item in enumerate(ServiceItem.objects.filter(professional=False).exclude(pk__in=have)):
        ContractLine.objects.create(
            contract=contract, service_item=item, unit=Unit.HOUR, unit_price=Decimal("20.00") + n
        )
    contract.budget = Decimal("100000000.00")  # the generated months are far above a real budget
    contract.save(update_fields=["budget"])
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    while month >= contract.start:
        open_ = not Settlement.objects.filter(contract=contract, month=month).exclude(status=SettlementStatus.DRAFT)
        if open_:
            break
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    admin = User.objects.get(phone=ORG_ADMIN)
    settlement = settlements.settlement_build(actor=admin, contract=contract, month=month)
    STATE.update(contract=contract, month=month, admin=admin, settlement=settlement)
    print(
        f"  purchasing: {month:%Y-%m} of {ASSOCIATION}: {settlement.billed_count:,} billed, "
        f"{settlement.excluded_count:,} not billable, total {settlement.total}",
        flush=True,
    )


def _build():
    from services.purchasing import settlements

    return settlements.settlement_build(actor=STATE["admin"], contract=STATE["contract"], month=STATE["month"])


def register(suite) -> None:
    suite.setup(_prepare)
    suite.call("purchasing: build one contract-month settlement", _build, repeat=3)
    suite.sql_floor(
        "SQL floor: contracts of a county",
        'SELECT c.id, c.number, o.name, r.name, c.start, c."end", c.budget, '
        "(SELECT SUM(s.total) FROM services_settlement s WHERE s.contract_id = c.id AND s.status IN ('approved', 'paid')) "
        "FROM services_purchasecontract c JOIN volunteers_organisation o ON o.id = c.organisation_id "
        "JOIN portal_region r ON r.code = c.region_id WHERE c.region_id BETWEEN %s AND %s "
        "ORDER BY c.start DESC LIMIT 25",
        ["640422000000", "640422999999"],
    )
    suite.page(
        "purchasing: contract list (county officer)",
        "/services/purchasing/contracts/",
        user=COUNTY_OFFICER,
        floor="SQL floor: contracts of a county",
    )

    def detail_url() -> str:
        return f"/services/purchasing/settlements/{STATE['settlement'].pk}/"

    def settlement_page():
        response = suite.client_for(ORG_ADMIN).get(detail_url())
        assert response.status_code == 200, response.status_code
        return response

    suite.call("purchasing: settlement detail (provider admin)", settlement_page, floor="view floor")

    def contract_page():
        response = suite.client_for(COUNTY_OFFICER).get(f"/services/purchasing/contracts/{STATE['contract'].pk}/")
        assert response.status_code == 200, response.status_code
        return response

    suite.call("purchasing: contract detail with spend (county officer)", contract_page, floor="view floor")
