"""Demo purchasing in 西吉县: the county officer 李建国 (13900000003) buys care services for 2026 from
大营村老年协会. Its members 海小勇 and 马小梅 served elders of 大营村 in September and October 2026
(purchased-service records, confirmed by the association's admin 马兰花). September's settlement is
approved and paid; October's is built and submitted by 马兰花, waiting for the officer to approve it.

The records are bulk-created consistently (confirmed, non-overlapping slots, members since before the
service) rather than through services.records.actions: they lie beyond its 10-working-day logging window.
Runs after services.catalogue.demo (items), services.ledger.demo (elders) and volunteers.demo (the association).
Idempotent: nothing is added once the association has purchased records in the month.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from portal.models import Region, User
from services.catalogue.demo import service_items_ensure
from services.models import Elder, ServiceItem, ServiceRecord
from services.purchasing import rules as purchasing_rules
from services.purchasing import settlements
from services.purchasing.models import ContractLine, PurchaseContract, Settlement, Unit
from services.records.models import RecordKind, RecordStatus, minutes_between
from volunteers.models import Membership, MembershipStatus, Organisation

COUNTY = "640422000000"  # 西吉县
VILLAGE = "640422100201"  # 大营村委会
ASSOCIATION = "大营村老年协会"
NUMBER = "西民购〔2026〕8号"
YEAR = 2026
SLOTS = ((8, 30), (10, 30), (14, 30), (16, 30))
# item name, unit, price, cap per elder and month, cap per month
LINES = [
    ("上门助洁助浴", Unit.HOUR, "30.00", "20", None),
    ("农村老饭桌助餐", Unit.VISIT, "8.00", None, None),
    ("代购代办", Unit.PERSON_TIME, "10.00", None, "40"),
]
NOT_IN_CONTRACT = "电话问候与聊天陪伴"


def _items() -> dict[str, ServiceItem]:
    service_items_ensure()
    names = [row[0] for row in LINES] + [NOT_IN_CONTRACT]
    return {item.name: item for item in ServiceItem.objects.filter(name__in=names)}


def _contract(officer, association, items) -> PurchaseContract:
    contract = PurchaseContract.objects.filter(organisation=association, number=NUMBER).first()
    if contract is not None:
        return contract
    contract = PurchaseContract.objects.create(
        number=NUMBER,
        region=Region.objects.get(code=COUNTY),
        organisation=association,
        start=datetime.date(YEAR, 1, 1),
        end=datetime.date(YEAR, 12, 31),
        budget=Decimal("60000.00"),
        note="农村留守老人居家上门服务（助洁、助餐、代办），按月结算，凭确认的服务记录支付。",
        created_by=officer,
    )
    for name, unit, price, elder_cap, month_cap in LINES:
        ContractLine.objects.create(
            contract=contract,
            service_item=items[name],
            unit=unit,
            unit_price=Decimal(price),
            cap_per_elder=Decimal(elder_cap) if elder_cap else None,
            cap_per_month=Decimal(month_cap) if month_cap else None,
        )
    return contract


def _plan(elders, items, *, heavy: bool):
    """(item, elder, minutes) of one month: cleaning for each elder (one elder past the 20 h cap when
    `heavy`), meals for four, errands for all, and two calls the contract does not cover."""
    plan = []
    for i, elder in enumerate(elders):
        sessions = 11 if heavy and i == 0 else (6 if heavy else 3)
        plan += [(items["上门助洁助浴"], elder, 120)] * sessions
        if i < 4:
            plan += [(items["农村老饭桌助餐"], elder, 60)] * (10 if heavy else 5)
        plan += [(items["代购代办"], elder, 60)] * (3 if heavy else 2)
    plan += [(items[NOT_IN_CONTRACT], elders[0], 30)] * 2
    return plan


def _records(month: datetime.date, *, association, givers, admin, elders, items, heavy: bool) -> int:
    start_of_month = timezone.make_aware(datetime.datetime.combine(month, datetime.time.min))
    end_of_month = timezone.make_aware(
        datetime.datetime.combine(purchasing_rules.month_last_day(month), datetime.time.max)
    )
    if ServiceRecord.objects.filter(
        organisation=association, kind=RecordKind.PURCHASED, start__range=(start_of_month, end_of_month)
    ).exists():
        return 0
    tz = timezone.get_current_timezone()
    # The givers' own volunteer service (services.records.demo) takes their time too: a slot that overlaps
    # it is skipped, as services.records.rules.check_record would refuse it.
    busy = defaultdict(list)
    for giver_id, busy_start, busy_end in (
        ServiceRecord.objects.live()
        .filter(giver__in=givers, start__lt=end_of_month + datetime.timedelta(days=31), end__gt=start_of_month)
        .values_list("giver_id", "start", "end")
    ):
        busy[giver_id].append((busy_start, busy_end))
    rows, cursor = [], {g.pk: 0 for g in givers}
    for n, (item, elder, minutes) in enumerate(_plan(elders, items, heavy=heavy)):
        giver = givers[n % len(givers)]
        while True:
            day_index, slot = divmod(cursor[giver.pk], len(SLOTS))
            cursor[giver.pk] += 1
            day = month + datetime.timedelta(days=day_index)
            start = datetime.datetime(day.year, day.month, day.day, *SLOTS[slot], tzinfo=tz)
            end = start + datetime.timedelta(minutes=minutes)
            if not any(taken_start < end and start < taken_end for taken_start, taken_end in busy[giver.pk]):
                break
        rows.append(
            ServiceRecord(
                giver=giver,
                organisation=association,
                elder=elder,
                region_id=elder.village_id,
                service_item=item,
                kind=RecordKind.PURCHASED,
                start=start,
                end=end,
                place="老人家中",
                content=f"{item.name}：{elder.name}",
                status=RecordStatus.CONFIRMED,
                confirmed_by=admin,
                confirmed_at=end + datetime.timedelta(days=1),
                recorded_by=giver,
            )
        )
    for row in rows:  # bulk_create skips save(): minutes are derived here the one way
        row.minutes = minutes_between(row.start, row.end)
    ServiceRecord.objects.bulk_create(rows)
    return len(rows)


def _members_since(association, users, since: datetime.datetime) -> None:
    """The demo members joined the association before the service they delivered."""

    Membership.objects.filter(
        organisation=association, user__in=users, status=MembershipStatus.ACTIVE, created_at__gt=since
    ).update(created_at=since, decided_at=since)


@transaction.atomic
def seed() -> None:
    officer = User.objects.filter(phone="13900000003").first()
    admin = User.objects.filter(phone="13900000001").first()
    association = Organisation.objects.filter(name=ASSOCIATION, status="approved").first()
    givers = list(User.objects.filter(phone__in=["13900000006", "13900000021"]).order_by("phone"))
    elders = list(Elder.objects.filter(village_id=VILLAGE).order_by("pk")[:8])
    if officer is None or admin is None or association is None or not givers or not elders:
        return
    items = _items()
    if len(items) < len(LINES) + 1:
        return
    _members_since(association, [admin, *givers], datetime.datetime(YEAR, 1, 1, tzinfo=timezone.get_current_timezone()))
    contract = _contract(officer, association, items)
    september, october = datetime.date(YEAR, 9, 1), datetime.date(YEAR, 10, 1)
    common = {"association": association, "givers": givers, "admin": admin, "elders": elders, "items": items}
    _records(september, heavy=False, **common)
    _records(october, heavy=True, **common)

    if not Settlement.objects.filter(contract=contract, month=september).exists():
        settled = settlements.settlement_build(actor=admin, contract=contract, month=september)
        settlements.settlement_submit(actor=admin, settlement=settled)
        settlements.settlement_approve(actor=officer, settlement=settled)
        settlements.settlement_mark_paid(
            actor=officer, settlement=settled, paid_on=datetime.date(YEAR, 10, 20), voucher_no="XJCZ-2026-10-0135"
        )
    if not Settlement.objects.filter(contract=contract, month=october).exists():
        draft = settlements.settlement_build(actor=admin, contract=contract, month=october)
        settlements.settlement_submit(actor=admin, settlement=draft)
