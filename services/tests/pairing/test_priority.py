"""The priority guarantee (issue 6) holds on the candidate graph given to `assign`: however the candidates
of 一般 elders are cut, the optimum pairs as many 重点 and 关注 elders as the optimum of the uncut graph
(the same candidates without the cut per elder; with NEARBY_MIN out of reach, every same-county pair that
can help, as `scoring.score_candidates` gives them)."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.pairing import candidates, matching, scoring
from services.pairing import rules as pairing_rules
from services.pairing import runs as match_runs

VILLAGE_A = "640422100201"  # 大营村委会, 吉强镇
VILLAGE_B = "640422100202"  # same township
OTHER_TOWNSHIP = "640422101200"  # 兴隆镇, same county
OTHER_COUNTY = "640104001002"


def tier_counts(edges: dict, elders: list[scoring.ElderInput], givers: list[scoring.GiverInput]) -> tuple[int, int]:
    """(重点 pairs, 关注 pairs) of the optimum of `assign` on these candidate edges."""
    scores = {k: (e if isinstance(e, int) else e.score) for k, e in edges.items()}
    pairs = matching.assign({e.id: e.demand for e in elders}, {g.id: g.capacity for g in givers}, scores)
    priority = {e.id: e.priority for e in elders}
    return (
        sum(priority[e] == scoring.KEY for e, _ in pairs),
        sum(priority[e] == scoring.ATTENTION for e, _ in pairs),
    )


def uncut(elders, givers) -> dict:
    return {k: edge.score for k, edge in scoring.score_candidates(elders, givers).items()}


def test_constructed_instance_where_cutting_per_elder_left_a_key_elder_out():
    """Two 重点 elders of village A both rank giver G1 (same village) first; with one candidate per elder the
    old cut gave both only G1, while the 一般 elder of village B kept G2 — one 重点 elder left out though G2
    could serve them. Now 重点 elders keep every candidate: both are paired, the 一般 elder waits."""
    elders = [
        scoring.ElderInput(id=1, village_code=VILLAGE_A, priority=scoring.KEY, needs=frozenset({"care"})),
        scoring.ElderInput(id=2, village_code=VILLAGE_A, priority=scoring.KEY, needs=frozenset({"care"})),
        scoring.ElderInput(id=3, village_code=VILLAGE_B, priority=scoring.NORMAL, needs=frozenset({"care"})),
    ]
    givers = [
        scoring.GiverInput(id="g1", village_code=VILLAGE_A, skills=frozenset({"care"})),
        scoring.GiverInput(id="g2", village_code=VILLAGE_B, skills=frozenset({"care"})),
    ]
    assert tier_counts(uncut(elders, givers), elders, givers) == (2, 0)
    edges = candidates.candidate_edges(elders, givers, per_elder=1)
    assert {(1, "g1"), (1, "g2"), (2, "g1"), (2, "g2"), (3, "g2")} == set(edges)
    assert tier_counts(edges, elders, givers) == (2, 0)
    chosen = matching.assign(
        {e.id: e.demand for e in elders}, {g.id: g.capacity for g in givers}, {k: e.score for k, e in edges.items()}
    )
    assert sorted(e for e, _ in chosen) == [1, 2]


LABELS = ["care", "talk", "watch"]
PLACES = [VILLAGE_A, VILLAGE_A, VILLAGE_B, OTHER_TOWNSHIP, OTHER_COUNTY]


@st.composite
def populations(draw):
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))  # noqa: S311 — test data
    n_elders, n_givers = draw(st.integers(1, 9)), draw(st.integers(1, 7))
    elders = [
        scoring.ElderInput(
            id=i,
            village_code=rng.choice(PLACES),
            priority=rng.choice([scoring.KEY, scoring.ATTENTION, scoring.NORMAL, scoring.NORMAL]),
            needs=frozenset(rng.sample(LABELS, rng.randint(0, 2))),
            demand=rng.randint(0, 2),
            availability=frozenset(rng.sample(["1", "2"], rng.randint(0, 1))),
        )
        for i in range(n_elders)
    ]
    givers = [
        scoring.GiverInput(
            id=f"u{j}",
            village_code=rng.choice(PLACES),
            capacity=rng.randint(0, 3),
            skills=frozenset(rng.sample(LABELS, rng.randint(1, 2))),
            availability=frozenset(rng.sample(["1", "2"], rng.randint(0, 2))),
            current_elders=frozenset(rng.sample(range(n_elders), rng.randint(0, min(2, n_elders)))),
        )
        for j in range(n_givers)
    ]
    return elders, givers, draw(st.integers(1, 3)), draw(st.integers(1, 4))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_cut_graph_pairs_as_many_priority_elders_as_the_uncut_optimum(population):
    elders, givers, per_elder, nearby_min = population
    saved, pairing_rules.NEARBY_MIN = (
        pairing_rules.NEARBY_MIN,
        nearby_min,
    )  # small, so the township-first rule bites too
    try:
        edges = candidates.candidate_edges(elders, givers, per_elder=per_elder)
        full = candidates.candidate_edges(elders, givers, per_elder=10**6)
    finally:
        pairing_rules.NEARBY_MIN = saved
    assert set(edges) <= set(full)
    priority = {e.id: e.priority for e in elders}
    assert {k for k in full if priority[k[0]] != scoring.NORMAL} <= set(edges)  # no priority pair is cut
    assert tier_counts(edges, elders, givers) == tier_counts(full, elders, givers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(populations())
def test_with_the_whole_county_in_reach_the_cut_graph_matches_every_possible_pair(population):
    """NEARBY_MIN out of reach: the uncut graph is every pair that can help (scoring.score_candidates)."""
    elders, givers, per_elder, _ = population
    saved, pairing_rules.NEARBY_MIN = pairing_rules.NEARBY_MIN, 10**6
    try:
        edges = candidates.candidate_edges(elders, givers, per_elder=per_elder)
    finally:
        pairing_rules.NEARBY_MIN = saved
    assert tier_counts(edges, elders, givers) == tier_counts(uncut(elders, givers), elders, givers)


def test_a_key_elder_left_short_by_the_township_first_rule_is_repaired_county_wide():
    """吉强镇 offers NEARBY_MIN givers, so its 重点 elders are first scored against their township only; eleven
    重点 elders there and ten places: one is left out while a 一般 elder of 兴隆镇 takes the only other giver
    of the county. The repair pass scores the one left out county-wide: every 重点 elder is paired."""
    key = [
        scoring.ElderInput(id=i, village_code=VILLAGE_A, priority=scoring.KEY, needs=frozenset({"care"}))
        for i in range(pairing_rules.NEARBY_MIN + 1)
    ]
    normal = scoring.ElderInput(id="n", village_code=OTHER_TOWNSHIP, needs=frozenset({"care"}))
    givers = [
        scoring.GiverInput(id=f"g{i}", village_code=VILLAGE_B, skills=frozenset({"care"}))
        for i in range(pairing_rules.NEARBY_MIN)
    ] + [scoring.GiverInput(id="far", village_code=OTHER_TOWNSHIP, skills=frozenset({"care"}))]
    elders = [*key, normal]
    assert (
        tier_counts(candidates.candidate_edges(elders, givers), elders, givers)[0] == pairing_rules.NEARBY_MIN
    )  # the gap
    steps = []
    _edges, chosen = match_runs._solve(elders, givers, set(), lambda percent, stage: steps.append(stage))
    assert sorted(e for e, _ in chosen if e != "n") == list(range(pairing_rules.NEARBY_MIN + 1))
    assert ("n", "far") not in chosen
    assert steps.count("solving") == 2  # one repair pass, no more


def test_the_repair_pass_leaves_alone_what_needs_no_repair():
    elders = [scoring.ElderInput(id=1, village_code=VILLAGE_A, priority=scoring.KEY, needs=frozenset({"care"}))]
    givers = [scoring.GiverInput(id="g", village_code=VILLAGE_A, skills=frozenset({"care"}))]
    steps = []
    _edges, chosen = match_runs._solve(elders, givers, set(), lambda percent, stage: steps.append(stage))
    assert chosen == [(1, "g")] and steps.count("solving") == 1
