"""Feed algorithms: the shared contract for every registered feed, then each feed's behaviour."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

from simlab.errors import InputError
from simlab.feeds import FEEDS, FeedInput, Ranked
from simlab.params import validate
from simlab.world import Population, SimState

from .conftest import REPO

N_TOPICS = 12
NOW = 1_700_000_000.0
HOUR = 3600.0


def make_population(
    n_agents: int = 30,
    n_outsiders: int = 10,
    n_posts: int = 300,
    seed: int = 0,
    ages: np.ndarray | None = None,
    **overrides: np.ndarray,
) -> Population:
    """A random population; any field can be overridden, ``ages`` (hours before NOW) sets post_created."""
    rng = np.random.default_rng(seed)
    n_accounts = n_agents + n_outsiders
    handles = np.array([f"agent{i:03d}" for i in range(n_agents)], dtype=object)
    outsiders = np.array([f"outsider{i:03d}" for i in range(n_outsiders)], dtype=object)
    leaning = rng.uniform(-1, 1, n_agents)
    follows = {
        (a, int(u))
        for a in range(n_agents)
        for u in rng.choice(n_accounts, size=min(6, n_accounts), replace=False)
        if u != a
    }
    if ages is None:
        ages = rng.uniform(0, 72, n_posts)
    fields = dict(
        agent_ids=np.array([f"id{i}" for i in range(n_agents)], dtype=object),
        handles=handles,
        leaning=leaning,
        interests=rng.dirichlet(np.ones(N_TOPICS), n_agents),
        activity_rate=rng.uniform(0, 1, n_agents),
        like_propensity=rng.uniform(0, 1, n_agents),
        comment_propensity=rng.uniform(0, 1, n_agents),
        follow_propensity=rng.uniform(0, 1, n_agents),
        accounts=np.concatenate([handles, outsiders]),
        account_leaning=np.concatenate([leaning, rng.uniform(-1, 1, n_outsiders)]),
        post_ids=np.array([f"post{i:05d}" for i in range(n_posts)], dtype=object),
        post_topic=rng.integers(0, N_TOPICS, n_posts),
        post_leaning=rng.uniform(-1, 1, n_posts),
        post_author=rng.integers(0, n_accounts, n_posts),
        post_created=NOW - np.asarray(ages, dtype=float) * HOUR,
        post_likes=rng.poisson(5, n_posts),
        post_comments=rng.poisson(1, n_posts),
        post_reposts=rng.poisson(1, n_posts),
        follow_pairs=np.array(sorted(follows), dtype=np.int64).reshape(-1, 2),
    )
    fields.update(overrides)
    return Population(**fields)


def quiet_population(n_agents: int, n_outsiders: int, n_posts: int, **overrides) -> Population:
    """Posts by outsiders, all one hour old, no engagement, no follows: only overrides matter."""
    defaults = dict(
        ages=np.ones(n_posts),
        post_author=np.full(n_posts, n_agents),
        post_likes=np.zeros(n_posts, dtype=np.int64),
        post_comments=np.zeros(n_posts, dtype=np.int64),
        post_reposts=np.zeros(n_posts, dtype=np.int64),
        post_leaning=np.zeros(n_posts),
        follow_pairs=np.zeros((0, 2), dtype=np.int64),
    )
    return make_population(n_agents, n_outsiders, n_posts, **{**defaults, **overrides})


def make_feed(
    pop: Population,
    state: SimState | None = None,
    agents: np.ndarray | None = None,
    k: int = 10,
    candidates: np.ndarray | None = None,
    now: float = NOW,
) -> FeedInput:
    """A FeedInput with the engine's candidate rule unless ``candidates`` is given."""
    state = state or SimState.initial(pop)
    agents = np.arange(pop.n_agents) if agents is None else np.asarray(agents)
    if candidates is None:
        visible = pop.post_created <= now
        own = pop.post_author[None, :] == agents[:, None]
        candidates = visible[None, :] & ~own & ~state.acted.block(agents, np.arange(pop.n_posts))
    return FeedInput(pop, state, 0, now, agents, candidates, k)


def rank(name: str, feed: FeedInput, seed: int = 7, **params) -> Ranked:
    algorithm = FEEDS.get(name)
    return algorithm.rank(feed, algorithm.params(**params), np.random.default_rng(seed))


def position(ranked: Ranked, row: int, post: int) -> int:
    """Where ``post`` sits in row ``row`` (len of the row if absent)."""
    hits = np.flatnonzero(ranked.post_idx[row] == post)
    return int(hits[0]) if len(hits) else ranked.post_idx.shape[1]


# --- the contract every registered feed keeps -------------------------------------------------


def contract_feed() -> FeedInput:
    """A busy mid-run world; the block is a shuffled subset of agents; row 0 has 3 candidates."""
    pop = make_population()
    rng = np.random.default_rng(1)
    state = SimState.initial(pop)
    acted = rng.random(state.acted.shape) < 0.1
    state.acted.add(np.argwhere(acted))
    state.sim_likes[:] = acted.sum(axis=0)
    state.sim_comments[:] = rng.poisson(0.5, pop.n_posts)
    state.leaning[:] = np.clip(state.leaning + rng.normal(0, 0.1, pop.n_agents), -1, 1)
    agents = np.array([7, 0, 12, 29, 3, 18, 21, 5])
    feed = make_feed(pop, state, agents, k=10)
    candidates = feed.candidates & (rng.random(feed.candidates.shape) < 0.7)
    candidates[0] = False
    candidates[0, [5, 77, 150]] = True
    return replace(feed, candidates=candidates)


def is_non_increasing(values: np.ndarray) -> bool:
    return bool(np.all(np.diff(values) <= 1e-12))


@pytest.mark.parametrize("name", FEEDS.names())
def test_every_feed_keeps_the_contract(name):
    """Shapes, candidates only, no duplicates, -1 padding at the end, ordered scores.

    Scores are non-increasing along each row for every feed that declares
    ``monotone_scores`` (``diverse`` scores each slot by its MMR value when picked,
    which is non-increasing in the selection order); the others (``in_network``
    lists an in-network part, then an out-of-network part) are checked in their
    own tests. Same rng seed, same ranking, for every feed.
    """
    algorithm = FEEDS.get(name)
    assert validate(algorithm.params, {}, f"feed {name!r}") == algorithm.params()
    feed = contract_feed()
    before = [
        a.copy() for a in (feed.state.acted.pairs(), feed.state.sim_likes, feed.state.leaning)
    ]
    ranked = algorithm.rank(feed, algorithm.params(), np.random.default_rng(7))
    n, k = len(feed.agents), feed.feed_size
    assert ranked.post_idx.shape == (n, k) and ranked.scores.shape == (n, k)
    assert ranked.post_idx.dtype.kind == "i"
    for row in range(n):
        idx, scores = ranked.post_idx[row], ranked.scores[row]
        valid = idx >= 0
        n_valid = min(k, int(feed.candidates[row].sum()))
        assert valid[:n_valid].all() and not valid[n_valid:].any()
        shown = idx[valid]
        assert feed.candidates[row, shown].all()
        assert len(set(shown.tolist())) == len(shown)
        assert np.isfinite(scores[valid]).all() and np.isnan(scores[~valid]).all()
        if algorithm.monotone_scores:
            assert is_non_increasing(scores[valid])
    assert (ranked.post_idx[0, :3] >= 0).all() and (ranked.post_idx[0, 3:] == -1).all()
    after = (feed.state.acted.pairs(), feed.state.sim_likes, feed.state.leaning)
    assert all(np.array_equal(x, y) for x, y in zip(before, after, strict=True))
    again = algorithm.rank(feed, algorithm.params(), np.random.default_rng(7))
    np.testing.assert_array_equal(again.post_idx, ranked.post_idx)
    np.testing.assert_array_equal(again.scores, ranked.scores)


@pytest.mark.parametrize("name", FEEDS.names())
def test_every_feed_documents_formula_citation_and_parameters(name):
    algorithm = FEEDS.get(name)
    references = (REPO / "docs" / "references.md").read_text()
    keys = re.findall(r"\[([A-Z][A-Za-z]+\d{4})\]", algorithm.doc)
    assert keys and all(f"[{key}]" in references for key in keys)
    assert algorithm.citations and set(algorithm.citations) <= set(keys)
    assert algorithm.label and isinstance(algorithm.stochastic, bool)
    assert "score" in algorithm.doc
    assert all(field.description for field in algorithm.params.model_fields.values())


@pytest.mark.parametrize("name", FEEDS.names())
def test_feeds_handle_fewer_posts_than_slots_and_empty_blocks(name):
    pop = make_population(n_agents=4, n_outsiders=2, n_posts=6)
    ranked = rank(name, make_feed(pop, k=10))
    assert ranked.post_idx.shape == (4, 10)
    assert (ranked.post_idx[:, 6:] == -1).all()
    empty = rank(name, make_feed(pop, agents=np.zeros(0, dtype=np.int64), k=10))
    assert empty.post_idx.shape == (0, 10)


@pytest.mark.parametrize("name", FEEDS.names())
def test_unknown_parameter_lists_the_allowed_ones(name):
    with pytest.raises(InputError, match=r"unknown parameter 'bogus'; allowed: "):
        validate(FEEDS.get(name).params, {"bogus": "1"}, f"feed {name!r}")


def test_bad_parameter_values_are_rejected():
    popularity = FEEDS.get("popularity").params
    with pytest.raises(InputError, match=r"'half_life_hours'.*allowed: .*like_weight"):
        validate(popularity, {"half_life_hours": "-1"}, "feed 'popularity'")
    with pytest.raises(InputError, match="order"):
        validate(FEEDS.get("in_network").params, {"order": "alphabetical"}, "feed 'in_network'")
    with pytest.raises(InputError, match="in_network_share"):
        validate(FEEDS.get("in_network").params, {"in_network_share": "1.5"}, "feed")
    diverse = FEEDS.get("diverse").params
    assert validate(diverse, {"mmr_lambda": "0.4"}, "feed 'diverse'").mmr_lambda == 0.4
    with pytest.raises(InputError, match="mmr_lambda"):
        validate(diverse, {"mmr_lambda": "2"}, "feed 'diverse'")
    assert validate(popularity, {"like_weight": "3"}, "feed").like_weight == 3.0


@pytest.mark.parametrize("name", [feed.name for feed in FEEDS if not feed.stochastic])
def test_deterministic_feeds_rank_each_agent_the_same_in_any_block(name):
    feed = contract_feed()
    whole = rank(name, feed)
    flipped = rank(name, replace(feed, agents=feed.agents[::-1], candidates=feed.candidates[::-1]))
    np.testing.assert_array_equal(flipped.post_idx, whole.post_idx[::-1])
    alone = rank(name, replace(feed, agents=feed.agents[2:3], candidates=feed.candidates[2:3]))
    np.testing.assert_array_equal(alone.post_idx[0], whole.post_idx[2])


@pytest.mark.parametrize("name", [feed.name for feed in FEEDS if feed.stochastic])
def test_stochastic_feeds_depend_on_the_seed(name):
    feed = contract_feed()
    first, second = rank(name, feed, seed=1), rank(name, feed, seed=2)
    assert not np.array_equal(first.post_idx, second.post_idx)
    np.testing.assert_array_equal(first.post_idx, rank(name, feed, seed=1).post_idx)


def test_in_network_lists_followed_authors_first_each_part_ordered():
    feed = contract_feed()
    ranked = rank("in_network", feed)
    for row in range(len(feed.agents)):
        idx, scores = ranked.post_idx[row], ranked.scores[row]
        valid = idx >= 0
        followed = feed.follows_author[row, idx[valid]]
        assert is_non_increasing(followed.astype(int))
        assert is_non_increasing(scores[valid][followed])
        assert is_non_increasing(scores[valid][~followed])


# --- behaviour of each feed ---------------------------------------------------------------


def test_chronological_shows_newest_first():
    pop = make_population()
    feed = make_feed(pop)
    ranked = rank("chronological", feed)
    age = feed.age_hours
    for row in range(len(feed.agents)):
        visible = np.flatnonzero(feed.candidates[row])
        expected = visible[np.argsort(age[visible], kind="stable")]
        np.testing.assert_array_equal(ranked.post_idx[row], expected[: feed.feed_size])


def test_popularity_prefers_a_liked_recent_post_and_decays_with_age():
    pop = quiet_population(
        2,
        2,
        4,
        ages=np.array([30.0, 1.0, 0.5, 2.0]),
        post_likes=np.array([20, 20, 0, 20]),
    )
    feed = make_feed(pop, k=4)
    ranked = rank("popularity", feed)
    np.testing.assert_array_equal(ranked.post_idx[0], [1, 3, 2, 0])
    six_hours_later = rank("popularity", make_feed(pop, k=4, now=NOW + 6 * HOUR))
    np.testing.assert_array_equal(six_hours_later.post_idx, ranked.post_idx)
    np.testing.assert_allclose(six_hours_later.scores, ranked.scores - np.log(2))
    slower = rank("popularity", feed, half_life_hours=60.0)
    assert position(slower, 0, 0) < position(slower, 0, 2)


def test_popularity_feedback_loop_raises_a_liked_post():
    pop = quiet_population(2, 2, 20, post_likes=np.full(20, 5))
    state = SimState.initial(pop)
    before = position(rank("popularity", make_feed(pop, state, k=20)), 0, 13)
    state.sim_likes[13] += 10
    after = position(rank("popularity", make_feed(pop, state, k=20)), 0, 13)
    assert before == 13 and after == 0
    state.sim_comments[7] += 10
    assert position(rank("popularity", make_feed(pop, state, k=20)), 0, 7) == 0


def test_personalized_puts_top_interest_and_matching_leaning_first():
    interests = np.full((1, N_TOPICS), 0.4 / (N_TOPICS - 1))
    interests[0, 3] = 0.6
    pop = quiet_population(
        1,
        2,
        6,
        leaning=np.array([0.8]),
        interests=interests,
        post_topic=np.array([5, 3, 3, 0, 7, 7]),
        post_leaning=np.array([0.8, -0.8, 0.8, 0.0, 0.0, 0.0]),
        post_author=np.array([1, 1, 1, 1, 1, 2]),
        follow_pairs=np.array([[0, 2]]),
    )
    feed = make_feed(pop, k=6)
    ranked = rank("personalized", feed)
    assert ranked.post_idx[0, 0] == 2
    assert position(ranked, 0, 5) < position(ranked, 0, 4)
    unfollowed = rank("personalized", feed, follow_weight=0.0)
    assert position(unfollowed, 0, 4) < position(unfollowed, 0, 5)
    topic_only = rank("personalized", feed, leaning_weight=0.0, follow_weight=0.0)
    assert set(topic_only.post_idx[0, :2].tolist()) == {1, 2}


def test_personalized_popularity_term_prefers_engaged_posts():
    pop = quiet_population(1, 2, 3, post_topic=np.zeros(3, dtype=np.int64))
    pop = replace(pop, post_likes=np.array([0, 50, 5]))
    ranked = rank("personalized", make_feed(pop, k=3))
    np.testing.assert_array_equal(ranked.post_idx[0], [1, 2, 0])


def network_population(n_followed: int, n_other: int) -> Population:
    """Agent 0 follows outsider 0 (account 1), who wrote the first ``n_followed`` posts."""
    n = n_followed + n_other
    rng = np.random.default_rng(5)
    return quiet_population(
        1,
        2,
        n,
        ages=rng.uniform(0, 48, n),
        post_likes=rng.poisson(10, n),
        post_author=np.array([1] * n_followed + [2] * n_other),
        follow_pairs=np.array([[0, 1]]),
    )


def split(ranked: Ranked, n_followed: int) -> tuple[list[int], list[int]]:
    shown = ranked.post_idx[0][ranked.post_idx[0] >= 0]
    return [int(p) for p in shown if p < n_followed], [int(p) for p in shown if p >= n_followed]


def test_in_network_respects_the_share():
    pop = network_population(15, 30)
    feed = make_feed(pop, k=10)
    ranked = rank("in_network", feed)
    inside, outside = split(ranked, 15)
    assert len(inside) == 8 and len(outside) == 2
    assert ranked.post_idx[0, :8].tolist() == inside
    age = feed.age_hours
    assert inside == sorted(range(15), key=lambda p: age[p])[:8]
    expected_out = rank(
        "popularity", replace(feed, candidates=feed.candidates & (pop.post_author == 2))
    )
    assert outside == expected_out.post_idx[0, :2].tolist()
    by_popularity = rank("in_network", feed, order="popularity")
    popular_in = rank(
        "popularity", replace(feed, candidates=feed.candidates & (pop.post_author == 1))
    )
    assert split(by_popularity, 15)[0] == popular_in.post_idx[0, :8].tolist()
    for share, sizes in ((0.5, [5, 5]), (0.0, [0, 10]), (1.0, [10, 0])):
        mixed = rank("in_network", feed, in_network_share=share)
        assert [len(part) for part in split(mixed, 15)] == sizes


def test_in_network_fills_from_the_other_pool_when_one_runs_short():
    few_followed = rank("in_network", make_feed(network_population(3, 30), k=10))
    assert [len(part) for part in split(few_followed, 3)] == [3, 7]
    few_others = rank("in_network", make_feed(network_population(15, 1), k=10))
    assert [len(part) for part in split(few_others, 15)] == [9, 1]
    too_few = rank("in_network", make_feed(network_population(2, 3), k=10))
    assert [len(part) for part in split(too_few, 2)] == [2, 3]
    assert (too_few.post_idx[0, 5:] == -1).all()


def bridging_world(**overrides) -> tuple[Population, SimState]:
    """Agents 0-5 lean left, 6-11 right; posts 0-3 drew the in-run engagement below."""
    pop = quiet_population(
        12, 2, 8, leaning=np.array([-0.5] * 6 + [0.5] * 6), post_author=np.full(8, 12), **overrides
    )
    state = SimState.initial(pop)
    engaged = {0: [6, 7, 8], 1: [1, 2, 3], 2: [2, 3, 7, 8], 3: [1, 2, 3, 4]}
    # post 0: right only; 1: left only; 2: both sides; 3: left only, more of it
    state.acted.add([(agent, post) for post, agents in engaged.items() for agent in agents])
    return pop, state


def test_bridging_prefers_posts_the_other_side_engaged_with():
    pop, state = bridging_world()
    ranked = rank("bridging", make_feed(pop, state, agents=np.array([0, 11]), k=8))
    left, right = 0, 1
    # A left-leaning agent: both sides > the right only > left only.
    assert position(ranked, left, 2) < position(ranked, left, 0) < position(ranked, left, 1)
    assert position(ranked, left, 0) < position(ranked, left, 3)
    # A right-leaning agent: both sides > the left only > the right only.
    assert position(ranked, right, 2) < position(ranked, right, 3) < position(ranked, right, 0)
    assert position(ranked, right, 1) < position(ranked, right, 0)


def test_bridging_follows_current_leaning_not_starting_leaning():
    pop, state = bridging_world()
    state.leaning[0] = 0.5  # agent 0 crossed the divide during the run
    ranked = rank("bridging", make_feed(pop, state, agents=np.array([0]), k=8))
    assert position(ranked, 0, 1) < position(ranked, 0, 0)


def test_bridging_prior_before_any_engagement_prefers_cross_cutting_posts():
    pop = quiet_population(
        4,
        2,
        3,
        leaning=np.array([-0.9, -0.2, 0.2, 0.9]),
        post_leaning=np.array([0.9, 0.0, 0.0]),
        post_likes=np.array([50, 50, 0]),
    )
    ranked = rank("bridging", make_feed(pop, k=3))
    assert (ranked.post_idx == [1, 0, 2]).all()


def concentrated_world() -> FeedInput:
    """One agent whose interest is all but one topic; half the posts are on that topic."""
    interests = np.full((1, N_TOPICS), 0.1 / (N_TOPICS - 1))
    interests[0, 0] = 0.9
    topics = np.array([0] * 30 + [1 + i % (N_TOPICS - 1) for i in range(30)])
    rng = np.random.default_rng(3)
    pop = quiet_population(
        1,
        2,
        60,
        leaning=np.array([0.0]),
        interests=interests,
        post_topic=topics,
        post_leaning=rng.uniform(-1, 1, 60),
    )
    return make_feed(pop, k=10)


def test_diverse_shows_more_topics_than_personalized():
    feed = concentrated_world()
    topics = feed.pop.post_topic
    # the weights this world was built for (the defaults before the issue-10 calibration)
    weights = {"leaning_weight": 1.0, "interest_weight": 1.0}
    personalized = rank("personalized", feed, **weights)
    diverse = rank("diverse", feed, **weights)
    assert len(set(topics[personalized.post_idx[0]])) == 1
    assert len(set(topics[diverse.post_idx[0]])) > 1
    assert diverse.post_idx[0, 0] == personalized.post_idx[0, 0]
    more = rank("diverse", feed, mmr_lambda=0.3, **weights)
    assert len(set(topics[more.post_idx[0]])) > len(set(topics[diverse.post_idx[0]]))


def test_diverse_with_lambda_one_is_the_personalized_feed():
    feed = contract_feed()
    np.testing.assert_array_equal(
        rank("diverse", feed, mmr_lambda=1.0).post_idx, rank("personalized", feed).post_idx
    )
