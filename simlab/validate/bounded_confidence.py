"""Bounded-confidence benchmarks: Deffuant and Hegselmann–Krause driven through the registry.

Both models run as registered (:data:`simlab.opinion.OPINIONS`), on a population
in which agent ``i`` authors post ``i`` whose leaning is agent ``i``'s current
leaning, so "being served post j" means "meeting agent j":

- **Deffuant** [Deffuant2000]: each round every agent is served one post by a
  uniformly drawn other agent (random pairwise meetings; the model plays them in
  an order drawn from its rng), μ = 0.5, initial leanings U(-1, 1).
- **Hegselmann–Krause** [Hegselmann2002]: each round every agent is served every
  other agent's post (the complete confidence graph of the paper), until no
  leaning moves by more than 1e-9.

Leanings span [-1, 1], twice the paper's unit interval, so the paper's ε is
``2 ε`` here. Clusters are counted on the final leanings sorted, split where
two neighbours are more than ``CLUSTER_GAP`` apart (on the paper's scale);
a cluster is *major* when it holds at least ``MAJOR_SHARE`` of the agents. That
leaves out the few "extremist" agents stranded near the ends of the range,
which [Deffuant2000] and later replications [Lorenz2007] report separately from
the major clusters; the paper's count for ε = 0.1 is then about ⌊1 / (2ε)⌋ = 5.
"""

from __future__ import annotations

import numpy as np

from simlab.opinion import OPINIONS, OpinionInput
from simlab.world import Population, SimState

CLUSTER_GAP = 0.05  # paper scale [0, 1]: neighbours further apart start a new cluster
MAJOR_SHARE = 0.05  # a major cluster holds at least this share of the agents


def agents_as_posts(leaning: np.ndarray) -> Population:
    """A population of ``n`` agents where post ``i`` is by agent ``i`` and has its leaning."""
    x = np.asarray(leaning, dtype=float)
    n = len(x)
    index = np.arange(n)
    return Population(
        agent_ids=np.array([f"agent{i}" for i in index], dtype=object),
        handles=np.array([f"agent{i}.validate" for i in index], dtype=object),
        leaning=x,
        interests=np.ones((n, 1)),
        activity_rate=np.ones(n),
        like_propensity=np.zeros(n),
        comment_propensity=np.zeros(n),
        follow_propensity=np.zeros(n),
        accounts=np.array([f"agent{i}.validate" for i in index], dtype=object),
        account_leaning=x.copy(),
        post_ids=np.array([f"post{i}" for i in index], dtype=object),
        post_topic=np.zeros(n, dtype=np.int64),
        post_leaning=x.copy(),
        post_author=index.astype(np.int64),
        post_created=np.zeros(n),
        post_likes=np.zeros(n, dtype=np.int64),
        post_comments=np.zeros(n, dtype=np.int64),
        post_reposts=np.zeros(n, dtype=np.int64),
        follow_pairs=np.zeros((0, 2), dtype=np.int64),
    )


def major_clusters(leaning: np.ndarray) -> int:
    """Number of major clusters of final leanings on [-1, 1] (module docstring's definition)."""
    x = np.sort(np.asarray(leaning, dtype=float))
    cuts = np.flatnonzero(np.diff(x) > 2 * CLUSTER_GAP)
    sizes = np.diff(np.concatenate([[0], cuts + 1, [len(x)]]))
    return int((sizes >= MAJOR_SHARE * len(x)).sum())


def deffuant_final(epsilon: float, agents: int, rounds: int, seed: int) -> np.ndarray:
    """Final leanings after ``rounds`` rounds of random pairwise meetings (paper-scale ``epsilon``).

    Each round, every agent is served the post of one other agent drawn uniformly,
    and the registered ``deffuant`` update plays those meetings with μ = 0.5.
    """
    rng = np.random.default_rng(seed)
    pop = agents_as_posts(rng.uniform(-1, 1, agents))
    model = OPINIONS.get("deffuant")
    params = model.params(epsilon=2 * epsilon, mu=0.5)
    state = SimState.initial(pop)
    everyone = np.arange(agents)
    for turn in range(rounds):
        partner = (everyone + rng.integers(1, agents, agents)) % agents  # never oneself
        meeting = OpinionInput(pop, state, turn, everyone, partner[:, None])
        state.leaning = model.update(meeting, params, rng)
    return state.leaning


def hegselmann_krause_final(
    epsilon: float, agents: int, seed: int, max_rounds: int = 500
) -> np.ndarray:
    """Final leanings of the registered ``hegselmann_krause`` model on the complete graph.

    Every round each agent is served every other agent's current leaning (paper-scale
    ``epsilon``); stops when no leaning moves by more than 1e-9, or after ``max_rounds``.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, agents)
    model = OPINIONS.get("hegselmann_krause")
    params = model.params(epsilon=2 * epsilon)
    everyone = np.arange(agents)
    others = np.array([np.delete(everyone, i) for i in everyone]).reshape(agents, agents - 1)
    for turn in range(max_rounds):
        pop = agents_as_posts(x)
        new = model.update(
            OpinionInput(pop, SimState.initial(pop), turn, everyone, others), params, rng
        )
        if np.max(np.abs(new - x)) <= 1e-9:
            return new
        x = new
    return x


def consensus_threshold(agents: int, seeds: int, grid: np.ndarray) -> float:
    """Smallest paper-scale ε on ``grid`` where most of ``seeds`` HK runs end in one major cluster.

    Returns NaN when no ε on the grid reaches consensus in more than half of the runs.
    """
    for epsilon in np.sort(grid):
        reached = [
            major_clusters(hegselmann_krause_final(float(epsilon), agents, seed)) == 1
            for seed in range(seeds)
        ]
        if np.mean(reached) > 0.5:
            return float(epsilon)
    return float("nan")
