"""Builders for the proof-of-care tests (spot checks, referrals, safe check-ins)."""

import datetime

from django.utils import timezone

from services.care.models import Visit


def make_visit(elder, *, visitor=None, at: datetime.datetime, **fields) -> Visit:
    return Visit.objects.create(elder=elder, visitor=visitor, visited_at=at, **fields)


def local(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))
