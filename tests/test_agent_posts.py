"""Agents post, engagement without future information, and Ginis over eligible posts (issue 10).

Real SQLite files and migrations; the expectations are recomputed from the
stored rows (or from the formulas) independently of the engine's arrays.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import replace
from datetime import datetime

import numpy as np
import pytest

from simlab import engine as simulation
from simlab.analytics import connect
from simlab.config import RunConfig
from simlab.db import make_engine
from simlab.engagement import EngagementConfig, Exogenous
from simlab.errors import InputError
from simlab.posting import NewPosts, propensity

from .conftest import copy_database, failing_turn, synthetic_database

AGENTS, POSTS = 80, 400


@pytest.fixture(scope="module")
def population_db(tmp_path_factory):
    return synthetic_database(
        tmp_path_factory.mktemp("posts") / "pop.db", agents=AGENTS, posts=POSTS, seed=4
    )


@pytest.fixture
def db(population_db, tmp_path):
    return copy_database(population_db, tmp_path / "run.db")


def _config(**overrides) -> RunConfig:
    values = {"seed": 3, "turns": 6, "feed": {"name": "popularity"}} | overrides
    return RunConfig.model_validate(values)


def _all(db, sql, *params):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def _served(db, run_id):
    """(turn, agent, post_id) of every served item."""
    return _all(
        db,
        "SELECT g.turn_number, g.agent_handle, j.value FROM generated_feeds g, "
        "json_each(g.post_ids) j WHERE g.run_id = ?",
        run_id,
    )


def test_agents_post_and_posts_are_served_from_the_next_turn_to_others(db):
    run_id = simulation.run(_config(posting={"rate": 0.25}), db)
    posts = {
        row[0]: row[1:]
        for row in _all(
            db,
            "SELECT post_id, turn_number, agent_handle, text, topic, leaning, model_used "
            "FROM agent_posts WHERE run_id = ?",
            run_id,
        )
    }
    assert len(posts) > 10
    served = [(t, a, p) for t, a, p in _served(db, run_id) if p in posts]
    assert served, "agent posts reach feeds"
    assert all(t > posts[p][0] for t, _, p in served), "never in the turn they were written"
    assert all(a != posts[p][1] for _, a, p in served), "never in the author's own feed"
    assert all(text and -1 <= lean <= 1 for _, _, text, _, lean, _ in posts.values())
    liked = _all(
        db, "SELECT count(*) FROM likes WHERE run_id = ? AND post_id LIKE 'agent-post:%'", run_id
    )
    assert liked[0][0] > 0, "agent posts get liked like any post"
    # Only agents active in a turn post in it: each author got a feed that turn.
    fed = set(
        _all(db, "SELECT turn_number, agent_handle FROM generated_feeds WHERE run_id = ?", run_id)
    )
    assert all((turn, author) in fed for turn, author, *_ in posts.values())


def test_posting_can_be_turned_off(db):
    run_id = simulation.run(_config(posting={"enabled": False}), db)
    assert _all(db, "SELECT count(*) FROM agent_posts WHERE run_id = ?", run_id) == [(0,)]
    assert all(not p.startswith("agent-post:") for _, _, p in _served(db, run_id))


def test_post_leaning_follows_the_author_and_topic_its_interests(population_db, db):
    run_id = simulation.run(_config(turns=12, posting={"rate": 0.3, "leaning_sd": 0.05}), db)
    rows = _all(
        db,
        "SELECT p.leaning, l.leaning, p.topic, t.interests FROM agent_posts p "
        "JOIN agent_leanings l ON l.run_id = p.run_id AND l.turn_number = p.turn_number "
        "AND l.agent_handle = p.agent_handle JOIN agent a ON a.handle = p.agent_handle "
        "JOIN agent_traits t ON t.agent_id = a.agent_id WHERE p.run_id = ?",
        run_id,
    )
    post, author = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    assert len(rows) > 50
    assert np.corrcoef(post, author)[0, 1] > 0.9
    assert np.std(post - author) == pytest.approx(0.05, rel=0.35)
    # every topic was one the author has some interest in
    assert all(json.loads(interests)[topic] > 0 for *_, topic, interests in rows)


def test_propensity_is_the_documented_formula(population_db):
    with make_engine(population_db).connect() as connection:
        from simlab.world import load_population

        pop = load_population(connection)
    counts = [
        sum(1 for author in pop.post_author.tolist() if author == a) for a in range(pop.n_agents)
    ]
    mean = sum(counts) / len(counts)
    expected = [min(1.0, 0.2 * (n + 1) / (mean + 1)) for n in counts]
    assert propensity(pop, 0.2).tolist() == pytest.approx(expected)
    assert propensity(pop, 0.2).mean() == pytest.approx(0.2, rel=0.05)


def test_new_posts_reject_ragged_columns_and_out_of_range_leanings():
    one = np.array([0])
    with pytest.raises(ValueError, match="one entry per post"):
        NewPosts(one, one, np.array([0.1]), ["a", "b"], ["e"], ["{}"])
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        NewPosts(one, one, np.array([1.5]), ["a"], ["e"], ["{}"])
    assert len(NewPosts.empty()) == 0


def test_bad_posting_settings_are_one_line_input_errors():
    from simlab.config import build

    with pytest.raises(InputError, match="posting.rate"):
        build({"posting": {"rate": 2}})
    with pytest.raises(InputError, match="engagement.history"):
        build({"engagement": {"history": "psychic"}})


def test_same_seed_same_posts_and_resume_rebuilds_them(db, monkeypatch):
    columns = "turn_number, agent_handle, post_id, text, topic, leaning, created_at"
    clean = simulation.run(_config(), db)
    with failing_turn(monkeypatch, 3):
        with pytest.raises(RuntimeError):
            simulation.run(_config(), db, run_id="halfway")
    assert {r[0] for r in _all(db, "SELECT turn_number FROM agent_posts WHERE run_id = 'halfway'")}
    simulation.resume("halfway", db)
    sql = f"SELECT {columns} FROM agent_posts WHERE run_id = ? ORDER BY turn_number, post_id"
    assert _all(db, sql, "halfway") == _all(db, sql, clean)
    metrics = "SELECT metrics FROM run_metrics WHERE run_id = ?"
    assert _all(db, metrics, "halfway") == _all(db, metrics, clean)
    assert sorted(_served(db, "halfway")) == sorted(_served(db, clean))


# --- no future information ----------------------------------------------------------------------


def _visible_likes_by_turn(population_db, config: RunConfig) -> tuple[list[np.ndarray], object]:
    """Per turn, the like counts feeds saw (the world at the turn's clock plus in-run likes)."""
    engine = make_engine(population_db)
    pop = simulation.population_for(config, engine)
    sim = simulation.Simulation(config, pop)
    seen = []
    for turn in range(config.turns):
        seen.append(sim.world(turn).post_likes + sim.state.sim_likes)
        sim.step(turn)
    return seen, sim


def test_visible_likes_never_decrease_and_start_at_zero(population_db):
    config = _config(turns=10, engagement={"background_likes_per_hour": 0.3})
    seen, sim = _visible_likes_by_turn(population_db, config)
    for before, after in zip(seen, seen[1:], strict=False):
        assert (after[: len(before)] >= before).all()
    assert seen[-1].sum() > 0
    created = sim.pop.post_created
    for turn, likes in enumerate(seen):
        clock = sim.clock(turn)
        born = (created[: len(likes)] > clock - 3600) & (created[: len(likes)] <= clock)
        # A post younger than one turn has had at most 0.3 background likes (floor 0) and
        # no in-run likes (it was never served before): 0 likes at birth.
        assert (likes[born] == 0).all()
    assert not (sim.pop.post_observed[:POSTS]).any(), "synthetic posts are never 'observed'"
    at_birth = sim.exogenous.visible(sim.pop, float(created.max()), sim.config.engagement)
    assert (at_birth.post_likes[created == created.max()] == 0).all()


def test_synthetic_lifetime_counts_no_longer_leak_into_young_posts(population_db):
    config = _config(turns=8, engagement={"background_likes_per_hour": 0.0})
    seen, sim = _visible_likes_by_turn(population_db, config)
    stored = sim.pop.post_likes[:POSTS]
    assert stored.mean() > 5, "the corpus does store lifetime counts"
    young = sim.pop.post_created[:POSTS] > sim.start
    assert (seen[0][:POSTS][young] == 0).all()
    legacy = RunConfig.model_validate(config.model_dump() | {"engagement": {"history": "lifetime"}})
    old, _ = _visible_likes_by_turn(population_db, legacy)
    assert old[0][:POSTS][young].mean() > 5, "the old behaviour showed them from birth"


def test_observed_counts_only_for_posts_older_than_the_start(population_db):
    with make_engine(population_db).connect() as connection:
        from simlab.world import load_population

        pop = load_population(connection)
    observed = np.arange(pop.n_posts) % 2 == 0
    pop = replace(pop, post_observed=observed)
    start = float(np.median(pop.post_created))
    config = EngagementConfig(background_likes_per_hour=2.0, background_comments_per_hour=0.5)
    exo = Exogenous.at_start(pop, start, config)
    old = pop.post_created <= start
    kept = observed & old
    assert (exo.likes[kept] == pop.post_likes[kept]).all()
    assert (exo.likes[~kept] == 0).all() and (exo.comments[~kept] == 0).all()
    later = start + 5 * 3600
    visible = exo.visible(pop, later, config)
    hours = (later - np.where(kept, start, pop.post_created)) / 3600
    expected = np.where(kept, pop.post_likes, 0) + np.floor(2.0 * np.maximum(hours, 0))
    assert visible.post_likes.tolist() == expected.astype(int).tolist()
    assert (visible.post_reposts[~kept] == 0).all()


# --- metrics over eligible posts ------------------------------------------------------------------


def brute_gini(values) -> float:
    x = [float(v) for v in values]
    mean = sum(x) / len(x)
    return 0.0 if mean == 0 else sum(abs(a - b) for a in x for b in x) / (2 * len(x) ** 2 * mean)


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_like_gini_runs_over_the_posts_feeds_could_serve(db):
    # With no pool limit every visible post is eligible: those created by the last turn's clock.
    config = _config(turns=5, feed={"name": "popularity", "candidate_pool": None})
    run_id = simulation.run(config, db)
    sim = simulation.Simulation(config, simulation.population_for(config, make_engine(db)))
    last_clock = sim.clock(config.turns - 1)
    corpus = [
        (post_id, author)
        for post_id, author, created in _all(
            db, "SELECT post_id, author_handle, created_at FROM feed_posts"
        )
        if _seconds(created) <= last_clock
    ]
    agent = _all(
        db,
        "SELECT post_id, agent_handle FROM agent_posts WHERE run_id = ? AND turn_number < ?",
        run_id,
        config.turns - 1,
    )
    eligible = corpus + agent
    assert len(corpus) < POSTS, "some posts were never eligible"
    likes = dict(
        _all(db, "SELECT post_id, count(*) FROM likes WHERE run_id = ? GROUP BY 1", run_id)
    )
    assert set(likes) <= {p for p, _ in eligible}
    by_author: dict[str, int] = {}
    for post_id, author in eligible:
        by_author[author] = by_author.get(author, 0) + likes.get(post_id, 0)
    stored = json.loads(_all(db, "SELECT metrics FROM run_metrics WHERE run_id = ?", run_id)[0][0])
    assert stored["run.attention.like_gini_posts"] == pytest.approx(
        brute_gini([likes.get(p, 0) for p, _ in eligible])
    )
    assert stored["run.attention.like_gini_authors"] == pytest.approx(
        brute_gini(by_author.values())
    )


def test_equal_likes_over_eligible_posts_read_as_equality():
    from simlab.metrics.attention import author_likes, post_likes
    from simlab.metrics.attention import gini as gini_of
    from simlab.world import SimState

    from .test_metrics import simple_pop

    pop = simple_pop(n_agents=2, n_posts=6)
    state = SimState.initial(pop)
    state.eligible = np.array([True, True, True, False, False, False])
    state.sim_likes = np.array([2, 2, 2, 0, 0, 0])
    assert gini_of(post_likes(state)) == 0.0
    assert gini_of(state.sim_likes) == pytest.approx(brute_gini([2, 2, 2, 0, 0, 0]))
    assert len(author_likes(pop, state)) == len(set(pop.post_author[:3].tolist()))


def test_topic_evenness_uses_the_population_topic_count(db):
    run_id = simulation.run(_config(turns=2), db)
    pop_topics = len({t for (t,) in _all(db, "SELECT DISTINCT topic FROM post_annotations")})
    assert pop_topics == 8  # SyntheticConfig's default, fewer than the 12 simlab knows
    for (values,) in _all(db, "SELECT metrics FROM turn_metrics WHERE run_id = ?", run_id):
        values = json.loads(values)
        entropy = values["turn.exposure.topic_entropy"]
        assert values["turn.exposure.topic_evenness"] == pytest.approx(
            entropy / math.log(pop_topics)
        )


# --- analytics ----------------------------------------------------------------------------------


def test_posts_view_holds_corpus_and_agent_posts_per_run(db):
    first = simulation.run(_config(turns=3), db)
    second = simulation.run(_config(turns=3, seed=9), db)
    agent_counts = dict(_all(db, "SELECT run_id, count(*) FROM agent_posts GROUP BY 1"))
    with connect(db) as con:
        frame = con.execute(
            "SELECT run_id, origin, count(*) AS n FROM posts GROUP BY 1, 2 ORDER BY 1, 2"
        ).df()
        liked = con.execute(
            "SELECT count(*) FROM sim.likes l JOIN posts p USING (run_id, post_id)"
        ).fetchone()[0]
    counts = {(r.run_id, r.origin): r.n for r in frame.itertuples()}
    for run_id in (first, second):
        assert counts[(run_id, "corpus")] == POSTS
        assert counts[(run_id, "agent")] == agent_counts[run_id]
    assert liked == _all(db, "SELECT count(*) FROM likes")[0][0], "every like names a post"


def test_a_policy_with_write_posts_hands_in_its_own_texts(db, monkeypatch):
    """The entry point for model-written posts: a policy entry's ``write_posts``."""
    from simlab import policies

    rule_based = policies.POLICIES.get("rule_based")

    def model_posts(view, rng):
        authors = view.agents[:2]
        return NewPosts(
            authors,
            np.zeros(len(authors), dtype=np.int64),
            view.state.leaning[authors],
            [f"model text {a}" for a in authors.tolist()],
            ["written by a model"] * len(authors),
            ['{"tokens": 7}'] * len(authors),
            model_used="test-model/1",
        )

    class WithPosts:
        write_posts = staticmethod(model_posts)

        def __getattr__(self, name):
            return getattr(rule_based, name)

    real_get = policies.POLICIES.get
    monkeypatch.setattr(
        policies.POLICIES,
        "get",
        lambda name: WithPosts() if name == "rule_based" else real_get(name),
    )
    run_id = simulation.run(_config(turns=3), db)
    rows = _all(
        db,
        "SELECT turn_number, text, model_used, explanation, generation_metadata_json "
        "FROM agent_posts WHERE run_id = ?",
        run_id,
    )
    assert len(rows) == 6
    assert all(text.startswith("model text") for _, text, *_ in rows)
    assert {(m, e, g) for _, _, m, e, g in rows} == {
        ("test-model/1", "written by a model", '{"tokens": 7}')
    }


def test_a_stored_config_from_before_posting_resumes_without_it():
    from simlab.config import RunConfig, stored

    old = RunConfig().model_dump(mode="json")
    del old["posting"], old["engagement"]
    resumed = stored(old)
    assert not resumed.posting.enabled and resumed.engagement.history == "lifetime"
    assert resumed.engagement.background_likes_per_hour == 0
    current = RunConfig().model_dump(mode="json")
    assert stored(current) == RunConfig()  # a config that has the sections is taken as stored
