"""Matching engine (结对匹配): the best set of elder ↔ giver pairs for a region, solved exactly.

The problem is a maximum-weight bipartite b-matching: elder ``e`` should get up to ``demands[e]`` givers,
giver ``g`` can take up to ``capacities[g]`` elders, each candidate pair ``(e, g)`` is used at most once and
is worth ``scores[(e, g)]``. We maximise the total score — not the number of pairs: a pair worth 0 adds
nothing and is never chosen.

It is solved as a min-cost flow with OR-Tools (``SimpleMinCostFlow``, exact on integers):

    source ──(cap demand, cost 0)──▶ elder ──(cap 1, cost −score)──▶ giver ──(cap capacity, cost 0)──▶ sink
    source ─────────────(cap min(Σ demand, Σ capacity), cost 0: the "leave it unpaired" bypass)──────▶ sink

Every unit of supply either travels through one candidate pair (earning its score) or takes the bypass
(earning nothing), so a minimum-cost flow is a maximum-weight b-matching. The network has no cycles, so
negative costs are safe, and the flow polytope is integral, so the optimum is a set of whole pairs.

The result does not depend on the order of the input mappings: ids are put in a canonical order before
the network is built, ties between equally good solutions are therefore always broken the same way, and
the pairs come back sorted by (elder, giver) in that canonical order.

Speed: 20,000 elders × 10,000 givers with 1 M candidate pairs solve in ≈ 3 s (``make bench``, case
"matching: assign"). Scores with a large range (the priority weights of ``services.pairing.scoring``) cost
more solver phases than small ones, but stay exact.

Scores are computed elsewhere, in one place: ``services.pairing.scoring`` (priority, distance, skills,
availability, continuity). This module only knows numbers.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable, Mapping
from operator import itemgetter

import numpy as np
from ortools.graph.python import min_cost_flow

__all__ = ["assign", "MatchingError"]

# Error messages (English; the engine is not user-facing — callers translate what they show).
NOT_A_MAPPING = "{name} must be a mapping, got {type}."
NOT_AN_INT = "{name}[{key!r}] must be an int, got {type}."
NEGATIVE_VALUE = "{name}[{key!r}] must not be negative, got {value}."
BAD_SCORE_KEY = "Every key of scores must be an (elder id, giver id) tuple, got {key!r}."
UNKNOWN_ELDER = "scores names elder {elder!r}, which is not in demands."
UNKNOWN_GIVER = "scores names giver {giver!r}, which is not in capacities."
VALUE_TOO_LARGE = "{name}[{key!r}] = {value} is too large for the solver (at most {limit})."
SCORES_TOO_LARGE = (
    "The largest score ({value}) is too large for an exact solve of this size (at most {limit} for {nodes} nodes)."
)
SOLVER_FAILED = "The min-cost flow solver did not find an optimum (status {status})."

_INT64_MAX = 2**63 - 1
_COST_BUDGET = 2**62
# Capacities and demands are flow amounts; keep Σ well inside int64.
_MAX_AMOUNT = 2**40


class MatchingError(RuntimeError):
    """The solver failed on valid input (should not happen; reported rather than hidden)."""


def assign(
    demands: Mapping[Hashable, int],
    capacities: Mapping[Hashable, int],
    scores: Mapping[tuple[Hashable, Hashable], int],
) -> list[tuple[Hashable, Hashable]]:
    """Return the (elder id, giver id) pairs of a maximum-total-score assignment.

    ``demands``: elder id → how many givers that elder should get (≥ 0).
    ``capacities``: giver id → how many elders that giver can still take (≥ 0).
    ``scores``: (elder id, giver id) → score (≥ 0); only these pairs are candidates. Both ids must be keys
    of ``demands`` / ``capacities``. Pairs with score 0 are never chosen.

    Raises ``TypeError`` for a non-mapping or a non-int value, ``ValueError`` for a negative value, a
    malformed key or an unknown id. Empty inputs give ``[]``.
    """
    _check_amounts("demands", demands)
    _check_amounts("capacities", capacities)
    if not isinstance(scores, Mapping):
        raise TypeError(NOT_A_MAPPING.format(name="scores", type=type(scores).__name__))
    if not scores:
        return []

    elders = _canonical(demands)
    givers = _canonical(capacities)
    elder_pos = {e: i for i, e in enumerate(elders)}
    giver_pos = {g: i for i, g in enumerate(givers)}

    keys = list(scores)
    if not all(issubclass(kind, tuple) for kind in set(map(type, keys))) or set(map(len, keys)) != {2}:
        bad = next(k for k in keys if not (isinstance(k, tuple) and len(k) == 2))
        raise ValueError(BAD_SCORE_KEY.format(key=bad))
    n = len(keys)
    try:
        tail = np.fromiter(map(elder_pos.__getitem__, map(itemgetter(0), keys)), dtype=np.int64, count=n)
    except KeyError:
        bad = next(k[0] for k in keys if k[0] not in elder_pos)
        raise ValueError(UNKNOWN_ELDER.format(elder=bad)) from None
    try:
        head = np.fromiter(map(giver_pos.__getitem__, map(itemgetter(1), keys)), dtype=np.int64, count=n)
    except KeyError:
        bad = next(k[1] for k in keys if k[1] not in giver_pos)
        raise ValueError(UNKNOWN_GIVER.format(giver=bad)) from None
    weight = _score_array(keys, list(scores.values()))

    demand = np.fromiter((demands[e] for e in elders), dtype=np.int64, count=len(elders))
    capacity = np.fromiter((capacities[g] for g in givers), dtype=np.int64, count=len(givers))

    # Only pairs that can add something: positive score, an elder who wants someone, a giver with room.
    useful = (weight > 0) & (demand[tail] > 0) & (capacity[head] > 0)
    if not useful.any():
        return []
    tail, head, weight = tail[useful], head[useful], weight[useful]
    # Canonical arc order (by elder, then giver) so that ties are broken the same way for any input order.
    order = np.lexsort((head, tail))
    tail, head, weight = tail[order], head[order], weight[order]

    n_elders, n_givers = len(elders), len(givers)
    # Nobody can use more partners than candidates: clip, so flow amounts stay small.
    demand = np.minimum(demand, np.bincount(tail, minlength=n_elders))
    capacity = np.minimum(capacity, np.bincount(head, minlength=n_givers))
    source, sink = n_elders + n_givers, n_elders + n_givers + 1
    n_nodes = n_elders + n_givers + 2
    # The solver scales costs by (nodes + 1) and works in 64 bits; refuse what it cannot solve exactly.
    limit = _COST_BUDGET // (n_nodes + 1)
    top = int(weight.max())
    if top > limit:
        raise ValueError(SCORES_TOO_LARGE.format(value=top, limit=limit, nodes=n_nodes))

    supply = int(min(demand.sum(), capacity.sum()))
    elder_nodes = np.arange(n_elders, dtype=np.int64)
    giver_nodes = np.arange(n_givers, dtype=np.int64) + n_elders
    tails = np.concatenate([tail, np.full(n_elders, source), giver_nodes, [source]]).astype(np.int32)
    heads = np.concatenate([head + n_elders, elder_nodes, np.full(n_givers, sink), [sink]]).astype(np.int32)
    caps = np.concatenate([np.ones(len(weight), dtype=np.int64), demand, capacity, [supply]]).astype(np.int64)
    costs = np.concatenate([-weight, np.zeros(n_elders + n_givers + 1, dtype=np.int64)]).astype(np.int64)

    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_node_supply(source, supply)
    flow.set_node_supply(sink, -supply)
    status = flow.solve()
    if status == flow.BAD_COST_RANGE:
        raise ValueError(SCORES_TOO_LARGE.format(value=top, limit=limit, nodes=n_nodes))
    if status != flow.OPTIMAL:
        raise MatchingError(SOLVER_FAILED.format(status=status))

    used = np.asarray(flow.flows(np.asarray(arcs[: len(weight)], dtype=np.int32))) > 0
    return [(elders[e], givers[g]) for e, g in zip(tail[used].tolist(), head[used].tolist(), strict=True)]


def _check_amounts(name: str, amounts: object) -> None:
    if not isinstance(amounts, Mapping):
        raise TypeError(NOT_A_MAPPING.format(name=name, type=type(amounts).__name__))
    for key, value in amounts.items():
        if not _is_int(value):
            raise TypeError(NOT_AN_INT.format(name=name, key=key, type=type(value).__name__))
        if value < 0:
            raise ValueError(NEGATIVE_VALUE.format(name=name, key=key, value=value))
        if value > _MAX_AMOUNT:
            raise ValueError(VALUE_TOO_LARGE.format(name=name, key=key, value=value, limit=_MAX_AMOUNT))


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _score_array(keys: list, values: list) -> np.ndarray:
    """The scores as int64, after checking every value is a non-negative int that fits."""
    for kind in set(map(type, values)):
        if not (issubclass(kind, numbers.Integral) and not issubclass(kind, bool | np.bool_)):
            i = next(i for i, v in enumerate(values) if type(v) is kind)
            raise TypeError(NOT_AN_INT.format(name="scores", key=keys[i], type=kind.__name__))
    try:
        weight = np.fromiter(values, dtype=np.int64, count=len(values))
    except OverflowError:
        i = next(i for i, v in enumerate(values) if not -_INT64_MAX <= v <= _INT64_MAX)
        raise ValueError(
            VALUE_TOO_LARGE.format(name="scores", key=keys[i], value=values[i], limit=_INT64_MAX)
        ) from None
    negative = np.flatnonzero(weight < 0)
    if len(negative):
        i = int(negative[0])
        raise ValueError(NEGATIVE_VALUE.format(name="scores", key=keys[i], value=values[i]))
    return weight


def _canonical(ids: Iterable[Hashable]) -> list[Hashable]:
    """Ids in a canonical order: their natural order, or (type, repr) when they cannot be compared."""
    ids = list(ids)
    try:
        return sorted(ids)
    except TypeError:
        return sorted(ids, key=lambda x: (type(x).__module__, type(x).__qualname__, repr(x)))
