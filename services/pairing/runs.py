"""Matching runs (`MatchRun`): solve the candidate graph (`services.pairing.matching.assign`), store the
proposals (or, with ``apply``, pairings made at once: offers to people, active for organisations) and
report progress.

Runs work off the request (`match_start`): the officer's POST creates a queued `MatchRun` and enqueues
`run_match` in the same transaction (the durable queue of portal.tasks); a worker works it
(`match_execute`), writing its progress (stage and percent) in autocommit so the proposals page can show
it; only the final write (supersede, proposals, run) is one transaction. A run whose worker died is
queued again (TASKS_REQUEUE_AFTER) and finishes once; failing that it is marked failed after
`RUN_STALE_AFTER` so that it does not hold its area. One run at a time per area: a run for an area that
overlaps a queued or running one is refused. Through `match_run` (the `match` command, the benchmarks)
it runs inline."""

from __future__ import annotations

import time
from collections import Counter, defaultdict

from django_tasks import task

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from portal import audit
from portal.models import AuditAction, Region
from services.catalogue.models import ServiceCategory
from services.pairing import candidates, lifecycle, matching, offers, scoring
from services.pairing import rules as pairing_rules
from services.pairing.models import (
    OPEN_STATUSES,
    UNFINISHED_RUN_STATUSES,
    EndReason,
    MatchRun,
    MatchRunStatus,
    Pairing,
    PairingOrigin,
    PairingStatus,
)

REPAIR_PASSES = 2


def _solve(elders, givers, already_open: set, progress) -> tuple[dict, list]:
    """Score, solve, and repair the township-first shortcut for priority elders.

    The first pass scores a priority elder against its own township only when that township offers
    `NEARBY_MIN` candidates (see `candidate_edges`). A 重点/关注 elder it leaves short of its demand is then
    scored against the whole county and the matching solved again — at most `REPAIR_PASSES` times, each
    pass keeping every earlier candidate, so the number of priority pairs never goes down. The few
    elders repaired keep the cost near one pass.
    """
    demands = {e.id: e.demand for e in elders}
    capacities = {g.id: g.capacity for g in givers}
    tier = {e.id: scoring.PRIORITIES.index(e.priority) for e in elders}  # 0 = 重点 first
    priority = {e.id for e in elders if e.priority != scoring.NORMAL and e.demand > 0}
    county_wide: frozenset = frozenset()
    open_givers: frozenset | None = None
    for attempt in range(REPAIR_PASSES + 1):
        edges = candidates.candidate_edges(
            elders,
            givers,
            county_wide=county_wide,
            open_givers=open_givers,
            progress=(lambda share: progress(10 + int(45 * share), "scoring")) if attempt == 0 else None,
        )
        for pair in already_open:
            edges.pop(pair, None)
        progress(60 + 10 * attempt, "solving")
        chosen = matching.assign(demands, capacities, {k: e.score for k, e in edges.items()})
        served = Counter(elder_id for elder_id, _giver in chosen)
        short = frozenset(e for e in priority if served[e] < demands[e]) - county_wide
        if not short:
            break
        # Givers that could make room for a short priority elder: places left, or serving a lower tier.
        worst = min(tier[e] for e in short)
        used = Counter(giver for _elder, giver in chosen)
        open_givers = (
            (open_givers or frozenset())
            | frozenset(g for g in capacities if used[g] < capacities[g])
            | frozenset(g for elder, g in chosen if tier[elder] > worst)
        )
        county_wide |= short
    return edges, chosen


def _overlaps(a: Region, b: Region) -> bool:
    """Do two areas overlap (is one inside the other)?"""
    return a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)


def _fail_stale_runs() -> None:
    MatchRun.objects.filter(
        status__in=UNFINISHED_RUN_STATUSES, created_at__lt=timezone.now() - pairing_rules.RUN_STALE_AFTER
    ).update(
        status=MatchRunStatus.FAILED, stage="failed", message=str(pairing_rules.RUN_STALE), finished_at=timezone.now()
    )


def match_start(
    *, region: Region, user=None, apply: bool = False, request=None, background: bool | None = None
) -> MatchRun:
    """Queue a matching run for an area and start it off the request; return the run (queued, or done /
    failed when it ran inline).

    `user` None is the system; a person must be an officer over `region` (else OUT_OF_SCOPE). Refused
    with RUN_BUSY while a run for an overlapping area is queued or running: the start is serialised by
    locking the province's region row, so two officers pressing the button at once get one run.
    `background` None: on the queue unless `settings.MATCH_RUN_INLINE`; False: inline.
    """
    if user is not None and not pairing_rules.can_run(user, region):
        raise ValidationError(pairing_rules.OUT_OF_SCOPE, code="out_of_scope")
    if background is None:
        background = not getattr(settings, "MATCH_RUN_INLINE", False)
    with transaction.atomic():
        list(Region.objects.select_for_update().filter(code=region.code[:2] + "0" * 10).values_list("pk"))
        _fail_stale_runs()
        unfinished = MatchRun.objects.filter(status__in=UNFINISHED_RUN_STATUSES).select_related("region")
        if any(_overlaps(other.region, region) for other in unfinished):
            raise ValidationError(pairing_rules.RUN_BUSY, code="run_busy")
        run = MatchRun.objects.create(
            region=region, run_by=lifecycle._user(user), applied=apply, status=MatchRunStatus.QUEUED, stage="queued"
        )
        audit.record(
            AuditAction.CREATE,
            request=request,
            actor=lifecycle._user(user),
            obj=run,
            changes={"region": region.code, "applied": apply},
        )
        if background:
            run_match.enqueue(run.pk)  # the task's row commits with the run's: neither exists without the other
    if background:
        run.refresh_from_db()
        return run
    return match_execute(run.pk)


@task()
def run_match(run_pk: int) -> str:
    """Work a queued run on the queue. Run again after its worker died (TASKS_REQUEUE_AFTER), a run left
    "running" for half the stale limit goes back to the queue first: its proposals are written in one
    transaction at the end, so the dead worker left none, and the run finishes once."""
    abandoned = timezone.now() - pairing_rules.RUN_STALE_AFTER / 2
    MatchRun.objects.filter(pk=run_pk, status=MatchRunStatus.RUNNING, created_at__lt=abandoned).update(
        status=MatchRunStatus.QUEUED, stage="queued", progress=0
    )
    return match_execute(run_pk).status


def match_execute(run_pk: int) -> MatchRun:
    """Work a queued run: claim it (queued → running, once: a replay does nothing), compute, save.
    Any error marks the run failed with its message instead of propagating: the page shows it."""
    if not MatchRun.objects.filter(pk=run_pk, status=MatchRunStatus.QUEUED).update(
        status=MatchRunStatus.RUNNING, stage="reading", progress=1
    ):
        return MatchRun.objects.get(pk=run_pk)
    run = MatchRun.objects.select_related("region", "run_by").get(pk=run_pk)
    try:
        if connection.in_atomic_block:  # inline, inside a request: a savepoint keeps the request usable
            with transaction.atomic():
                _compute(run)
        else:  # in its thread: autocommit, so that the page sees the progress
            _compute(run)
    except Exception as exc:  # reported on the run, not raised: nobody waits on this thread
        pairing_rules.logger.exception("Matching run %s failed", run_pk)
        for attempt in range(pairing_rules.RUN_START_ATTEMPTS):  # the database may be busy, as it was for the run
            try:
                MatchRun.objects.filter(pk=run_pk).update(
                    status=MatchRunStatus.FAILED,
                    stage="failed",
                    message=f"{type(exc).__name__}: {exc}"[:1000],
                    finished_at=timezone.now(),
                )
                break
            except OperationalError:
                time.sleep(0.5 * (attempt + 1))
    run.refresh_from_db()
    return run


def match_run(*, region: Region, user=None, apply: bool = False, request=None) -> MatchRun:
    """Run the matching for an area now (inline) and store the proposals (or, with `apply`, active
    pairings); the `match` command and the benchmarks use it. See `match_start` for the checks."""
    return match_start(region=region, user=user, apply=apply, request=request, background=False)


def _compute(run: MatchRun) -> None:
    """The run itself. Reading and solving happen outside any transaction with progress written as it
    goes; the earlier proposals are replaced and the new ones saved in one transaction at the end."""
    started = time.perf_counter()
    region, user, apply = run.region, run.run_by, run.applied
    prefix = region.prefix

    def progress(percent: int, stage: str) -> None:
        MatchRun.objects.filter(pk=run.pk).update(progress=percent, stage=stage)

    # Open proposals of earlier runs in the area: replaced by this run (they take no place meanwhile)
    # and kept as "current" pairs for continuity.
    replaced = Q(elder__village__code__startswith=prefix, status=PairingStatus.PROPOSED, origin=PairingOrigin.MATCHING)
    continuing: dict[str, set[int]] = defaultdict(set)
    for elder_id, user_id, org_id in Pairing.objects.filter(replaced).values_list(
        "elder_id", "giver_user_id", "giver_organisation_id"
    ):
        continuing[candidates._giver_key(user_id, org_id)].add(elder_id)

    area = candidates._read_area(prefix)
    before = candidates._coverage(area)
    elders, _villages = candidates._elder_inputs(prefix, area)
    givers = candidates._giver_inputs(prefix[:6], continuing, replaced)
    progress(10, "scoring")
    already_open = {
        (elder_id, candidates._giver_key(user_id, org_id))
        for elder_id, user_id, org_id in Pairing.objects.filter(
            elder__village__code__startswith=prefix, status__in=OPEN_STATUSES
        )
        .exclude(replaced)
        .values_list("elder_id", "giver_user_id", "giver_organisation_id")
    }
    edges, chosen = _solve(elders, givers, already_open, progress)
    demands = {e.id: e.demand for e in elders}
    capacities = {g.id: g.capacity for g in givers}
    progress(85, "saving")

    categories = {c.slug: c for c in ServiceCategory.objects.all()}
    elder_needs = {e.id: e.needs | e.professional_needs for e in elders}
    status = PairingStatus.ACTIVE if apply else PairingStatus.PROPOSED
    with transaction.atomic():
        Pairing.objects.filter(replaced).update(status=PairingStatus.DECLINED, end_reason=EndReason.SUPERSEDED)
        # Pairs made by hand while the run worked are not proposed a second time.
        open_now = {
            (elder_id, candidates._giver_key(user_id, org_id))
            for elder_id, user_id, org_id in Pairing.objects.filter(
                elder__village__code__startswith=prefix, status__in=OPEN_STATUSES
            ).values_list("elder_id", "giver_user_id", "giver_organisation_id")
        }
        chosen = [pair for pair in chosen if pair not in open_now]
        now = timezone.now()
        pairings, links, chosen_rows = [], [], []
        for elder_id, giver_key in chosen:
            edge = edges[(elder_id, giver_key)]
            covers = [r.split(":", 1)[1] for r in edge.reasons if r.startswith("covers:")]
            chosen_rows.append(
                {
                    "elder": elder_id,
                    "giver": giver_key,
                    "score": edge.score,
                    "fit": edge.component,
                    "reasons": list(edge.reasons),
                }
            )
            pairings.append(
                Pairing(
                    elder_id=elder_id,
                    **candidates._giver_fields(giver_key),
                    **(offers.offer_fields(now) if apply and giver_key.startswith("u") else {"status": status}),
                    origin=PairingOrigin.MATCHING,
                    match_run=run,
                    score=edge.score,
                    component=edge.component,
                    reasons=list(edge.reasons),
                    confirmed_by=user if apply else None,
                    confirmed_at=now if apply else None,
                    start_date=timezone.localdate(now) if apply and giver_key.startswith("o") else None,
                )
            )
            links.append(covers or sorted(elder_needs.get(elder_id, ())))
        created = Pairing.objects.bulk_create(pairings, batch_size=1000)
        if any(p.pk is None for p in created):  # a backend without RETURNING: read them back
            created = list(Pairing.objects.filter(match_run=run).order_by("pk"))
        through = Pairing.categories.through
        through.objects.bulk_create(
            [
                through(pairing_id=p.pk, servicecategory_id=categories[slug].pk)
                for p, slugs in zip(created, links, strict=True)
                for slug in slugs
                if slug in categories
            ],
            batch_size=2000,
        )

        after = candidates._coverage(
            area, [(row["elder"], row["giver"], links[i]) for i, row in enumerate(chosen_rows)]
        )
        values = [e.score for e in edges.values()]
        run.inputs = {
            "elders": len(elders),
            "elders_wanting": sum(1 for e in elders if e.demand > 0),
            "givers": len(givers),
            "givers_with_room": sum(1 for g in givers if g.capacity > 0),
            "organisations": sum(1 for g in givers if str(g.id).startswith("o")),
            "demand": sum(demands.values()),
            "capacity": sum(capacities.values()),
            "candidates": len(edges),
        }
        run.scores = {
            "count": len(values),
            "min": min(values, default=0),
            "max": max(values, default=0),
            "edges": [[e, g, s.score, s.component] for (e, g), s in edges.items()]
            if len(edges) <= pairing_rules.KEEP_ALL_SCORES
            else [],
        }
        run.chosen = chosen_rows
        run.total_score = sum(r["score"] for r in chosen_rows)
        run.coverage_before, run.coverage_after = before, after
        run.status = MatchRunStatus.DONE
        run.progress, run.stage = 100, "done"
        run.finished_at = timezone.now()
        run.seconds = round(time.perf_counter() - started, 3)
        run.save()
        audit.record(
            AuditAction.CHANGE,
            actor=user,
            obj=run,
            changes={"region": region.code, "pairs": len(chosen_rows), "applied": apply, "status": run.status},
        )
        if apply and created:
            made = list(Pairing.objects.filter(match_run=run).select_related("elder__village"))
            transaction.on_commit(lambda: lifecycle._notify_paired(made))


def run_summary(run: MatchRun) -> dict:
    """The JSON summary the `match` command prints (and the run page shows)."""
    before, after = run.coverage_before or {}, run.coverage_after or {}

    def cover(c):
        return {
            k: c.get(k, 0)
            for k in ("key_covered", "key_total", "attention_covered", "attention_total", "unmet_needs", "givers_spare")
        }

    return {
        "run": run.pk,
        "region": run.region_id,
        "applied": run.applied,
        "pairs": len(run.chosen),
        "total_score": run.total_score,
        "priority_covered": after.get("key_covered", 0),
        "priority_total": after.get("key_total", 0),
        "coverage_before": cover(before),
        "coverage_after": cover(after),
        "inputs": run.inputs,
        "seconds": run.seconds,
    }
