"""Counts for the staff dashboard (/portal/workbench/): open alerts, overdue steps, elders overdue a visit."""

from django.db.models import Count, Q
from django.utils import timezone

from services.care.alerts import alerts_for
from services.care.models import AlertStatus
from services.care.visits import DUE_OVERDUE, visits_due


def care_counts(user) -> dict[str, int]:
    """Within the user's scope; three queries whatever the size of the area."""
    now = timezone.now()
    open_q = ~Q(status=AlertStatus.CLOSED)
    alerts = alerts_for(user).aggregate(
        open_alerts=Count("pk", filter=open_q),
        overdue_steps=Count("pk", filter=open_q & Q(due_at__lt=now)),
        escalated=Count("pk", filter=Q(status=AlertStatus.ESCALATED)),
    )
    return {
        "open_alerts": alerts["open_alerts"] or 0,
        "overdue_steps": alerts["overdue_steps"] or 0,
        "escalated_alerts": alerts["escalated"] or 0,
        "elders_overdue_visit": visits_due(user, when=DUE_OVERDUE, now=now).count(),
    }
