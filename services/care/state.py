"""The stored per-elder state: priority tier, reachable supporter, next visit due, overdue flag.

Lists and counts read Elder.tier / tier_rank / supporter_ok / next_due_at / overdue (indexed), so their cost
does not grow with the area. The values are computed by ONE set-based statement from the definitions
(`ElderQuerySet.with_computed_priority`, `services.care.visits.with_computed_due_dates`):

- `refresh_elders(ids)` — called in the transaction of every change of an input: elder saved (receiver),
  status changed (services.ledger.actions), family contact saved or removed (receiver), visit recorded
  (services.care.visits), alert raised or moved (services.care.alerts and the receiver), visit plan changed
  (receiver: the county's elders), spreadsheet import (services.ledger.imports);
- `roll(now)` — daily (portal/schedule.py "elder-state-roll"): the date-dependent parts: elders who turned 80
  (their tier, so their due date) and the overdue flags;
- `rebuild()` — `manage.py rebuild_elder_state`: everything, in batches of primary keys.

The last contact is Elder.last_visit_at, moved by visit_record.
"""

import datetime
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from portal.scoping import prefix_range
from services.care.due import with_computed_due_dates
from services.care.models import PLANS_CACHE_KEY
from services.ledger.models import HIGH_AGE, Elder, ElderStatus, birth_cutoff

BATCH = 5000
ROLL_DAYS = 7  # the roll looks back a week, so a missed night is caught up


def _update_from(elders: QuerySet, now: datetime.datetime) -> int:
    """UPDATE elder SET <state> FROM (<the definitions over `elders`>): one statement."""
    computed = (
        with_computed_due_dates(elders)
        .order_by()
        .values("priority_level", "priority_rank", "has_supporter", "next_due", state_id=F("pk"))
    )
    sql, params = computed.query.sql_with_params()
    table = connection.ops.quote_name(Elder._meta.db_table)
    # the subquery is compiled by the ORM and every value is a parameter
    assignments = (
        "tier = s.priority_level, tier_rank = s.priority_rank, supporter_ok = s.has_supporter, "
        f"next_due_at = s.next_due, overdue = ({table}.status = %s AND s.next_due < %s)"
    )
    statement = f"UPDATE {table} SET {assignments} FROM ({sql}) AS s WHERE {table}.id = s.state_id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(statement, [ElderStatus.ACTIVE.value, connection.ops.adapt_datetimefield_value(now), *params])
        return cursor.rowcount


def refresh_elders(elder_ids: Iterable[int] | QuerySet, *, now: datetime.datetime | None = None) -> int:
    """Recompute the stored state of these elders (ids, or a values_list queryset of ids); returns rows updated."""
    now = now or timezone.now()
    if isinstance(elder_ids, QuerySet):
        return _update_from(Elder.objects.filter(pk__in=elder_ids), now)
    ids = sorted({int(pk) for pk in elder_ids})
    done = 0
    for start in range(0, len(ids), BATCH):
        done += _update_from(Elder.objects.filter(pk__in=ids[start : start + BATCH]), now)
    return done


def refresh_area(code_prefix: str | None, *, now: datetime.datetime | None = None) -> int:
    """Every elder under a region code prefix (None: everyone), in batches: after a visit plan changes."""
    cache.delete(PLANS_CACHE_KEY)  # the plan is read by the definition: never from a stale cache
    elders = Elder.objects.all()
    if code_prefix:
        elders = elders.filter(village__code__range=prefix_range(code_prefix))
    return rebuild(elders=elders, now=now)


def rebuild(*, elders: QuerySet | None = None, now: datetime.datetime | None = None, batch: int = BATCH) -> int:
    """Recompute the state of every elder (or of `elders`), one statement per batch of consecutive ids."""
    now = now or timezone.now()
    elders = Elder.objects.all() if elders is None else elders
    bounds = list(elders.order_by("pk").values_list("pk", flat=True)[::batch])
    done = 0
    for i, low in enumerate(bounds):
        chunk = elders.filter(pk__gte=low)
        if i + 1 < len(bounds):
            chunk = chunk.filter(pk__lt=bounds[i + 1])
        with transaction.atomic():
            done += _update_from(chunk, now)
    return done


def roll(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The daily roll: elders who turned 80 in the last ROLL_DAYS days get their tier (and due date)
    recomputed; overdue flags follow the clock. Idempotent."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    turned = Elder.objects.filter(
        birth_date__gt=birth_cutoff(HIGH_AGE, today - datetime.timedelta(days=ROLL_DAYS)),
        birth_date__lte=birth_cutoff(HIGH_AGE, today),
    ).values_list("pk", flat=True)
    with transaction.atomic():
        aged = refresh_elders(list(turned), now=now)
        became = Elder.objects.filter(status=ElderStatus.ACTIVE, overdue=False, next_due_at__lt=now).update(
            overdue=True
        )
        cleared = (
            Elder.objects.filter(overdue=True)
            .exclude(status=ElderStatus.ACTIVE, next_due_at__lt=now)
            .update(overdue=False)
        )
    return {"aged": aged, "overdue": became, "cleared": cleared}
