"""Every metric against a second, independent computation.

Expected values come from hand-worked examples, plain Python loops, scipy.stats
or networkx, never from simlab's own helpers.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from scipy import stats

from simlab import metrics
from simlab.errors import InputError
from simlab.metrics import METRICS, RunData, TurnData, compute_run, compute_turn, resolve_keys
from simlab.sparse_pairs import PairSet
from simlab.world import Population, SimState

REFERENCES = Path(__file__).resolve().parent.parent / "docs" / "references.md"
N_TOPICS = 12

# Plain tallies (registered like any metric; they cite nothing).
COUNTS = {
    "turn.actions.likes",
    "turn.actions.comments",
    "turn.actions.follows",
    "turn.actions.total",
    "turn.feed.impressions",
    "turn.feed.unique_posts",
    "turn.network.follow_edges",
    "run.actions.likes",
    "run.actions.comments",
    "run.actions.follows",
    "run.actions.total",
    "run.network.new_follow_edges",
}


# --- builders ----------------------------------------------------------------------------------


def make_pop(
    leaning,
    post_topic,
    post_leaning,
    post_author,
    n_outsiders: int = 0,
    follow_pairs=(),
) -> Population:
    """A population of len(leaning) agents, then n_outsiders outside accounts, and the posts."""
    n_agents, n_posts = len(leaning), len(post_topic)
    handles = np.array([f"agent{i}" for i in range(n_agents)], dtype=object)
    outsiders = [f"outsider{i}" for i in range(n_outsiders)]
    return Population(
        agent_ids=np.array([f"id{i}" for i in range(n_agents)], dtype=object),
        handles=handles,
        leaning=np.array(leaning, dtype=float),
        interests=np.full((n_agents, N_TOPICS), 1 / N_TOPICS),
        activity_rate=np.full(n_agents, 0.5),
        like_propensity=np.full(n_agents, 0.5),
        comment_propensity=np.full(n_agents, 0.5),
        follow_propensity=np.full(n_agents, 0.5),
        accounts=np.array([*handles.tolist(), *outsiders], dtype=object),
        account_leaning=np.zeros(n_agents + n_outsiders),
        post_ids=np.array([f"post{p:03d}" for p in range(n_posts)], dtype=object),
        post_topic=np.array(post_topic, dtype=np.int64),
        post_leaning=np.array(post_leaning, dtype=float),
        post_author=np.array(post_author, dtype=np.int64),
        post_created=np.arange(n_posts, dtype=float),
        post_likes=np.zeros(n_posts, dtype=np.int64),
        post_comments=np.zeros(n_posts, dtype=np.int64),
        post_reposts=np.zeros(n_posts, dtype=np.int64),
        follow_pairs=np.array(follow_pairs, dtype=np.int64).reshape(-1, 2),
    )


def simple_pop(n_agents: int = 4, n_posts: int = 6) -> Population:
    """Agents leaning -0.5, 0.5, -0.5, …; posts on topic p % 3, authored by agent p % n_agents."""
    return make_pop(
        leaning=[(-0.5, 0.5)[a % 2] for a in range(n_agents)],
        post_topic=[p % 3 for p in range(n_posts)],
        post_leaning=np.linspace(-0.9, 0.9, n_posts),
        post_author=[p % n_agents for p in range(n_posts)],
    )


def rows(values, width: int) -> np.ndarray:
    return np.array(values, dtype=np.int64).reshape(-1, width)


def make_turn(
    pop: Population,
    state: SimState | None = None,
    agents=(),
    feeds=(),
    likes=(),
    comments=(),
    follows=(),
    leaning_before=None,
    n_visible: int | None = None,
) -> TurnData:
    state = state or with_state(pop)
    feeds = np.array(feeds, dtype=np.int64).reshape(len(agents), -1 if len(agents) else 0)
    return TurnData(
        pop=pop,
        state=state,
        turn=0,
        agents=np.array(agents, dtype=np.int64),
        feeds=feeds,
        likes=rows(likes, 3),
        comments=rows(comments, 3),
        follows=rows(follows, 2),
        leaning_before=pop.leaning.copy() if leaning_before is None else np.array(leaning_before),
        n_visible=pop.n_posts if n_visible is None else n_visible,
    )


def with_state(
    pop: Population, leaning=None, follows=None, sim_likes=None, eligible=None
) -> SimState:
    """SimState.initial(pop) with some arrays replaced; every post eligible unless given."""
    state = SimState.initial(pop)
    state.eligible = np.ones(pop.n_posts, dtype=bool) if eligible is None else np.array(eligible)
    if leaning is not None:
        state.leaning = np.array(leaning, dtype=float)
    if follows is not None:
        dense = np.array(follows, dtype=bool)
        state.follows = PairSet(*dense.shape, np.argwhere(dense))
    if sim_likes is not None:
        state.sim_likes = np.array(sim_likes, dtype=np.int64)
    return state


def initial_follows(pop: Population) -> np.ndarray:
    """(n_agents, n_accounts) bool: the population's initial follow graph, dense."""
    dense = np.zeros((pop.n_agents, pop.n_accounts), dtype=bool)
    dense[pop.follow_pairs[:, 0], pop.follow_pairs[:, 1]] = True
    return dense


def make_run(pop: Population, initial: SimState, final: SimState, **totals) -> RunData:
    counts = {"impressions": 0, "likes": 0, "comments": 0, "follows": 0, **totals}
    return RunData(pop=pop, initial=initial, final=final, n_turns=3, **counts)


def random_world(seed: int) -> tuple[TurnData, RunData]:
    """A small random world with padded feeds, actions, follows and likes (for contract tests).

    It is consistent the way a run is: every post is visible (so coverage <= 1) and
    follows only grow from the initial graph.
    """
    rng = np.random.default_rng(seed)
    n_agents, n_outsiders, n_posts, k = 12, 3, 30, 5
    n_accounts = n_agents + n_outsiders
    pop = make_pop(
        leaning=rng.uniform(-1, 1, n_agents),
        post_topic=rng.integers(0, N_TOPICS, n_posts),
        post_leaning=rng.uniform(-1, 1, n_posts),
        post_author=rng.integers(0, n_accounts, n_posts),
        n_outsiders=n_outsiders,
        follow_pairs=[
            (a, u) for a in range(n_agents) for u in range(n_accounts) if (a * u) % 4 == 1
        ],
    )
    agents = np.sort(rng.choice(n_agents, 8, replace=False))
    feeds = np.array([rng.choice(n_posts, k, replace=False) for _ in agents])
    feeds[0, 3:] = -1
    likes = [(agents[i], feeds[i, j], j + 1) for i in range(1, len(agents)) for j in (0, 2)]
    comments = [(agents[i], feeds[i, 1], 2) for i in range(2, 5)]
    before = pop.leaning.copy()
    after = with_state(
        pop,
        leaning=np.clip(before + rng.normal(0, 0.1, n_agents), -1, 1),
        follows=initial_follows(pop) | (rng.random((n_agents, n_accounts)) < 0.3),
        sim_likes=rng.integers(0, 5, n_posts),
    )
    turn = make_turn(pop, after, agents, feeds, likes, comments, [(0, 1), (2, 3)], before, n_posts)
    run = make_run(pop, SimState.initial(pop), after, impressions=37, likes=14, comments=3)
    return turn, run


def turn_value(key: str, data: TurnData) -> float:
    return compute_turn([key], data)[key]


def run_value(key: str, data: RunData) -> float:
    return compute_run([key], data)[key]


# --- independent reference computations ---------------------------------------------------------


def brute_gini(values) -> float:
    x = [float(v) for v in values]
    n, mean = len(x), sum(x) / len(x)
    if mean == 0:
        return 0.0
    return sum(abs(a - b) for a in x for b in x) / (2 * n * n * mean)


def edge_list(follows) -> list[tuple[int, int]]:
    n_agents = len(follows)
    return [(a, b) for a in range(n_agents) for b in range(n_agents) if follows[a][b]]


def brute_ei(follows, leaning) -> float:
    external = internal = 0
    for a, b in edge_list(follows):
        if (leaning[a] >= 0) == (leaning[b] >= 0):
            internal += 1
        else:
            external += 1
    return (external - internal) / (external + internal)


def nx_assortativity(follows, leaning) -> float:
    graph = nx.DiGraph()
    graph.add_nodes_from((a, {"x": float(x)}) for a, x in enumerate(leaning))
    graph.add_edges_from(edge_list(follows))
    return nx.numeric_assortativity_coefficient(graph, "x")


def sas_bimodality(x) -> float:
    skew = stats.skew(x, bias=False)
    kurt = stats.kurtosis(x, bias=False)
    n = len(x)
    return (skew**2 + 1) / (kurt + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


# --- actions and feed ------------------------------------------------------------------------


def action_turn() -> TurnData:
    pop = simple_pop()
    return make_turn(
        pop,
        agents=[0, 2, 3],
        feeds=[[5, 1, 4], [1, 0, -1], [-1, -1, -1]],
        likes=[(0, 5, 1), (0, 4, 3), (2, 0, 2)],
        comments=[(2, 1, 1)],
        follows=[(0, 1), (2, 5), (3, 0), (3, 2)],
        n_visible=5,
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("turn.actions.likes", 3),
        ("turn.actions.comments", 1),
        ("turn.actions.follows", 4),
        ("turn.actions.total", 8),
        ("turn.feed.impressions", 5),
        ("turn.engagement.rate", 8 / 5),
        ("turn.feed.unique_posts", 4),  # {5, 1, 4, 0}
        ("turn.feed.coverage", 4 / 5),
        ("turn.feed.mean_liked_rank", (1 + 3 + 2) / 3),
    ],
)
def test_action_and_feed_metrics_by_hand(key, expected):
    assert turn_value(key, action_turn()) == pytest.approx(expected)


def test_feed_metrics_without_items_or_likes_are_nan_or_zero():
    empty = make_turn(simple_pop(), agents=[1], feeds=[[-1, -1]], n_visible=0)
    assert turn_value("turn.feed.impressions", empty) == 0.0
    assert turn_value("turn.feed.unique_posts", empty) == 0.0
    for key in ("turn.engagement.rate", "turn.feed.coverage", "turn.feed.mean_liked_rank"):
        assert math.isnan(turn_value(key, empty)), key


def test_run_action_metrics_by_hand():
    pop = simple_pop()
    run = make_run(
        pop,
        SimState.initial(pop),
        SimState.initial(pop),
        impressions=40,
        likes=7,
        comments=2,
        follows=1,
    )
    assert compute_run(["run.actions", "run.engagement"], run) == {
        "run.actions.comments": 2.0,
        "run.actions.follows": 1.0,
        "run.actions.likes": 7.0,
        "run.actions.total": 10.0,
        "run.engagement.rate": 0.25,
    }
    assert math.isnan(run_value("run.engagement.rate", make_run(pop, run.initial, run.final)))


# --- exposure ----------------------------------------------------------------------------------


def exposure_turn() -> TurnData:
    # Post p has topic p % 3; no post leaning sits on a bin edge. Leanings after the turn
    # are flipped, so using them instead of leaning_before changes the cross-cutting share.
    pop = make_pop(
        leaning=[0.5, -0.05, 0.0, -0.8],
        post_topic=[p % 3 for p in range(7)],
        post_leaning=[-0.9, -0.5, -0.3, 0.0, 0.3, 0.7, 0.9],
        post_author=[0, 1, 2, 3, 0, 1, 2],
    )
    return make_turn(
        pop,
        agents=[0, 1, 3],
        feeds=[[0, 3, 6, -1], [1, 4, 2, 5], [6, 6, -1, -1]],
        leaning_before=[-0.5, 0.05, 0.0, 0.8],
    )


def test_topic_entropy_against_scipy():
    data = exposure_turn()
    topics = [p % 3 for row in data.feeds for p in row if p >= 0]
    expected = stats.entropy(list(Counter(topics).values()))
    assert turn_value("turn.exposure.topic_entropy", data) == pytest.approx(expected)


def test_topic_entropy_per_agent_against_scipy():
    data = exposure_turn()
    per_agent = [
        stats.entropy(list(Counter(p % 3 for p in row if p >= 0).values())) for row in data.feeds
    ]
    assert turn_value("turn.exposure.topic_entropy_per_agent", data) == pytest.approx(
        np.mean(per_agent)
    )
    # Topics 0 and 1 give ln 2, one topic gives 0; an empty feed is left out of the mean.
    feeds = [[0, 1], [0, 3], [-1, -1]]
    mixed = make_turn(simple_pop(), agents=[0, 1, 2], feeds=feeds)
    value = turn_value("turn.exposure.topic_entropy_per_agent", mixed)
    assert value == pytest.approx(math.log(2) / 2)


def test_leaning_entropy_against_hand_bins():
    data = exposure_turn()
    edges = [-1.0, -0.6, -0.2, 0.2, 0.6, 1.0]
    bins = Counter()
    for row in data.feeds:
        for p in row:
            if p >= 0:
                y = data.pop.post_leaning[p]
                bins[next(b for b in range(5) if y < edges[b + 1] or b == 4)] += 1
    # Served leanings -0.9, 0, 0.9, -0.5, 0.3, -0.3, 0.7, 0.9, 0.9.
    assert sorted(bins.elements()) == [0, 1, 1, 2, 3, 4, 4, 4, 4]
    assert turn_value("turn.exposure.leaning_entropy", data) == pytest.approx(
        stats.entropy(list(bins.values()))
    )
    # The interval is closed at both ends: -1 and 1 fall into the outer bins.
    pop = make_pop([0.0], [0, 0], [-1.0, 1.0], [0, 0])
    extremes = make_turn(pop, agents=[0], feeds=[[0, 1]])
    assert turn_value("turn.exposure.leaning_entropy", extremes) == pytest.approx(math.log(2))


def test_cross_cutting_share_by_loop():
    data = exposure_turn()
    same = cross = 0
    for agent, row in zip(data.agents, data.feeds, strict=True):
        for p in row[row >= 0]:
            x, y = data.leaning_before[agent], data.pop.post_leaning[p]
            if abs(x) > 0.1 and abs(y) > 0.1:
                cross += (x > 0) != (y > 0)
                same += (x > 0) == (y > 0)
    # Agent 0 (-0.5) sees -0.9 (same), 0.9 (cross); agent 1 (0.05) is neutral;
    # agent 3 (0.8) sees 0.9 twice (same).
    assert (cross, same) == (1, 3)
    assert turn_value("turn.exposure.cross_cutting_share", data) == pytest.approx(1 / 4)


def test_exposure_without_items_is_nan():
    empty = make_turn(simple_pop(), agents=[0], feeds=[[-1]])
    for key in metrics.names("turn"):
        if key.startswith("turn.exposure."):
            assert math.isnan(turn_value(key, empty)), key


# --- attention ---------------------------------------------------------------------------------


def test_gini_of_hand_example():
    # Σ_i Σ_j |x_i − x_j| = 2 (1 + 1 + 3 + 3 + 2) = 20; 2 n² x̄ = 2 · 16 · 1 = 32.
    pop = simple_pop(n_agents=2, n_posts=4)
    data = make_turn(pop, with_state(pop, sim_likes=[0, 3, 0, 1]))
    assert turn_value("turn.attention.like_gini_posts", data) == pytest.approx(20 / 32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_like_gini_against_brute_force(seed):
    rng = np.random.default_rng(seed)
    n_agents, n_outsiders, n_posts = 5, 3, 20
    # Author 4 (an agent) and account 7 (an outsider) write nothing and must be left out.
    authors = rng.permutation(np.resize([0, 1, 2, 3, 5, 6], n_posts))
    pop = make_pop(
        rng.uniform(-1, 1, n_agents), np.zeros(n_posts), np.zeros(n_posts), authors, n_outsiders
    )
    sim_likes = rng.integers(0, 6, n_posts)
    state = with_state(pop, sim_likes=sim_likes)
    per_author: dict[int, int] = {}
    for author, count in zip(authors, sim_likes, strict=True):
        per_author[int(author)] = per_author.get(int(author), 0) + int(count)
    assert sorted(per_author) == [0, 1, 2, 3, 5, 6]
    turn = make_turn(pop, state)
    run = make_run(pop, SimState.initial(pop), state)
    by_post, by_author = brute_gini(sim_likes), brute_gini(per_author.values())
    assert turn_value("turn.attention.like_gini_posts", turn) == pytest.approx(by_post)
    assert turn_value("turn.attention.like_gini_authors", turn) == pytest.approx(by_author)
    assert run_value("run.attention.like_gini_posts", run) == pytest.approx(by_post)
    assert run_value("run.attention.like_gini_authors", run) == pytest.approx(by_author)


def test_gini_is_zero_without_likes_and_maximal_for_one_post():
    pop = simple_pop(n_agents=2, n_posts=4)
    assert turn_value("turn.attention.like_gini_posts", make_turn(pop)) == 0.0
    one = make_turn(pop, with_state(pop, sim_likes=[0, 0, 5, 0]))
    assert turn_value("turn.attention.like_gini_posts", one) == pytest.approx(1 - 1 / 4)


# --- opinion -----------------------------------------------------------------------------------

LEANINGS = [-0.9, -0.8, -0.75, -0.2, 0.1, 0.7, 0.85, 0.9, 0.95]


def opinion_turn(after=LEANINGS, before=None) -> TurnData:
    pop = simple_pop(n_agents=len(after))
    before = pop.leaning if before is None else before
    return make_turn(pop, with_state(pop, leaning=after), leaning_before=before)


def test_leaning_moments_by_hand():
    data = opinion_turn(after=[-1.0, 0.0, 0.5, 0.5])
    # Mean 0; squared deviations 1, 0, 0.25, 0.25 -> variance 1.5 / 4.
    assert turn_value("turn.opinion.mean_leaning", data) == 0.0
    assert turn_value("turn.opinion.leaning_variance", data) == pytest.approx(0.375)
    assert turn_value("turn.opinion.leaning_std", data) == pytest.approx(math.sqrt(0.375))


@pytest.mark.parametrize(
    "values", [LEANINGS, [-1, -1, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.9], [-0.2, 0.0, 0.0, 0.1]]
)
def test_bimodality_against_scipy(values):
    expected = sas_bimodality(np.array(values, dtype=float))
    assert turn_value("turn.opinion.bimodality", opinion_turn(after=values)) == pytest.approx(
        expected
    )


def test_bimodality_undefined_for_tiny_or_constant_populations():
    assert math.isnan(turn_value("turn.opinion.bimodality", opinion_turn(after=[-1, 0, 1])))
    assert math.isnan(turn_value("turn.opinion.bimodality", opinion_turn(after=[0.3] * 6)))


def test_mean_abs_shift_by_hand():
    data = opinion_turn(after=[0.0, 0.5, -0.5, 1.0], before=[0.2, 0.5, -0.1, 0.0])
    assert turn_value("turn.opinion.mean_abs_shift", data) == pytest.approx((0.2 + 0 + 0.4 + 1) / 4)


def test_run_opinion_metrics_against_numpy_and_scipy():
    pop = simple_pop(n_agents=len(LEANINGS))
    start = [0.1 * (i - 4) for i in range(len(LEANINGS))]
    initial = with_state(pop, leaning=start)
    final = with_state(pop, leaning=LEANINGS)
    run = make_run(pop, initial, final)
    assert run_value("run.opinion.variance_change", run) == pytest.approx(
        statistics.pvariance(LEANINGS) - statistics.pvariance(start)
    )
    drift = sum(abs(b - a) for a, b in zip(initial.leaning, LEANINGS, strict=True)) / len(LEANINGS)
    assert run_value("run.opinion.mean_abs_drift", run) == pytest.approx(drift)
    assert run_value("run.opinion.final_bimodality", run) == pytest.approx(
        sas_bimodality(np.array(LEANINGS))
    )


# --- network -----------------------------------------------------------------------------------


def network_pop() -> Population:
    # Agents 0, 1 left; 2, 3 right (0.0 counts as right); account 4 is an outsider.
    return make_pop(
        leaning=[-0.8, -0.3, 0.0, 0.6],
        post_topic=[0],
        post_leaning=[0.0],
        post_author=[4],
        n_outsiders=1,
        follow_pairs=[(0, 1), (1, 0), (0, 2), (1, 2), (3, 2), (2, 4), (3, 4)],
    )


def test_network_metrics_by_hand():
    data = make_turn(network_pop())
    # Agent edges 0→1, 1→0, 3→2 (internal), 0→2, 1→2 (external, since agent 2's 0.0 is on
    # the right); follows of the outsider 4 don't count.
    assert turn_value("turn.network.follow_edges", data) == 5.0
    assert turn_value("turn.network.ei_index", data) == pytest.approx((2 - 3) / 5)
    x, y = [-0.8, -0.3, -0.8, -0.3, 0.6], [-0.3, -0.8, 0.0, 0.0, 0.0]
    assert turn_value("turn.network.leaning_assortativity", data) == pytest.approx(
        np.corrcoef(x, y)[0, 1]
    )


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_network_metrics_against_networkx(seed):
    rng = np.random.default_rng(seed)
    n_agents = 15
    pop = make_pop(rng.uniform(-1, 1, n_agents), [0], [0.0], [n_agents], n_outsiders=2)
    follows = rng.random((n_agents, n_agents + 2)) < 0.25
    state = with_state(pop, follows=follows)
    data = make_turn(pop, state)
    agent_follows = follows[:, :n_agents].tolist()
    assert turn_value("turn.network.follow_edges", data) == len(edge_list(agent_follows))
    assert turn_value("turn.network.ei_index", data) == pytest.approx(
        brute_ei(agent_follows, state.leaning)
    )
    assert turn_value("turn.network.leaning_assortativity", data) == pytest.approx(
        nx_assortativity(agent_follows, state.leaning)
    )


def test_network_metrics_undefined_without_edges():
    pop = network_pop()
    data = make_turn(pop, with_state(pop, follows=np.zeros((4, 5), dtype=bool)))
    assert turn_value("turn.network.follow_edges", data) == 0.0
    assert math.isnan(turn_value("turn.network.ei_index", data))
    assert math.isnan(turn_value("turn.network.leaning_assortativity", data))
    one_edge = np.zeros((4, 5), dtype=bool)
    one_edge[0, 1] = True
    data = make_turn(pop, with_state(pop, follows=one_edge))
    assert turn_value("turn.network.ei_index", data) == -1.0
    assert math.isnan(turn_value("turn.network.leaning_assortativity", data))


def test_run_network_metrics_against_networkx():
    pop = network_pop()
    initial = SimState.initial(pop)
    follows = initial_follows(pop)
    follows[1, 3] = follows[2, 1] = follows[3, 1] = True  # three new agent edges
    follows[1, 4] = True  # an outsider follow: not an agent edge
    final = with_state(pop, leaning=[-0.8, 0.4, 0.1, 0.6], follows=follows)
    run = make_run(pop, initial, final)
    agent_follows = follows[:, :4].tolist()
    assert run_value("run.network.new_follow_edges", run) == 3.0
    final_ei = brute_ei(agent_follows, final.leaning)
    initial_ei = brute_ei(initial_follows(pop)[:, :4].tolist(), initial.leaning)
    assert initial_ei == pytest.approx(-0.2)
    assert run_value("run.network.final_ei_index", run) == pytest.approx(final_ei)
    assert run_value("run.network.ei_index_change", run) == pytest.approx(final_ei - initial_ei)
    assert run_value("run.network.final_assortativity", run) == pytest.approx(
        nx_assortativity(agent_follows, final.leaning)
    )


# --- registry and contract ---------------------------------------------------------------------

TURN_DATA, RUN_DATA = random_world(seed=7)


def test_every_required_metric_is_registered():
    required = {
        *(f"turn.actions.{n}" for n in ("likes", "comments", "follows", "total")),
        *(f"run.actions.{n}" for n in ("likes", "comments", "follows", "total")),
        "turn.feed.impressions",
        "turn.feed.unique_posts",
        "turn.feed.coverage",
        "turn.feed.mean_liked_rank",
        "turn.engagement.rate",
        "turn.exposure.topic_entropy",
        "turn.exposure.topic_entropy_per_agent",
        "turn.exposure.leaning_entropy",
        "turn.exposure.cross_cutting_share",
        "turn.attention.like_gini_posts",
        "turn.attention.like_gini_authors",
        "turn.opinion.mean_leaning",
        "turn.opinion.leaning_std",
        "turn.opinion.leaning_variance",
        "turn.opinion.bimodality",
        "turn.opinion.mean_abs_shift",
        "turn.network.follow_edges",
        "turn.network.ei_index",
        "turn.network.leaning_assortativity",
        "run.engagement.rate",
        "run.opinion.variance_change",
        "run.opinion.mean_abs_drift",
        "run.opinion.final_bimodality",
        "run.attention.like_gini_posts",
        "run.network.ei_index_change",
        "run.network.final_assortativity",
        "run.network.new_follow_edges",
    }
    assert required <= set(metrics.names())
    assert COUNTS <= set(metrics.names())


@pytest.mark.parametrize("key", metrics.names())
def test_metric_contract(key):
    """A float, the same twice, inside its declared range (or NaN); documented; labelled."""
    entry = METRICS.get(key)
    low, high = entry.value_range
    assert low < high
    for seed in (7, 8, 9):
        turn, run = (TURN_DATA, RUN_DATA) if seed == 7 else random_world(seed=seed)
        data = turn if entry.scope == "turn" else run
        first, second = entry.compute(data), entry.compute(data)
        assert type(first) is float
        assert first == second or (math.isnan(first) and math.isnan(second))
        assert math.isnan(first) or low <= first <= high, (seed, first)
        json.dumps(first)
    assert entry.summary, "the first docstring line summarises the metric"
    assert any("=" in line for line in entry.doc.splitlines()[1:]), "a formula line"
    assert "Range:" in entry.doc
    cited = set(re.findall(r"\[([A-Z][A-Za-z]+\d{4})\]", entry.doc))
    assert set(entry.citations) == cited, "declared citations are the docstring's"
    assert entry.label and entry.unit and entry.axis_title == f"{entry.label} ({entry.unit})"


def test_cited_keys_are_in_references():
    listed = set(re.findall(r"\*\*\[(\w+)\]\*\*", REFERENCES.read_text()))
    cited = {
        (entry.key, cite)
        for entry in METRICS
        for cite in re.findall(r"\[([A-Z][A-Za-z]+\d{4})\]", entry.doc)
    }
    missing = sorted({cite for _, cite in cited if cite not in listed})
    assert not missing, f"add to docs/references.md: {missing}"


def test_names_by_scope():
    assert metrics.names() == sorted(metrics.names())
    assert all(key.startswith("turn.") for key in metrics.names("turn"))
    assert all(key.startswith("run.") for key in metrics.names("run"))
    assert sorted(metrics.names("turn") + metrics.names("run")) == metrics.names()


def test_resolve_keys():
    assert resolve_keys(None) == metrics.names()
    assert resolve_keys([]) == metrics.names()
    assert resolve_keys(["turn.network.ei_index", "turn.actions.likes", "turn.actions.likes"]) == [
        "turn.actions.likes",
        "turn.network.ei_index",
    ]
    assert resolve_keys(["turn.exposure"]) == [
        "turn.exposure.cross_cutting_share",
        "turn.exposure.leaning_entropy",
        "turn.exposure.topic_entropy",
        "turn.exposure.topic_entropy_per_agent",
        "turn.exposure.topic_evenness",
    ]
    assert resolve_keys(["run"]) == metrics.names("run")
    # A prefix must end at a dot: "turn.exp" is not "turn.exposure".
    for unknown in ("turn.exp", "turn.nope.x", "likes"):
        with pytest.raises(InputError, match="allowed: .*turn.actions.likes") as error:
            resolve_keys(["turn.actions.likes", unknown])
        assert repr(unknown) in str(error.value)


def test_compute_keeps_each_scope_apart():
    keys = ["turn.actions.likes", "run.actions.likes", "turn.opinion"]
    turn = compute_turn(keys, TURN_DATA)
    run = compute_run(keys, RUN_DATA)
    assert list(turn) == ["turn.actions.likes", *metrics.resolve_keys(["turn.opinion"])]
    assert list(run) == ["run.actions.likes"]
    assert turn["turn.actions.likes"] == len(TURN_DATA.likes)
    assert run["run.actions.likes"] == RUN_DATA.likes
    assert set(compute_turn(None, TURN_DATA)) == set(metrics.names("turn"))
    assert set(compute_run(None, RUN_DATA)) == set(metrics.names("run"))
