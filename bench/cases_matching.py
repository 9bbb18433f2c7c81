"""Matching engine at county-plus scale: `assign` on 20,000 elders × 10,000 givers, ~50 candidates each.

Target (issue 6): the optimum within 5 s. The instance is generated once with a fixed seed; scores are
shaped like the real ones (priority tier weight from `services.pairing.scoring.tier_weights` + a 1…100
component), so the solver sees the same cost range as in production.
"""

from functools import cache

import numpy as np

ELDERS = 20_000
GIVERS = 10_000
CANDIDATES_PER_ELDER = 50
SEED = 6


@cache
def matching_instance(
    elders: int = ELDERS, givers: int = GIVERS, per_elder: int = CANDIDATES_PER_ELDER, seed: int = SEED
) -> tuple[dict, dict, dict]:
    from services.pairing.scoring import COMPONENT_MAX, tier_weights

    rng = np.random.default_rng(seed)
    demand = rng.integers(1, 3, elders)  # 一帮一 and 多帮一
    capacity = rng.integers(0, 5, givers)  # some givers already full
    priority = rng.choice(np.array(["key", "attention", "normal"]), size=elders, p=[0.1, 0.2, 0.7])
    weights = tier_weights(int(min(demand.sum(), capacity.sum())))
    tier = np.array([weights[p] for p in priority], dtype=np.int64)

    elder_ids = np.repeat(np.arange(elders), per_elder)
    giver_ids = rng.integers(0, givers, elders * per_elder) + 1_000_000  # distinct from elder ids
    score = tier[elder_ids] + rng.integers(1, COMPONENT_MAX + 1, elders * per_elder)
    scores = dict(zip(zip(elder_ids.tolist(), giver_ids.tolist(), strict=True), score.tolist(), strict=True))
    demands = dict(enumerate(demand.tolist()))
    capacities = {1_000_000 + j: c for j, c in enumerate(capacity.tolist())}
    return demands, capacities, scores


def register(suite) -> None:
    from services.pairing.matching import assign

    def run():
        demands, capacities, scores = matching_instance()
        return assign(demands, capacities, scores)

    suite.call(f"matching: assign {ELDERS:,} elders × {GIVERS:,} givers", run, repeat=3)
