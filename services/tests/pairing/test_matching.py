"""The matching engine and the pairing scores, checked against independent exact solutions.

No database: `assign` and `edge_scores` work on plain values. The references are a brute force over
subsets of candidate pairs (tiny instances) and a mixed-integer program solved by SciPy/HiGHS.
"""

import itertools
import random
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from services.pairing import matching
from services.pairing.matching import assign
from services.pairing.scoring import (
    COMPONENT_MAX,
    ElderInput,
    GiverInput,
    edge_scores,
    explain_pairs,
    score_candidates,
    tier_weights,
)

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

VILLAGE = "640422100201"
SAME_TOWNSHIP = "640422100202"
SAME_COUNTY = "640422101203"
OTHER_COUNTY = "640104001001"


# ---------------------------------------------------------------- references


def brute_force_best(demands, capacities, scores) -> int:
    """The best total over every subset of candidate pairs that respects both capacities."""
    edges = list(scores)
    best = 0
    for r in range(len(edges) + 1):
        for subset in itertools.combinations(edges, r):
            if _feasible(subset, demands, capacities):
                best = max(best, sum(scores[p] for p in subset))
    return best


def milp_best(demands, capacities, scores, *, objective=None, extra=()) -> float:
    """Max Σ objective·x over 0/1 pair variables under the capacities (and any extra rows), by HiGHS."""
    edges = list(scores)
    if not edges:
        return 0
    m = len(edges)
    elder_row = {e: i for i, e in enumerate(demands)}
    giver_row = {g: len(demands) + j for j, g in enumerate(capacities)}
    rows = [elder_row[e] for e, _ in edges] + [giver_row[g] for _, g in edges]
    matrix = sparse.csr_matrix((np.ones(2 * m), (rows, list(range(m)) * 2)), shape=(len(demands) + len(capacities), m))
    upper = np.array(list(demands.values()) + list(capacities.values()), dtype=float)
    constraints = [LinearConstraint(matrix, -np.inf, upper)]
    for row_weights, lower in extra:
        constraints.append(LinearConstraint(np.array([[row_weights.get(p, 0) for p in edges]]), lower, np.inf))
    weights = np.array([(objective or scores)[p] for p in edges], dtype=float)
    result = milp(
        -weights,
        constraints=constraints,
        integrality=np.ones(m),
        bounds=Bounds(0, 1),
        options={"mip_rel_gap": 0},
    )
    assert result.success
    return -result.fun


def _feasible(pairs, demands, capacities) -> bool:
    per_elder = Counter(e for e, _ in pairs)
    per_giver = Counter(g for _, g in pairs)
    return all(per_elder[e] <= demands[e] for e in per_elder) and all(per_giver[g] <= capacities[g] for g in per_giver)


def check_solution(pairs, demands, capacities, scores) -> int:
    assert len(pairs) == len(set(pairs)), "a pair is chosen twice"
    assert all(p in scores for p in pairs), "a pair that is not a candidate"
    assert _feasible(pairs, demands, capacities), "a demand or a capacity is exceeded"
    assert all(scores[p] > 0 for p in pairs), "a pair worth nothing is chosen"
    return sum(scores[p] for p in pairs)


@st.composite
def instances(draw, max_elders=5, max_givers=5, max_score=30, max_edges=None):
    elders = [f"e{i}" for i in range(draw(st.integers(0, max_elders)))]
    givers = [f"g{j}" for j in range(draw(st.integers(0, max_givers)))]
    demands = {e: draw(st.integers(0, 3)) for e in elders}
    capacities = {g: draw(st.integers(0, 3)) for g in givers}
    pairs = [(e, g) for e in elders for g in givers]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=max_edges or len(pairs))) if pairs else []
    scores = {p: draw(st.integers(0, max_score)) for p in chosen}
    return demands, capacities, scores


# ---------------------------------------------------------------- optimality


@PROPERTY
@given(instances(max_elders=4, max_givers=4, max_edges=10))
def test_assign_equals_brute_force_on_tiny_instances(instance):
    demands, capacities, scores = instance
    pairs = assign(demands, capacities, scores)
    assert check_solution(pairs, demands, capacities, scores) == brute_force_best(demands, capacities, scores)


@PROPERTY
@given(instances(max_elders=8, max_givers=6, max_score=1000))
def test_assign_equals_integer_program(instance):
    demands, capacities, scores = instance
    pairs = assign(demands, capacities, scores)
    assert check_solution(pairs, demands, capacities, scores) == round(milp_best(demands, capacities, scores))


def test_assign_equals_integer_program_at_production_score_sizes():
    # 1,500 elders × 600 givers, 8 candidates each, scores shaped like the real ones (tier weight up to
    # ~10⁸ + component): the cost range the solver meets in a county.
    rng = np.random.default_rng(1)
    demands = {i: int(d) for i, d in enumerate(rng.integers(0, 3, 1500))}
    capacities = {f"g{j}": int(c) for j, c in enumerate(rng.integers(0, 5, 600))}
    weights = tier_weights(min(sum(demands.values()), sum(capacities.values())))
    tiers = rng.choice([weights["key"], weights["attention"], 0], size=1500, p=[0.1, 0.2, 0.7])
    scores = {
        (i, f"g{j}"): int(tiers[i]) + int(rng.integers(0, COMPONENT_MAX + 1))
        for i in range(1500)
        for j in rng.choice(600, size=8, replace=False)
    }
    pairs = assign(demands, capacities, scores)
    assert check_solution(pairs, demands, capacities, scores) == round(milp_best(demands, capacities, scores))


@PROPERTY
@given(instances(max_elders=6, max_givers=6), st.randoms(use_true_random=False))
def test_assign_is_deterministic_and_sorted(instance, rnd):
    demands, capacities, scores = instance
    first = assign(demands, capacities, scores)

    def shuffled(mapping):
        items = list(mapping.items())
        rnd.shuffle(items)
        return dict(items)

    assert assign(shuffled(demands), shuffled(capacities), shuffled(scores)) == first
    assert first == sorted(first)


def test_ties_are_broken_the_same_way_whatever_the_input_order():
    demands = {"a": 1, "b": 1}
    capacities = {"x": 1}
    forward = assign(demands, capacities, {("a", "x"): 5, ("b", "x"): 5})
    backward = assign(dict(reversed(demands.items())), capacities, {("b", "x"): 5, ("a", "x"): 5})
    assert forward == backward and len(forward) == 1


def test_maximum_weight_not_maximum_cardinality():
    # Two pairs worth 1 + 1 lose to the single pair worth 10 that blocks them both.
    demands = {"a": 1, "b": 1}
    capacities = {"x": 1, "y": 1}
    scores = {("a", "x"): 10, ("a", "y"): 1, ("b", "x"): 1}
    assert assign(demands, capacities, scores) == [("a", "x")]


def test_one_helps_many_and_many_help_one():
    # 一帮多: giver x takes three elders; 多帮一: elder d gets two givers.
    demands = {"a": 1, "b": 1, "c": 1, "d": 2}
    capacities = {"x": 3, "y": 1, "z": 1}
    scores = {("a", "x"): 5, ("b", "x"): 5, ("c", "x"): 5, ("d", "y"): 4, ("d", "z"): 3, ("d", "x"): 1}
    assert assign(demands, capacities, scores) == [("a", "x"), ("b", "x"), ("c", "x"), ("d", "y"), ("d", "z")]


def test_zero_scores_are_never_chosen():
    assert assign({"a": 1}, {"x": 1}, {("a", "x"): 0}) == []
    assert assign({"a": 2}, {"x": 1, "y": 1}, {("a", "x"): 0, ("a", "y"): 3}) == [("a", "y")]


# ---------------------------------------------------------------- edge cases


def test_empty_inputs():
    assert assign({}, {}, {}) == []
    assert assign({"a": 1}, {}, {}) == []  # no givers
    assert assign({}, {"x": 2}, {}) == []  # empty region


def test_zero_capacity_and_zero_demand():
    scores = {("a", "x"): 5, ("b", "y"): 5}
    assert assign({"a": 1, "b": 1}, {"x": 0, "y": 0}, scores) == []  # every giver at capacity
    assert assign({"a": 0, "b": 0}, {"x": 1, "y": 1}, scores) == []
    assert assign({"a": 0, "b": 1}, {"x": 1, "y": 1}, scores) == [("b", "y")]


def test_demand_larger_than_candidates():
    assert assign({"a": 5}, {"x": 3}, {("a", "x"): 2}) == [("a", "x")]


def test_any_hashable_ids_even_mixed_types():
    demands = {1: 1, "1": 1, ("v", 2): 1}
    capacities = {None: 1, 2.5: 1, frozenset({"g"}): 1}
    scores = {(1, None): 3, ("1", 2.5): 4, (("v", 2), frozenset({"g"})): 5, (1, 2.5): 1}
    pairs = assign(demands, capacities, scores)
    assert set(pairs) == {(1, None), ("1", 2.5), (("v", 2), frozenset({"g"}))}
    assert assign(dict(reversed(demands.items())), capacities, dict(reversed(scores.items()))) == pairs


def test_numpy_integers_are_accepted():
    assert assign({"a": np.int64(1)}, {"x": np.int32(1)}, {("a", "x"): np.int64(7)}) == [("a", "x")]


@pytest.mark.parametrize(
    ("demands", "capacities", "scores", "error", "message"),
    [
        ({"a": -1}, {"x": 1}, {("a", "x"): 1}, ValueError, "demands['a'] must not be negative"),
        ({"a": 1}, {"x": -2}, {("a", "x"): 1}, ValueError, "capacities['x'] must not be negative"),
        ({"a": 1}, {"x": 1}, {("a", "x"): -3}, ValueError, "scores[('a', 'x')] must not be negative"),
        ({"a": 1.0}, {"x": 1}, {("a", "x"): 1}, TypeError, "demands['a'] must be an int"),
        ({"a": 1}, {"x": "1"}, {("a", "x"): 1}, TypeError, "capacities['x'] must be an int"),
        ({"a": 1}, {"x": 1}, {("a", "x"): 1.5}, TypeError, "scores[('a', 'x')] must be an int"),
        ({"a": True}, {"x": 1}, {("a", "x"): 1}, TypeError, "demands['a'] must be an int"),
        ({"a": 1}, {"x": 1}, {("a", "x"): True}, TypeError, "scores[('a', 'x')] must be an int"),
        ({"a": 1}, {"x": 1}, {("a", "y"): 1}, ValueError, "scores names giver 'y'"),
        ({"a": 1}, {"x": 1}, {("b", "x"): 1}, ValueError, "scores names elder 'b'"),
        ({"a": 1}, {"x": 1}, {"ax": 1}, ValueError, "must be an (elder id, giver id) tuple"),
        ({"a": 1}, {"x": 1}, {("a", "x", "z"): 1}, ValueError, "must be an (elder id, giver id) tuple"),
        ([("a", 1)], {"x": 1}, {("a", "x"): 1}, TypeError, "demands must be a mapping"),
        ({"a": 1}, {"x": 1}, [(("a", "x"), 1)], TypeError, "scores must be a mapping"),
        ({"a": 1}, {"x": 1}, {("a", "x"): 2**70}, ValueError, "too large"),
        ({"a": 2**50}, {"x": 1}, {("a", "x"): 1}, ValueError, "too large"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(demands, capacities, scores, error, message):
    with pytest.raises(error) as excinfo:
        assign(demands, capacities, scores)
    assert message in str(excinfo.value)


def test_error_messages_are_module_constants():
    with pytest.raises(ValueError) as excinfo:
        assign({"a": 1}, {"x": 1}, {("a", "y"): 1})
    assert str(excinfo.value) == matching.UNKNOWN_GIVER.format(giver="y")


def test_scores_too_large_for_an_exact_solve_are_refused_not_rounded():
    with pytest.raises(ValueError, match="too large for an exact solve"):
        assign({"a": 1}, {"x": 1}, {("a", "x"): 2**62})


# ---------------------------------------------------------------- scores


def elder(id, village=VILLAGE, priority="normal", needs=(), professional=(), demand=1, availability=()):
    return ElderInput(
        id=id,
        village_code=village,
        priority=priority,
        needs=frozenset(needs) | frozenset(professional),
        professional_needs=frozenset(professional),
        demand=demand,
        availability=frozenset(availability),
    )


def giver(id, village=VILLAGE, capacity=1, skills=(), social_worker=False, availability=(), current=()):
    return GiverInput(
        id=id,
        village_code=village,
        capacity=capacity,
        skills=frozenset(skills),
        is_social_worker=social_worker,
        availability=frozenset(availability),
        current_elders=frozenset(current),
    )


def test_distance_orders_village_township_county_and_stops_at_the_county():
    e = elder("e", needs={"生活照料"})
    givers = [
        giver("v", VILLAGE, skills={"生活照料"}),
        giver("t", SAME_TOWNSHIP, skills={"生活照料"}),
        giver("c", SAME_COUNTY, skills={"生活照料"}),
        giver("o", OTHER_COUNTY, skills={"生活照料"}),
    ]
    edges = score_candidates([e], givers)
    assert ("e", "o") not in edges
    assert edges[("e", "v")].score > edges[("e", "t")].score > edges[("e", "c")].score > 0
    assert "same_village" in edges[("e", "v")].reasons
    assert "same_township" in edges[("e", "t")].reasons
    assert "same_county" in edges[("e", "c")].reasons


def test_skills_share_and_reasons():
    e = elder("e", needs={"生活照料", "精神慰藉"})
    edges = score_candidates(
        [e], [giver("both", skills={"生活照料", "精神慰藉", "助餐"}), giver("one", skills={"生活照料"})]
    )
    assert edges[("e", "both")].score > edges[("e", "one")].score
    assert edges[("e", "both")].reasons == ("same_village", "covers:生活照料", "covers:精神慰藉")
    # A giver who covers none of the needs is no candidate.
    assert score_candidates([e], [giver("none", skills={"助餐"})]) == {}


def test_professional_need_only_counts_for_a_social_worker():
    e = elder("e", professional={"心理疏导"})
    volunteer = giver("volunteer", skills={"心理疏导"})
    worker = giver("worker", skills={"心理疏导"}, social_worker=True)
    edges = score_candidates([e], [volunteer, worker])
    assert ("e", "volunteer") not in edges
    assert {"covers:心理疏导", "social_worker"} <= set(edges[("e", "worker")].reasons)


def test_availability_and_continuity_add_points():
    e = elder("e", needs={"生活照料"}, availability={"sat_am", "sun_am"})
    base = giver("base", skills={"生活照料"})
    free = giver("free", skills={"生活照料"}, availability={"sat_am", "sun_am", "mon_pm"})
    kept = giver("kept", skills={"生活照料"}, current={"e"})
    edges = score_candidates([e], [base, free, kept])
    assert edges[("e", "free")].score > edges[("e", "base")].score
    assert "available" in edges[("e", "free")].reasons
    assert edges[("e", "kept")].score > edges[("e", "base")].score
    assert "continuing" in edges[("e", "kept")].reasons
    assert all(1 <= edge.component <= COMPONENT_MAX for edge in edges.values())


def test_continuing_pairing_is_kept_by_the_engine():
    elders = [elder("e", needs={"生活照料"})]
    givers = [giver("old", SAME_TOWNSHIP, skills={"生活照料"}, current={"e"}), giver("new", skills={"生活照料"})]
    edges = edge_scores(elders, givers)
    assert assign({"e": 1}, {"old": 1, "new": 1}, edges) == [("e", "old")]


def test_no_candidates_for_zero_demand_or_capacity():
    assert edge_scores([elder("e", demand=0)], [giver("g")]) == {}
    assert edge_scores([elder("e")], [giver("g", capacity=0)]) == {}
    assert edge_scores([], []) == {}


@pytest.mark.parametrize(
    ("elders", "givers", "error", "message"),
    [
        ([elder("e", priority="urgent")], [], ValueError, "priority must be one of"),
        ([elder("e", village="6404")], [], ValueError, "12-digit"),
        ([], [giver("g", village=640422100201)], ValueError, "12-digit"),
        ([elder("e"), elder("e")], [], ValueError, "appears twice"),
        ([elder("e", demand=-1)], [], ValueError, "demand must be a non-negative int"),
        ([], [giver("g", capacity=1.5)], TypeError, "capacity must be a non-negative int"),
    ],
)
def test_scoring_refuses_bad_input(elders, givers, error, message):
    with pytest.raises(error, match=message):
        edge_scores(elders, givers)


# ---------------------------------------------------------------- priority dominates


def test_priority_beats_a_much_better_lower_priority_match():
    # The normal elder lives next door and needs exactly what the giver does; the key elder is across
    # the county and only partly covered. The key elder must still get the giver.
    key = elder("key", SAME_COUNTY, priority="key", needs={"生活照料", "助餐", "助浴"})
    normal = elder("normal", needs={"生活照料"}, availability={"sat_am"})
    g = giver("g", skills={"生活照料"}, availability={"sat_am"}, current={"normal"})
    edges = edge_scores([key, normal], [g])
    assert assign({"key": 1, "normal": 1}, {"g": 1}, edges) == [("key", "g")]


def long_exchange(n=6):
    """x0 … xn are 重点 elders; giver g(i) covers s(i−1) and s(i). Each x(i≥1) has a perfect, continuing
    match g(i) next door, and a poor one g(i+1) in another township; x0 only has g1 (poor); the normal
    elder N has a perfect, continuing match g(n+1). Covering every 重点 elder means moving all of
    x1 … xn to their poor giver and leaving N out: one more 重点 pair costs n good matches."""
    village = [f"640422{100 + i:03d}200" for i in range(n + 2)]
    elders = [elder("x0", village[0], priority="key", needs={"s0"}, availability={"am"})]
    elders += [
        elder(f"x{i}", village[i], priority="key", needs={f"s{i}"}, availability={"am"}) for i in range(1, n + 1)
    ]
    elders.append(elder("N", village[n + 1], needs={f"s{n + 1}"}, availability={"am"}))
    givers = [
        giver(f"g{i}", village[i], skills={f"s{i - 1}", f"s{i}"}, availability={"am"}, current={f"x{i}"})
        for i in range(1, n + 1)
    ]
    givers.append(giver(f"g{n + 1}", village[n + 1], skills={f"s{n}", f"s{n + 1}"}, availability={"am"}, current={"N"}))
    return elders, givers


def test_priority_holds_along_a_long_exchange():
    elders, givers = long_exchange()
    demands = {e.id: e.demand for e in elders}
    capacities = {g.id: g.capacity for g in givers}
    pairs = assign(demands, capacities, edge_scores(elders, givers))
    assert {e for e, _ in pairs} == {f"x{i}" for i in range(7)}  # every 重点 elder; N waits

    # The instance is sharp: a priority bonus that only beats one lower-tier pair (L + 1) fails here.
    naive = {
        key: edge.component + (COMPONENT_MAX + 1 if key[0].startswith("x") else 0)
        for key, edge in score_candidates(elders, givers).items()
    }
    assert "x0" not in {e for e, _ in assign(demands, capacities, naive)}


def test_attention_beats_normal_and_key_beats_attention():
    elders = [
        elder("n", needs={"a"}),
        elder("t", SAME_COUNTY, priority="attention", needs={"a", "b"}),
        elder("k", SAME_COUNTY, priority="key", needs={"a", "b", "c"}),
    ]
    edges = edge_scores(elders, [giver("g", skills={"a"}, capacity=1)])
    assert assign({"n": 1, "t": 1, "k": 1}, {"g": 1}, edges) == [("k", "g")]
    edges = edge_scores(elders, [giver("g", skills={"a"}, capacity=2)])
    assert assign({"n": 1, "t": 1, "k": 1}, {"g": 2}, edges) == [("k", "g"), ("t", "g")]


def test_tier_weights_satisfy_the_documented_bound():
    for max_pairs in (0, 1, 7, 20_000):
        w = tier_weights(max_pairs)
        assert w["attention"] > COMPONENT_MAX * max_pairs
        assert w["key"] > (w["attention"] + COMPONENT_MAX) * max_pairs


CODES = [VILLAGE, SAME_TOWNSHIP, SAME_COUNTY, "640422101204", OTHER_COUNTY]
SKILLS = ["生活照料", "精神慰藉", "助餐", "心理疏导"]


@st.composite
def populations(draw):
    elders = [
        ElderInput(
            id=f"e{i}",
            village_code=draw(st.sampled_from(CODES)),
            priority=draw(st.sampled_from(["key", "attention", "normal"])),
            needs=frozenset(draw(st.sets(st.sampled_from(SKILLS), max_size=3))),
            professional_needs=frozenset(draw(st.sets(st.just("心理疏导"), max_size=1))),
            demand=draw(st.integers(0, 2)),
            availability=frozenset(draw(st.sets(st.sampled_from(["am", "pm"]), max_size=2))),
        )
        for i in range(draw(st.integers(0, 7)))
    ]
    ids = [e.id for e in elders]
    givers = [
        GiverInput(
            id=f"g{j}",
            village_code=draw(st.sampled_from(CODES)),
            capacity=draw(st.integers(0, 3)),
            skills=frozenset(draw(st.sets(st.sampled_from(SKILLS), max_size=3))),
            is_social_worker=draw(st.booleans()),
            availability=frozenset(draw(st.sets(st.sampled_from(["am", "pm"]), max_size=2))),
            current_elders=frozenset(draw(st.sets(st.sampled_from(ids), max_size=2)) if ids else ()),
        )
        for j in range(draw(st.integers(0, 5)))
    ]
    return elders, givers


@PROPERTY
@given(populations())
def test_priority_dominates_on_random_populations(population):
    elders, givers = population
    edges = edge_scores(elders, givers)
    demands = {e.id: e.demand for e in elders}
    capacities = {g.id: g.capacity for g in givers}
    pairs = assign(demands, capacities, edges)
    check_solution(pairs, demands, capacities, edges)
    rank = {"key": 2, "attention": 1, "normal": 0}
    level = {e.id: rank[e.priority] for e in elders}

    # No single swap: an elder short of givers never misses a giver held by a lower-priority elder.
    held = Counter(e for e, _ in pairs)
    chosen = set(pairs)
    for e_id, g_id in edges:
        if held[e_id] < demands[e_id] and (e_id, g_id) not in chosen:
            assert all(level[other] >= level[e_id] for other, g in pairs if g == g_id)

    # No exchange of any length either: the key pair count is the maximum possible, and given that,
    # so is the attention pair count (independent integer programs).
    key_edges = {p: int(level[p[0]] == 2) for p in edges}
    attention_edges = {p: int(level[p[0]] == 1) for p in edges}
    best_key = round(milp_best(demands, capacities, edges, objective=key_edges))
    best_attention = round(
        milp_best(demands, capacities, edges, objective=attention_edges, extra=[(key_edges, best_key)])
    )
    assert sum(key_edges[p] for p in pairs) == best_key
    assert sum(attention_edges[p] for p in pairs) == best_attention
    assert sum(edges[p] for p in pairs) == round(milp_best(demands, capacities, edges))


@PROPERTY
@given(populations())
def test_candidate_edges_agree_with_the_pair_by_pair_reference(population):
    elders, givers = population
    assert edge_scores(elders, givers) == {k: e.score for k, e in score_candidates(elders, givers).items()}


def test_many_service_categories_use_several_mask_words():
    labels = [f"c{i}" for i in range(150)]
    elders = [elder(f"e{i}", needs=set(labels[i::7]), availability={f"t{i}"}) for i in range(7)]
    givers = [giver(f"g{j}", skills=set(labels[j::5]), availability={f"t{j}", "t3"}) for j in range(5)]
    edges = edge_scores(elders, givers)
    assert edges == {k: e.score for k, e in score_candidates(elders, givers).items()}
    assert len(edges) == 35
    with pytest.raises(ValueError, match="At most 256 distinct"):
        edge_scores([elder("e", needs={f"c{i}" for i in range(300)})], [giver("g")])


def test_explain_pairs_gives_the_reasons_of_the_proposals():
    elders = [
        elder("k", priority="key", needs={"生活照料", "精神慰藉"}, professional={"心理疏导"}),
        elder("n", SAME_TOWNSHIP, needs={"助餐"}),
    ]
    givers = [
        giver("sw", skills={"心理疏导", "精神慰藉"}, social_worker=True, availability={"am"}, current={"k"}),
        giver("v", skills={"助餐"}),
    ]
    scores = edge_scores(elders, givers)
    pairs = assign({"k": 1, "n": 1}, {"sw": 1, "v": 1}, scores)
    explained = explain_pairs(elders, givers, scores, pairs)
    assert explained == {p: e for p, e in score_candidates(elders, givers).items() if p in pairs}
    assert explained[("k", "sw")].reasons == (
        "priority:key",
        "same_village",
        "covers:心理疏导",
        "covers:精神慰藉",
        "social_worker",
        "available",
        "continuing",
    )
    assert explained[("n", "v")].reasons == ("same_township", "covers:助餐")
    assert explained[("n", "v")].component == 25 + 30


def test_priority_on_a_larger_random_county():
    rnd = random.Random(6)  # noqa: S311 - a fixed test instance
    villages = [f"640422{t:03d}{v:03d}" for t in range(100, 104) for v in range(200, 205)]
    elders = [
        ElderInput(
            id=i,
            village_code=rnd.choice(villages),
            priority=rnd.choice(["key", "attention", "normal", "normal"]),
            needs=frozenset(rnd.sample(SKILLS[:3], rnd.randint(1, 2))),
            demand=rnd.randint(1, 2),
        )
        for i in range(150)
    ]
    givers = [
        GiverInput(
            id=f"g{j}",
            village_code=rnd.choice(villages),
            capacity=rnd.randint(0, 3),
            skills=frozenset(rnd.sample(SKILLS[:3], rnd.randint(1, 3))),
        )
        for j in range(60)
    ]
    edges = edge_scores(elders, givers)
    demands = {e.id: e.demand for e in elders}
    capacities = {g.id: g.capacity for g in givers}
    pairs = assign(demands, capacities, edges)
    key_edges = {p: int(elders[p[0]].priority == "key") for p in edges}
    assert sum(key_edges[p] for p in pairs) == round(milp_best(demands, capacities, edges, objective=key_edges))
    assert sum(edges[p] for p in pairs) == round(milp_best(demands, capacities, edges))
