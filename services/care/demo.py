"""Demo visits, follow-ups and alerts for the demo village's elders (runs after services.ledger.demo). Idempotent.

Some elders are overdue a visit; one alert is escalated to 吉强镇 so the township account 13900000002
sees it; one public report is waiting for the village; one alert went through the whole chain.
"""

import datetime
import random

from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from portal.models import Region, User
from services.care.alerts import deadline_for
from services.care.models import (
    Alert,
    AlertKind,
    AlertSource,
    AlertStatus,
    AlertStep,
    Condition,
    DutyKept,
    FollowUp,
    Mood,
    RiskLevel,
    Visit,
    VisitMethod,
)
from services.ledger.models import Elder, ElderStatus

VILLAGE = "640422100201"  # 大营村委会
TOWNSHIP_PREFIX = "640422100"  # 吉强镇
LIAISON_PHONE = "13900000001"
H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)


def _user(phone: str) -> User | None:
    return User.objects.filter(phone=phone).first()


def _visits(elders: list[Elder], liaison: User | None, now: datetime.datetime) -> None:
    rnd = random.Random(20261129)  # noqa: S311 — demo data
    for i, elder in enumerate(elders):
        if elder.visits.exists():
            continue
        # a third overdue (last contact 10–40 days ago), the rest recent; a few never reached
        days = [rnd.randint(10, 40)] if i % 3 == 0 else [rnd.randint(1, 6), rnd.randint(20, 35)]
        for n, ago in enumerate(days):
            when = now - ago * D - rnd.randint(1, 8) * H
            contact = not (i % 7 == 3 and n == 0)
            visit = Visit.objects.create(
                elder=elder,
                visitor=liaison,
                method=VisitMethod.HOME if (n == 1 or i % 4 == 1) else VisitMethod.PHONE,
                visited_at=when,
                contact_made=contact,
                living_conditions=rnd.choice(Condition.values) if contact else "",
                health=rnd.choice([Condition.GOOD, Condition.FAIR, Condition.POOR]) if contact else "",
                mood=rnd.choice(Mood.values) if contact else "",
                family_duty=(DutyKept.NOT_KEPT if i % 9 == 2 else DutyKept.KEPT) if contact else DutyKept.UNKNOWN,
                risk_level=(RiskLevel.MEDIUM if i % 5 == 0 else RiskLevel.NONE) if contact else RiskLevel.NONE,
                safety_risks="灶台旁堆放柴草" if contact and i % 5 == 0 else "",
                notes="" if contact else "电话无人接听，改日上门",
                next_visit_due=(when + 7 * D).date() if contact else None,
            )
            if contact and i % 6 == 1 and n == 0:
                FollowUp.objects.create(
                    visit=visit,
                    action="联系村医上门测量血压",
                    owner=liaison,
                    due_date=(when + 5 * D).date(),
                )
    # last-contact dates follow the visits (only contacts count)
    for elder in elders:
        last = elder.visits.filter(contact_made=True).aggregate(
            any=Max("visited_at"), home=Max("visited_at", filter=Q(method=VisitMethod.HOME))
        )
        Elder.objects.filter(pk=elder.pk).update(last_visit_at=last["any"], last_home_visit_at=last["home"])


def _alert(
    reference: str,
    *,
    elder: Elder | None,
    village: Region,
    kind: str,
    description: str,
    source: str,
    chain: list[tuple[str, User | None, str]],
    created: datetime.datetime,
    place: str = "",
    person_name: str = "",
    phone: str = "",
) -> Alert:
    if existing := Alert.objects.filter(reference=reference).first():
        return existing
    status = chain[-1][0]
    changed = created + (len(chain) - 1) * 2 * H
    alert = Alert.objects.create(
        reference=reference,
        elder=elder,
        village=village,
        kind=kind,
        description=description,
        place=place,
        person_name=person_name,
        source=source,
        reporter=chain[0][1],
        reporter_phone=phone,
        status=status,
        status_changed_at=changed,
        due_at=deadline_for(village_code=village.code, status=status, start=changed),
        content_hash=f"demo-{reference}",
        created_at=created,
        closed_at=changed if status == AlertStatus.CLOSED else None,
    )
    for n, (step, actor, note) in enumerate(chain):
        at = created + n * 2 * H
        AlertStep.objects.create(
            alert=alert,
            status=step,
            actor=actor,
            at=at,
            note=note,
            due_at=deadline_for(village_code=village.code, status=step, start=at),
        )
    return alert


@transaction.atomic
def seed() -> None:
    village = Region.objects.filter(code=VILLAGE).first()
    if village is None:
        return
    now = timezone.now()
    liaison = _user(LIAISON_PHONE)
    elders = list(
        Elder.objects.filter(village__code__startswith=TOWNSHIP_PREFIX, status=ElderStatus.ACTIVE).order_by("pk")
    )
    _visits(elders, liaison, now)
    in_village = [e for e in elders if e.village_id == VILLAGE]
    # one escalated alert: the township account sees it in its list
    if in_village:
        elder = in_village[min(4, len(in_village) - 1)]
        _alert(
            "DEMO-0001",
            elder=elder,
            village=village,
            kind=AlertKind.CRITICAL_ILLNESS,
            description="上门巡访发现老人高烧两天、行走困难，子女在银川务工，无人陪护就医。",
            source=AlertSource.VISIT,
            created=now - 5 * H,
            chain=[
                (AlertStatus.REPORTED, liaison, ""),
                (AlertStatus.ACKNOWLEDGED, liaison, "已联系村医上门，并电话通知其儿子。"),
                (AlertStatus.ESCALATED, liaison, "需乡镇协调送县医院就诊及临时照护。"),
            ],
        )
        closed_elder = in_village[0]
        _alert(
            "DEMO-0002",
            elder=closed_elder,
            village=village,
            kind=AlertKind.HARDSHIP,
            description="入冬后取暖煤不足，屋顶漏雨。",
            source=AlertSource.LIAISON,
            created=now - 12 * D,
            chain=[
                (AlertStatus.REPORTED, liaison, ""),
                (AlertStatus.ACKNOWLEDGED, liaison, "当天上门查看。"),
                (AlertStatus.HANDLED, liaison, "村委会送去取暖煤500公斤，组织志愿者修补屋顶。"),
                (AlertStatus.CLOSED, liaison, "回访确认已解决。"),
            ],
        )
    # a public report with no elder matched, waiting for the village (overdue: nobody acknowledged it yet)
    _alert(
        "DEMO-0003",
        elder=None,
        village=village,
        kind=AlertKind.WANDERING,
        description="村口公路边有位老人坐了一下午，说不清家在哪里。",
        place="大营村村口公路边",
        person_name="",
        phone="13700001234",
        source=AlertSource.PUBLIC,
        created=now - 3 * H,
        chain=[(AlertStatus.REPORTED, None, "")],
    )
