"""Builders for the purchasing tests: a provider with its admin and members, items, contracts, and confirmed
purchased-service records created directly (valid by construction: the hours rules are tested elsewhere)."""

import datetime
import itertools
from decimal import Decimal

import pytest
import time_machine

from django.utils import timezone

from portal.models import Region
from services.catalogue.selectors import categories_ensure
from services.models import ServiceItem, ServiceRecord
from services.purchasing import settlements
from services.purchasing.models import ContractLine, PurchaseContract, Unit
from services.records.models import RecordKind, RecordStatus
from services.tests.factories_care import make_elder
from tests.factories import UserFactory
from volunteers.models import Membership, MembershipStatus
from volunteers.organisations import kinds_ensure
from volunteers.tests.conftest import make_organisation

COUNTY = "640422000000"  # 西吉县
VILLAGE = "640422100201"  # 大营村委会
OTHER_COUNTY_VILLAGE = "640104001002"  # a village of 兴庆区 (银川市)
MONTH = datetime.date(2026, 10, 1)
_minute = itertools.count(0)


def make_item(name: str = "上门助洁", category: int = 0) -> ServiceItem:
    return ServiceItem.objects.get_or_create(
        category=categories_ensure()[category], name=name, defaults={"description": name}
    )[0]


def make_provider(*, admin=None, name: str = "大营村老年协会", code: str = VILLAGE, **kwargs):
    kinds_ensure()
    admin = admin or UserFactory(real_name=f"{name}会长")
    return make_organisation(admin=admin, name=name, code=code, **kwargs), admin


def add_member(organisation, **kwargs):
    user = UserFactory(**kwargs)
    Membership.objects.create(organisation=organisation, user=user, status=MembershipStatus.ACTIVE)
    return user


def make_contract(
    *,
    organisation,
    officer=None,
    region: str = COUNTY,
    start=datetime.date(2026, 1, 1),
    end=datetime.date(2026, 12, 31),
    budget="100000.00",
    lines=(),
    number="XJ-2026-001",
) -> PurchaseContract:
    """A contract saved directly (the service's checks are tested through contract_save)."""
    contract = PurchaseContract.objects.create(
        number=number,
        region=Region.objects.get(code=region),
        organisation=organisation,
        start=start,
        end=end,
        budget=Decimal(budget),
        created_by=officer or UserFactory(),
    )
    for line in lines:
        ContractLine.objects.create(contract=contract, **line)
    return contract


def line(item, price="30.00", unit=Unit.HOUR, **caps) -> dict:
    return {"service_item": item, "unit": unit, "unit_price": Decimal(price), **caps}


def local(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def make_record(
    *,
    organisation,
    giver,
    elder,
    item,
    start: datetime.datetime,
    minutes: int = 60,
    status=RecordStatus.CONFIRMED,
    kind=RecordKind.PURCHASED,
    **fields,
) -> ServiceRecord:
    return ServiceRecord.objects.create(
        giver=giver,
        organisation=organisation,
        elder=elder,
        region_id=fields.pop("region_id", elder.village_id),
        service_item=item,
        kind=kind,
        start=start,
        end=start + datetime.timedelta(minutes=minutes),
        place="老人家中",
        content="打扫卫生",
        status=status,
        recorded_by=fields.pop("recorded_by", giver),
        confirmed_at=timezone.now() if status != RecordStatus.SUBMITTED else None,
        **fields,
    )


def reverse_settled(record: ServiceRecord, *, actor, entered: datetime.datetime, reason="重复登记") -> ServiceRecord:
    """A reversal as services.records.actions.record_reverse writes it (its permission rules are tested elsewhere), entered
    at `entered`: which month's settlement takes it depends on that moment, so no test may leave it to the clock."""
    with time_machine.travel(entered, tick=False):
        return _reversal(record, actor=actor, reason=reason)


def _reversal(record: ServiceRecord, *, actor, reason: str) -> ServiceRecord:
    return ServiceRecord.objects.create(
        giver_id=record.giver_id,
        organisation_id=record.organisation_id,
        elder_id=record.elder_id,
        region_id=record.region_id,
        service_item_id=record.service_item_id,
        kind=record.kind,
        start=record.start,
        end=record.end,
        sign=-1,
        place=record.place,
        content=record.content,
        status=RecordStatus.CONFIRMED,
        reason=reason,
        confirmed_by=actor,
        confirmed_at=timezone.now(),
        recorded_by=actor,
        reverses=record,
    )


@pytest.fixture
def world(county_officer):
    """An approved association with an admin and a member, two elders of 大营村, two items, a 2026 contract."""
    organisation, admin = make_provider()
    giver = add_member(organisation, real_name="马小梅")
    clean, meals = make_item("上门助洁"), make_item("助餐送餐")
    contract = make_contract(
        organisation=organisation,
        officer=county_officer,
        lines=[line(clean, "30.00"), line(meals, "12.50", unit=Unit.VISIT)],
    )

    class World:
        pass

    w = World()
    w.organisation, w.admin, w.giver, w.officer = organisation, admin, giver, county_officer
    w.clean, w.meals, w.contract = clean, meals, contract
    w.elder, w.elder2 = make_elder(name="李奶奶"), make_elder(name="王爷爷")
    return w


def build(world, month=MONTH, actor=None):
    return settlements.settlement_build(actor=actor or world.admin, contract=world.contract, month=month)
