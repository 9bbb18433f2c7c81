"""Demo volunteer-service records, so the whole path works on `make run`: 海小勇 (13900000006) logs service
for the elder he is paired with, the liaison 马兰花 (13900000001) confirms it, his totals move, and the
certificate PDF opens.

- confirmed records for his paired elder over the last four months (the older ones vouched for by the
  liaison's confirmation, the pairing being newer), each passing services.records.rules.check_record as of the day
  it was logged (the working-day deadline is measured from then);
- one submitted record from two days ago, waiting for the liaison;
- a training, an award and an evaluation from the demo elder association (大营村老年协会).

Runs after services.pairing.demo (it needs the pairing); idempotent: a giver who already has volunteer
records for the elder gets no more, and the training/award/evaluation are looked up by name.
Purchased records are services/purchasing/demo.py's.
"""

import datetime
import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portal.models import User
from services.models import ServiceItem
from services.pairing.models import Pairing, PairingStatus
from services.records.models import RecordKind, RecordStatus, ServiceRecord
from services.records.rules import check_record
from volunteers.models import Organisation
from volunteers.models_record import Award, Evaluation, Rating, Training

logger = logging.getLogger(__name__)

# days ago, start hour, hours, service item (of the seeded catalogue), place, what was done
CONFIRMED = [
    (118, 9, 2, "上门助洁助浴", "老人家中", "帮老人挑水、劈柴，打扫院子"),
    (104, 14, 2, "电话问候与聊天陪伴", "老人家中", "陪老人聊天，帮他给在外打工的儿子打视频电话"),
    (90, 9, 3, "上门助洁助浴", "老人家中", "拆洗被褥，整理厨房，检查电线"),
    (76, 15, 2, "电话问候与聊天陪伴", "村文化广场", "陪老人看秦腔演出"),
    (62, 9, 2, "代购代办", "老人家中", "代购米面油和降压药，送到家"),
    (48, 14, 2, "上门助洁助浴", "老人家中", "帮老人收拾院里的洋芋，清理炉灶"),
    (34, 9, 3, "电话问候与聊天陪伴", "老人家中", "陪老人说话，读了儿子寄来的信"),
    (20, 14, 2, "冬季取暖安全检查", "老人家中", "检查煤炉和烟囱，装好烟筒弯头，防一氧化碳中毒"),
    (9, 9, 2, "上门助洁助浴", "老人家中", "帮老人洗头剪指甲，打扫屋子"),
]
SUBMITTED = (2, 15, 2, "电话问候与聊天陪伴", "老人家中", "陪老人聊天，帮他量了血压，记在本子上")

ASSOCIATION = "大营村老年协会"


def _at(days_ago: int, hour: int) -> datetime.datetime:
    day = timezone.localdate() - datetime.timedelta(days=days_ago)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def _item(name: str):
    """The seeded item by name; on a catalogue without it, any published non-professional item."""
    items = ServiceItem.objects.filter(professional=False, published=True).order_by("pk")
    return items.filter(name=name).first() or items.first()


def _record(*, giver, elder, liaison, row, status) -> ServiceRecord | None:
    days, hour, length, item_name, place, content = row
    item = _item(item_name)
    if item is None:
        return None
    start = _at(days, hour)
    logged = start + datetime.timedelta(hours=length, minutes=30)
    confirmed = status == RecordStatus.CONFIRMED
    record = ServiceRecord(
        giver=giver,
        elder=elder,
        region_id=elder.village_id,
        service_item=item,
        kind=RecordKind.VOLUNTEER,
        start=start,
        end=start + datetime.timedelta(hours=length),
        place=place,
        content=content,
        status=status,
        confirmed_by=liaison if confirmed else None,
        confirmed_at=logged + datetime.timedelta(days=1) if confirmed else None,
        recorded_by=giver,
        created_at=logged,
    )
    try:
        check_record(record, now=logged + datetime.timedelta(days=1))
    except ValidationError as exc:  # e.g. a clash with a record another seeder made: leave this one out
        logger.warning("demo record %s skipped: %s", start.date(), "; ".join(exc.messages))
        return None
    record.save()
    # auto_now_add wrote "now": put back when it was logged, as if entered that day
    ServiceRecord.objects.filter(pk=record.pk).update(created_at=logged, updated_at=record.confirmed_at or logged)
    return record


def _entries(*, giver, organisation, admin) -> None:
    today = timezone.localdate()
    Training.objects.get_or_create(
        volunteer=giver,
        organisation=organisation,
        name="农村留守老年人关爱服务志愿者培训",
        defaults={
            "content": "留守老人探访要点、安全隐患识别（煤炉、用电）、紧急情况报告流程",
            "hours": 4,
            "organiser": "西吉县民政局",
            "date": today - datetime.timedelta(days=100),
            "recorded_by": admin,
        },
    )
    Award.objects.get_or_create(
        volunteer=giver,
        organisation=organisation,
        name="大营村优秀志愿者",
        defaults={"date": today - datetime.timedelta(days=30), "granted_by": "吉强镇人民政府", "recorded_by": admin},
    )
    Evaluation.objects.get_or_create(
        volunteer=giver,
        organisation=organisation,
        date=today - datetime.timedelta(days=30),
        defaults={
            "rating": Rating.EXCELLENT,
            "comment": "每周按时上门，老人和家属都很满意。",
            "recorded_by": admin,
        },
    )


@transaction.atomic
def seed() -> None:
    giver = User.objects.filter(phone="13900000006").first()
    liaison = User.objects.filter(phone="13900000001").first()
    if giver is None or liaison is None:
        return
    pairing = Pairing.objects.filter(giver_user=giver, status=PairingStatus.ACTIVE).select_related("elder").first()
    if (
        pairing is not None
        and not ServiceRecord.objects.filter(giver=giver, elder=pairing.elder, kind=RecordKind.VOLUNTEER).exists()
    ):
        elder = pairing.elder
        for row in CONFIRMED:
            _record(giver=giver, elder=elder, liaison=liaison, row=row, status=RecordStatus.CONFIRMED)
        _record(giver=giver, elder=elder, liaison=liaison, row=SUBMITTED, status=RecordStatus.SUBMITTED)
    association = Organisation.objects.filter(name=ASSOCIATION).first()
    if association is not None:
        _entries(giver=giver, organisation=association, admin=liaison)
