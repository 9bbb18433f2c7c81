"""Visits and alerts for generated load (generate_load): a realistic spread, written in bulk.

Per elder 0–4 past visits over the last ~75 days (calls mostly, some home visits, some unanswered
calls), so that a share of elders is overdue; alerts for about 2% of elders in every status of the
chain, with their steps. The elders' last-contact dates are then set from the visits in one UPDATE
per chunk.
"""

import datetime
import random

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from services.care.alerts import deadline_for
from services.care.models import (
    Alert,
    AlertKind,
    AlertSource,
    AlertStatus,
    AlertStep,
    Condition,
    DutyKept,
    Mood,
    RiskLevel,
    Visit,
)
from services.ledger.models import Elder

CHUNK = 2000
CHAIN = [AlertStatus.REPORTED, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED, AlertStatus.HANDLED, AlertStatus.CLOSED]
DESCRIPTIONS = {
    AlertKind.WANDERING: "老人独自外出未归，家属联系不上",
    AlertKind.HARM: "邻里纠纷中老人被推倒受伤",
    AlertKind.CRITICAL_ILLNESS: "老人突发高烧、意识模糊，身边无人",
    AlertKind.MENTAL_ILLNESS: "老人近期言行异常，夜间外出",
    AlertKind.HARDSHIP: "房屋漏雨，冬季取暖煤不足",
    AlertKind.OTHER: "老人连续两天未接电话",
}


def _visits_for(rnd: random.Random, elder_id: int, now: datetime.datetime) -> list[Visit]:
    visits = []
    days_ago = rnd.choice([2, 5, 9, 12, 20, 35, 50, 70])
    for _n in range(rnd.choice([0, 1, 1, 2, 2, 3, 4])):
        when = now - datetime.timedelta(days=days_ago, hours=rnd.randint(0, 10))
        contact = rnd.random() > 0.12
        method = rnd.choice(["phone", "phone", "phone", "home", "video"])
        visits.append(
            Visit(
                elder_id=elder_id,
                method=method,
                visited_at=when,
                contact_made=contact,
                living_conditions=rnd.choice(Condition.values) if contact else "",
                health=rnd.choice(Condition.values) if contact else "",
                mood=rnd.choice(Mood.values) if contact else "",
                family_duty=rnd.choice([DutyKept.KEPT, DutyKept.KEPT, DutyKept.UNKNOWN, DutyKept.NOT_KEPT])
                if contact
                else DutyKept.UNKNOWN,
                risk_level=rnd.choice([RiskLevel.NONE, RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MEDIUM])
                if contact
                else RiskLevel.NONE,
                next_visit_due=(when + datetime.timedelta(days=14)).date() if contact else None,
            )
        )
        days_ago += rnd.choice([7, 10, 14, 30])
    return visits


def generate(*, elder_ids: list[int], seed: int = 0) -> dict:
    """Create visits and alerts for the given elders; returns counts by kind."""
    rnd = random.Random(seed)  # noqa: S311 — generated load
    now = timezone.now()
    counts = {"visits": 0, "alerts": 0, "alert_steps": 0}
    ids = sorted(elder_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        villages = dict(Elder.objects.filter(pk__in=chunk).values_list("pk", "village_id"))
        with transaction.atomic():
            visits = [v for elder_id in chunk for v in _visits_for(rnd, elder_id, now)]
            Visit.objects.bulk_create(visits, batch_size=1000)
            counts["visits"] += len(visits)
            alerts = []
            for elder_id in chunk:
                if rnd.random() >= 0.02 or elder_id not in villages:
                    continue
                kind = rnd.choice(AlertKind.values)
                reached = rnd.randrange(len(CHAIN))
                created = now - datetime.timedelta(hours=rnd.randint(1, 24 * 40))
                status = CHAIN[reached]
                changed = created + datetime.timedelta(hours=reached * 3)
                alerts.append(
                    Alert(
                        reference=f"G{seed % 100:02d}{elder_id:08d}",
                        elder_id=elder_id,
                        village_id=villages[elder_id],
                        kind=kind,
                        description=DESCRIPTIONS[kind],
                        source=rnd.choice([AlertSource.LIAISON, AlertSource.VISIT, AlertSource.PUBLIC]),
                        status=status,
                        status_changed_at=changed,
                        due_at=deadline_for(village_code=villages[elder_id], status=status, start=changed),
                        content_hash=f"load-{seed}-{elder_id}",
                        created_at=created,
                        closed_at=changed if status == AlertStatus.CLOSED else None,
                    )
                )
            Alert.objects.bulk_create(alerts, batch_size=1000, ignore_conflicts=True)
            created_alerts = Alert.objects.filter(content_hash__in=[a.content_hash for a in alerts]).values_list(
                "pk", "status", "created_at"
            )
            steps = []
            for pk, status, created in created_alerts:
                for i, step in enumerate(CHAIN[: CHAIN.index(status) + 1]):
                    steps.append(
                        AlertStep(alert_id=pk, status=step, at=created + datetime.timedelta(hours=i * 3), note="—")
                    )
            AlertStep.objects.bulk_create(steps, batch_size=1000)
            counts["alerts"] += len(alerts)
            counts["alert_steps"] += len(steps)
            last_contact = Visit.objects.filter(elder=OuterRef("pk"), contact_made=True).order_by("-visited_at")
            Elder.objects.filter(pk__in=chunk).update(
                last_visit_at=Subquery(last_contact.values("visited_at")[:1]),
                last_home_visit_at=Subquery(last_contact.filter(method="home").values("visited_at")[:1]),
            )
    return counts
