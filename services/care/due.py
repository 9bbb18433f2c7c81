"""The definitions of priority-driven due dates (定期巡访): the visit plan and each elder's next due date in SQL.

Each elder's next contact, next home visit and (after an alert) the urgent home visit are the last dates plus
the interval of their visit plan (priority × county, or the default). services.care.state stores the result in
Elder.next_due_at; lists read that column (services.care.visits.with_due_dates).
"""

import datetime
from typing import Any

from django.core.cache import cache
from django.db.models import Case, DateTimeField, F, Func, OuterRef, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Least

from services.care.models import DEFAULT_VISIT_PLANS, OPEN_STATUSES, PLANS_CACHE_KEY, Alert, VisitPlan
from services.ledger.models import PriorityLevel

# --- the visit plan --------------------------------------------------------------------------------


def visit_plans() -> dict[tuple[str | None, str], dict[str, int]]:
    """{(county code or None, priority): {contact_days, home_visit_days, after_alert_hours}}, cached."""
    plans = cache.get(PLANS_CACHE_KEY)
    if plans is None:
        plans = {(None, p): dict(v) for p, v in DEFAULT_VISIT_PLANS.items()}
        for plan in VisitPlan.objects.all():
            plans[(plan.county_id, plan.priority)] = {
                "contact_days": plan.contact_days,
                "home_visit_days": plan.home_visit_days,
                "after_alert_hours": plan.after_alert_hours,
            }
        cache.set(PLANS_CACHE_KEY, plans, 3600)
    return plans


def plan_for(*, village_code: str, priority: str) -> dict[str, int]:
    plans = visit_plans()
    county = village_code[:6] + "000000"
    return plans.get((county, priority)) or plans[(None, priority)]


class SimpleCase(Func):
    """CASE <subject> WHEN v1 THEN r1 … ELSE d END: the subject (here the priority rule, with its EXISTS
    subquery) is evaluated once per row instead of once per WHEN as in Django's searched Case."""

    def __init__(self, subject, whens: list[tuple[str, Any]], default, output_field):
        expressions = [subject]
        for value, result in whens:
            expressions += [Value(value), result]
        super().__init__(*expressions, default, output_field=output_field)

    def as_sql(self, compiler, connection, **extra_context):
        parts, params = [], []
        for expression in self.get_source_expressions():
            sql, expression_params = compiler.compile(expression)
            parts.append(sql)
            params.extend(expression_params)
        subject, *pairs, default = parts
        whens = " ".join(f"WHEN {pairs[i]} THEN {pairs[i + 1]}" for i in range(0, len(pairs), 2))
        return f"CASE {subject} {whens} ELSE {default} END", params


FAR_FUTURE = datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC)
EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
_DT = DateTimeField()


def _plan_due(values: dict[str, int]):
    """Earliest of the next contact and the next home visit under one plan."""
    return Least(
        Coalesce(F("last_visit_at"), F("created_at")) + Value(datetime.timedelta(days=values["contact_days"])),
        Coalesce(F("last_home_visit_at"), F("created_at")) + Value(datetime.timedelta(days=values["home_visit_days"])),
        output_field=_DT,
    )


def _by_priority(make) -> SimpleCase:
    """SQL: `make(plan values)` for each row's priority, with county plans taking precedence."""
    plans = visit_plans()
    county_plans = sorted((c, p) for c, p in plans if c is not None)

    def for_priority(priority):
        default = make(plans[(None, priority)])
        overrides = [
            When(village__code__startswith=county[:6], then=make(plans[(county, p)]))
            for county, p in county_plans
            if p == priority
        ]
        return Case(*overrides, default=default, output_field=_DT) if overrides else default

    return SimpleCase(
        F("priority_level"),
        [
            (PriorityLevel.KEY.value, for_priority(PriorityLevel.KEY)),
            (PriorityLevel.ATTENTION.value, for_priority(PriorityLevel.ATTENTION)),
        ],
        for_priority(PriorityLevel.NORMAL),
        output_field=_DT,
    )


def _latest_open_alert():
    return (
        Alert.objects.filter(elder=OuterRef("pk"), status__in=OPEN_STATUSES)
        .filter(created_at__gt=Coalesce(OuterRef("last_home_visit_at"), Value(EPOCH, output_field=_DT)))
        .order_by("-created_at")
        .values("created_at")[:1]
    )


def with_computed_due_dates(queryset: QuerySet) -> QuerySet:
    """The definition of the due date, computed per row (what services.care.state stores in Elder.next_due_at):
    annotate computed priority (priority_level, priority_rank, has_supporter), open_alert_at and next_due, the
    earliest of: next contact, next home visit (plan intervals from the last ones; never-contacted elders
    count from entering the ledger) and the home visit an open alert calls for.
    """
    qs = queryset.with_computed_priority().annotate(open_alert_at=Subquery(_latest_open_alert(), output_field=_DT))
    plans = visit_plans()
    alert_hours = {v["after_alert_hours"] for v in plans.values()}
    if len(alert_hours) == 1:
        alert_due = F("open_alert_at") + Value(datetime.timedelta(hours=alert_hours.pop()))
        plan_due = _by_priority(_plan_due)
    else:  # plans differ in the urgent home visit: compute it per plan
        alert_due = Value(None, output_field=_DT)
        plan_due = _by_priority(
            lambda v: Least(
                _plan_due(v),
                Coalesce(
                    F("open_alert_at") + Value(datetime.timedelta(hours=v["after_alert_hours"])),
                    Value(FAR_FUTURE, output_field=_DT),
                ),
                output_field=_DT,
            )
        )
    return qs.annotate(
        next_due=Least(plan_due, Coalesce(alert_due, Value(FAR_FUTURE, output_field=_DT)), output_field=_DT)
    )
