"""Pairing scores (结对评分): the one place where a candidate elder ↔ giver pair gets its score.

Plain inputs, no ORM: the pairing code turns elders, needs, givers and active pairings into
``ElderInput`` / ``GiverInput`` and passes the result of ``edge_scores`` to
``services.pairing.matching.assign``. ``explain_pairs`` gives the reason codes (same_village, covers:生活照料,
social_worker, available, continuing, priority:key …) the pairing screens translate and show next to
each proposal; ``score_candidates`` is the pair-by-pair reference (scores and reasons of every candidate).

What a pair is worth
--------------------
A pair is a **candidate** only when

* the elder wants someone (demand > 0) and the giver has room (capacity > 0);
* both live in the same county (first 6 digits of the 12-digit region code) — beyond it, no candidate;
* the giver can help: covers at least one of the elder's needs, or the elder has no recorded need, or
  the pair already exists (continuity). A professional need (e.g. 心理疏导) counts as covered only by
  a qualified social worker who lists that service.

Its **component** score (1…``COMPONENT_MAX``) adds up:

=====================  ======================================================================
distance               same village 40, same township (first 9 digits) 25, same county 10
skills                 30 × share of the elder's needed service categories the giver covers
                       (shares rounded half up, in integers)
availability           10 × share of the elder's wanted time slots the giver is free in
                       (elder with no wanted slots: 10 if the giver gave any availability)
continuity             20 when the giver already serves this elder in a pairing worth keeping
=====================  ======================================================================

Priority dominates (重点 first)
-------------------------------
The score is ``tier weight + component``: 0 for 一般 (normal), ``W_attention`` for 关注, ``W_key`` for
重点. Let ``L = COMPONENT_MAX`` and ``P`` the largest number of pairs any solution can hold (here
``min(Σ_e min(demand_e, degree_e), Σ_g min(capacity_g, degree_g))``, computed from the inputs). We take

    W_attention = (L + 1) · (P + 1)          > L · P
    W_key       = (W_attention + L + 1) · (P + 1)  > (W_attention + L) · P

Claim: the maximum-score solution maximises first the number of 重点 pairs, then the number of 关注
pairs, then the components. Take any two feasible solutions X, Y with more 重点 pairs in X
(k_X ≥ k_Y + 1). Every edge outside the 重点 weight is worth at most ``W_attention + L`` and Y has at
most P pairs, so

    score(X) − score(Y) ≥ W_key · (k_X − k_Y) − (W_attention + L) · P ≥ W_key − (W_attention + L) · P > 0.

With equal 重点 counts and more 关注 pairs in X, the 重点 weights cancel and the rest of Y is worth at
most L · P, so the difference is ≥ W_attention − L · P > 0. Hence no optimum can be improved in the
number of higher-priority pairs by any exchange, however long. In particular an unpaired 重点 elder
is never left out while a lower-priority elder holds a giver it is a candidate for: swapping that one
pair would add a 重点 pair at no capacity cost. (A bound per giver, "the most pairs one giver holds",
is not enough: an exchange can run along an alternating path through many givers.)

The weights grow like ``L · P²``; with L = 100 and a county's P ≈ 10,000 that is ≈ 10¹⁰. The solver
needs max score × (nodes + 1) ≤ 2⁶², which holds up to roughly 200,000 pairs in one run (a whole
prefecture); beyond that ``assign`` refuses the scores (ValueError) rather than rounding them. Large
weights cost some speed (the cost-scaling solver runs ≈ log₅ of the cost range phases), not exactness.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "COMPONENT_MAX",
    "PRIORITIES",
    "ElderInput",
    "GiverInput",
    "ScoredEdge",
    "edge_scores",
    "component_score",
    "explain_pairs",
    "max_pairs",
    "score_candidates",
    "tier_weights",
]

KEY = "key"  # 重点
ATTENTION = "attention"  # 关注
NORMAL = "normal"  # 一般
PRIORITIES = (KEY, ATTENTION, NORMAL)

SAME_VILLAGE_POINTS = 40
SAME_TOWNSHIP_POINTS = 25
SAME_COUNTY_POINTS = 10
SKILLS_POINTS = 30
AVAILABILITY_POINTS = 10
CONTINUITY_POINTS = 20
COMPONENT_MAX = SAME_VILLAGE_POINTS + SKILLS_POINTS + AVAILABILITY_POINTS + CONTINUITY_POINTS

# Reason codes (stable identifiers; the pairing screens translate them).
REASON_SAME_VILLAGE = "same_village"
REASON_SAME_TOWNSHIP = "same_township"
REASON_SAME_COUNTY = "same_county"
REASON_COVERS = "covers:{need}"
REASON_SOCIAL_WORKER = "social_worker"
REASON_AVAILABLE = "available"
REASON_CONTINUING = "continuing"
REASON_PRIORITY = "priority:{priority}"

# Error messages.
BAD_PRIORITY = "Elder {id!r}: priority must be one of key, attention, normal; got {value!r}."
BAD_REGION_CODE = "{who} {id!r}: village_code must be a 12-digit string, got {value!r}."
BAD_AMOUNT = "{who} {id!r}: {field} must be a non-negative int, got {value!r}."
DUPLICATE_ID = "{who} id {id!r} appears twice."
TOO_MANY_LABELS = "At most {limit} distinct service categories and time slots are supported."


@dataclass(frozen=True)
class ElderInput:
    """An elder as the matching sees it. ``needs``: service categories wanted (e.g. 生活照料, 精神慰藉);
    ``professional_needs``: those only a qualified social worker may meet (e.g. 心理疏导);
    ``availability``: time slots the elder wants visits in (empty: any time); ``demand``: givers wanted."""

    id: Hashable
    village_code: str
    priority: str = NORMAL
    needs: frozenset[str] | set[str] = field(default_factory=frozenset)
    professional_needs: frozenset[str] | set[str] = field(default_factory=frozenset)
    demand: int = 1
    availability: frozenset[str] | set[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class GiverInput:
    """A giver (volunteer, social worker, mutual-aid helper, organisation). ``capacity``: elders it can
    still take; ``current_elders``: ids of elders it already serves in a pairing worth keeping."""

    id: Hashable
    village_code: str
    capacity: int = 1
    skills: frozenset[str] | set[str] = field(default_factory=frozenset)
    is_social_worker: bool = False
    availability: frozenset[str] | set[str] = field(default_factory=frozenset)
    current_elders: frozenset | set = field(default_factory=frozenset)


@dataclass(frozen=True)
class ScoredEdge:
    """A candidate pair: its score for ``assign``, the parts it is made of, and the reasons to show."""

    elder_id: Hashable
    giver_id: Hashable
    score: int
    component: int
    reasons: tuple[str, ...]


def component_score(elder: ElderInput, giver: GiverInput) -> tuple[int, tuple[str, ...]] | None:
    """The priority-free part of a pair's score (1…COMPONENT_MAX) and its reason codes, or None when
    the pair is not a candidate (see the module docstring). This is the reference definition:
    ``edge_scores`` computes the same numbers for whole populations at once."""
    if elder.demand <= 0 or giver.capacity <= 0:
        return None
    if elder.village_code == giver.village_code:
        points, reasons = SAME_VILLAGE_POINTS, [REASON_SAME_VILLAGE]
    elif elder.village_code[:9] == giver.village_code[:9]:
        points, reasons = SAME_TOWNSHIP_POINTS, [REASON_SAME_TOWNSHIP]
    elif elder.village_code[:6] == giver.village_code[:6]:
        points, reasons = SAME_COUNTY_POINTS, [REASON_SAME_COUNTY]
    else:
        return None

    professional = set(elder.professional_needs)
    plain = set(elder.needs) - professional
    covered = sorted(plain & set(giver.skills))
    covered_professional = sorted(professional & set(giver.skills)) if giver.is_social_worker else []
    wanted = len(plain) + len(professional)
    continuing = elder.id in giver.current_elders
    if wanted and not (covered or covered_professional or continuing):
        return None
    if wanted:
        points += _share_points(SKILLS_POINTS, len(covered) + len(covered_professional), wanted)
    reasons += [REASON_COVERS.format(need=need) for need in sorted(covered + covered_professional)]
    if covered_professional:
        reasons.append(REASON_SOCIAL_WORKER)

    if giver.availability:
        if elder.availability:
            available = _share_points(
                AVAILABILITY_POINTS, len(set(elder.availability) & set(giver.availability)), len(elder.availability)
            )
        else:
            available = AVAILABILITY_POINTS
        if available:
            points += available
            reasons.append(REASON_AVAILABLE)

    if continuing:
        points += CONTINUITY_POINTS
        reasons.append(REASON_CONTINUING)
    return points, tuple(reasons)


def _share_points(points, part, whole):
    """points × part / whole, rounded half up, in integers (works on ints and on numpy arrays)."""
    return (2 * points * part + whole) // (2 * whole)


def tier_weights(max_pairs: int, component_max: int = COMPONENT_MAX) -> dict[str, int]:
    """Weights per priority such that priority dominates for any solution of at most ``max_pairs`` pairs
    (proof in the module docstring)."""
    attention = (component_max + 1) * (max_pairs + 1)
    key = (attention + component_max + 1) * (max_pairs + 1)
    return {KEY: key, ATTENTION: attention, NORMAL: 0}


def max_pairs(demands: dict, capacities: dict, pairs: Iterable[tuple]) -> int:
    """An upper bound on the pairs any solution over these candidates holds (P in the module docstring)."""
    degree_elder: dict[Hashable, int] = {}
    degree_giver: dict[Hashable, int] = {}
    for elder_id, giver_id in pairs:
        degree_elder[elder_id] = degree_elder.get(elder_id, 0) + 1
        degree_giver[giver_id] = degree_giver.get(giver_id, 0) + 1
    return min(
        sum(min(demands[e], d) for e, d in degree_elder.items()),
        sum(min(capacities[g], d) for g, d in degree_giver.items()),
    )


def score_candidates(elders: Iterable[ElderInput], givers: Iterable[GiverInput]) -> dict[tuple, ScoredEdge]:
    """Every candidate pair with its score and reasons, keyed by (elder id, giver id).

    One pair at a time: use it for explanations and small sets; ``edge_scores`` gives the same
    scores for a county in a fraction of the time."""
    elders, givers = list(elders), list(givers)
    _validate(elders, givers)

    by_county: dict[str, list[GiverInput]] = {}
    for giver in givers:
        if giver.capacity > 0:
            by_county.setdefault(giver.village_code[:6], []).append(giver)
    parts: dict[tuple, tuple[ElderInput, int, tuple[str, ...]]] = {}
    for elder in elders:
        if elder.demand <= 0:
            continue
        for giver in by_county.get(elder.village_code[:6], ()):
            scored = component_score(elder, giver)
            if scored is not None:
                parts[(elder.id, giver.id)] = (elder, *scored)

    weights = tier_weights(max_pairs({e.id: e.demand for e in elders}, {g.id: g.capacity for g in givers}, parts))
    result = {}
    for (elder_id, giver_id), (elder, component, reasons) in parts.items():
        if elder.priority != NORMAL:
            reasons = (REASON_PRIORITY.format(priority=elder.priority), *reasons)
        result[(elder_id, giver_id)] = ScoredEdge(
            elder_id, giver_id, weights[elder.priority] + component, component, reasons
        )
    return result


def explain_pairs(
    elders: Iterable[ElderInput],
    givers: Iterable[GiverInput],
    scores: Mapping[tuple, int],
    pairs: Iterable[tuple],
) -> dict[tuple, ScoredEdge]:
    """The chosen pairs (e.g. what ``assign`` returned) with their score from ``scores`` (the output of
    ``edge_scores``), their component and their reason codes — without scoring every candidate
    one by one as ``score_candidates`` does."""
    elder_by_id = {e.id: e for e in elders}
    giver_by_id = {g.id: g for g in givers}
    result = {}
    for elder_id, giver_id in pairs:
        elder = elder_by_id[elder_id]
        component, reasons = component_score(elder, giver_by_id[giver_id]) or (0, ())
        if elder.priority != NORMAL:
            reasons = (REASON_PRIORITY.format(priority=elder.priority), *reasons)
        result[(elder_id, giver_id)] = ScoredEdge(elder_id, giver_id, scores[(elder_id, giver_id)], component, reasons)
    return result


def edge_scores(elders: Iterable[ElderInput], givers: Iterable[GiverInput]) -> dict[tuple, int]:
    """(elder id, giver id) → score, ready for ``services.pairing.matching.assign``.

    The same scores as ``score_candidates``, computed a county at a time with numpy (service categories
    and time slots become bit masks). Measured: a county of 5,000 elders and 1,500 givers where 45 % of
    the pairs are candidates (3.3 M) takes ≈ 5 s of CPU, most of it building this dict; ``assign`` on
    it ≈ 6 s. Callers that need it faster should generate fewer candidates (e.g. one township at a time).
    """
    elders, givers = list(elders), list(givers)
    _validate(elders, givers)
    elders = [e for e in elders if e.demand > 0]
    givers = [g for g in givers if g.capacity > 0]
    if not elders or not givers:
        return {}

    bits = _Bits()
    e_code = np.array([int(e.village_code) for e in elders], dtype=np.int64)
    g_code = np.array([int(g.village_code) for g in givers], dtype=np.int64)
    e_plain = bits.masks([set(e.needs) - set(e.professional_needs) for e in elders])
    e_prof = bits.masks([set(e.professional_needs) for e in elders])
    g_skills = bits.masks([set(g.skills) for g in givers])
    g_prof = np.where(np.array([g.is_social_worker for g in givers])[:, None], g_skills, 0).astype(np.uint64)
    e_avail = bits.masks([set(e.availability) for e in elders])
    g_avail = bits.masks([set(g.availability) for g in givers])
    e_wanted = _popcount(e_plain) + _popcount(e_prof)
    e_slots = _popcount(e_avail)
    g_has_avail = _popcount(g_avail) > 0
    words = bits.words()

    elder_pos = {e.id: i for i, e in enumerate(elders)}
    continuing = np.array(
        sorted((elder_pos[e_id], j) for j, g in enumerate(givers) for e_id in g.current_elders if e_id in elder_pos),
        dtype=np.int64,
    ).reshape(-1, 2)

    tails, heads, covers, kepts = [], [], [], []
    e_county, g_county = e_code // 10**6, g_code // 10**6
    for county in np.intersect1d(e_county, g_county):
        ei = np.flatnonzero(e_county == county)
        gj = np.flatnonzero(g_county == county)
        col_of = np.full(len(givers), -1, dtype=np.int64)
        col_of[gj] = np.arange(len(gj))
        chunk = max(1, _CELLS_PER_CHUNK // len(gj))
        for start in range(0, len(ei), chunk):
            rows = ei[start : start + chunk]
            covered = np.zeros((len(rows), len(gj)), dtype=np.uint16)
            for w in range(words):
                covered += np.bitwise_count(e_plain[rows, w][:, None] & g_skills[gj, w][None, :])
                covered += np.bitwise_count(e_prof[rows, w][:, None] & g_prof[gj, w][None, :])
            kept = np.zeros(covered.shape, dtype=bool)
            if len(continuing):
                row_of = np.full(len(elders), -1, dtype=np.int64)
                row_of[rows] = np.arange(len(rows))
                r, c = row_of[continuing[:, 0]], col_of[continuing[:, 1]]
                inside = (r >= 0) & (c >= 0)
                kept[r[inside], c[inside]] = True
            candidate = (covered > 0) | kept
            candidate[e_wanted[rows] == 0, :] = True
            i, j = np.nonzero(candidate)
            tails.append(rows[i])
            heads.append(gj[j])
            covers.append(covered[i, j])
            kepts.append(kept[i, j])
    if not tails:
        return {}
    tail, head = np.concatenate(tails), np.concatenate(heads)
    covered, kept = np.concatenate(covers).astype(np.int64), np.concatenate(kepts)

    # The components, on candidate pairs only (same arithmetic as component_score).
    same_village = e_code[tail] == g_code[head]
    same_township = e_code[tail] // 1000 == g_code[head] // 1000
    comp = np.where(
        same_village, SAME_VILLAGE_POINTS, np.where(same_township, SAME_TOWNSHIP_POINTS, SAME_COUNTY_POINTS)
    )
    wanted = e_wanted[tail]
    comp += np.where(wanted > 0, _share_points(SKILLS_POINTS, covered, np.maximum(wanted, 1)), 0)
    overlap = sum(np.bitwise_count(e_avail[tail, w] & g_avail[head, w]).astype(np.int64) for w in range(words))
    slots = e_slots[tail]
    available = np.where(
        slots > 0, _share_points(AVAILABILITY_POINTS, overlap, np.maximum(slots, 1)), AVAILABILITY_POINTS
    )
    comp += np.where(g_has_avail[head], available, 0)
    comp += CONTINUITY_POINTS * kept
    comp = comp.astype(np.int64)

    rank = {KEY: 2, ATTENTION: 1, NORMAL: 0}
    tier = np.array([rank[e.priority] for e in elders], dtype=np.int64)[tail]
    demand = np.array([e.demand for e in elders], dtype=np.int64)
    capacity = np.array([g.capacity for g in givers], dtype=np.int64)
    bound = int(
        min(
            np.minimum(demand, np.bincount(tail, minlength=len(elders))).sum(),
            np.minimum(capacity, np.bincount(head, minlength=len(givers))).sum(),
        )
    )
    weights = tier_weights(bound)
    score = np.array([weights[NORMAL], weights[ATTENTION], weights[KEY]], dtype=np.int64)[tier] + comp
    elder_ids = [e.id for e in elders]
    giver_ids = [g.id for g in givers]
    pairs = zip(map(elder_ids.__getitem__, tail.tolist()), map(giver_ids.__getitem__, head.tolist()), strict=True)
    return dict(zip(pairs, score.tolist(), strict=True))


_CELLS_PER_CHUNK = 1_000_000


class _Bits:
    """Labels (service categories, time slots) → bit masks, several 64-bit words when there are many."""

    def __init__(self):
        self.index: dict[str, int] = {}

    def masks(self, label_sets: list[set[str]]) -> np.ndarray:
        for labels in label_sets:
            for label in sorted(labels):
                self.index.setdefault(label, len(self.index))
        if len(self.index) > 64 * _MAX_WORDS:
            raise ValueError(TOO_MANY_LABELS.format(limit=64 * _MAX_WORDS))
        out = np.zeros((len(label_sets), _MAX_WORDS), dtype=np.uint64)
        for row, labels in enumerate(label_sets):
            for label in labels:
                bit = self.index[label]
                out[row, bit // 64] |= np.uint64(1) << np.uint64(bit % 64)
        return out

    def words(self) -> int:
        """How many 64-bit words the labels seen so far need (at least one)."""
        return max(1, -(-len(self.index) // 64))


_MAX_WORDS = 4  # up to 256 distinct service categories and time slots


def _popcount(masks: np.ndarray) -> np.ndarray:
    return np.bitwise_count(masks).sum(axis=-1, dtype=np.int64)


def _validate(elders: list[ElderInput], givers: list[GiverInput]) -> None:
    for who, items, amount in (("Elder", elders, "demand"), ("Giver", givers, "capacity")):
        seen = set()
        for item in items:
            if item.id in seen:
                raise ValueError(DUPLICATE_ID.format(who=who, id=item.id))
            seen.add(item.id)
            code = item.village_code
            if not (isinstance(code, str) and len(code) == 12 and code.isascii() and code.isdigit()):
                raise ValueError(BAD_REGION_CODE.format(who=who, id=item.id, value=code))
            value = getattr(item, amount)
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(BAD_AMOUNT.format(who=who, id=item.id, field=amount, value=value))
            if value < 0:
                raise ValueError(BAD_AMOUNT.format(who=who, id=item.id, field=amount, value=value))
    for elder in elders:
        if elder.priority not in PRIORITIES:
            raise ValueError(BAD_PRIORITY.format(id=elder.id, value=elder.priority))
