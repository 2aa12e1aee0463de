"""The turn loop on real SQLite files: rows, determinism, atomic turns, resume."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.feeds import FEEDS
from simlab.opinion import OPINIONS

from .conftest import copy_database, failing_turn, synthetic_database

AGENTS, POSTS = 60, 300

# Columns that define a run's behaviour: everything but ids and wall-clock timestamps.
CONTENT = {
    "generated_feeds": "turn_number, agent_handle, post_ids",
    "feed_scores": "turn_number, agent_handle, scores",
    "likes": "turn_number, agent_handle, post_id, explanation, model_used, generation_metadata_json",
    "comments": "turn_number, agent_handle, post_id, text, explanation, generation_metadata_json",
    "follows": "turn_number, agent_handle, user_id, explanation, generation_metadata_json",
    "agent_leanings": "turn_number, agent_handle, leaning",
    "agent_leaning_changes": "turn_number, agent_handle, leaning",
    "turn_metadata": "turn_number, total_actions",
    "turn_metrics": "turn_number, metrics",
    "agent_posts": "turn_number, agent_handle, post_id, text, topic, leaning, created_at, "
    "explanation, model_used, generation_metadata_json",
}


@pytest.fixture(scope="module")
def population_db(tmp_path_factory):
    return synthetic_database(
        tmp_path_factory.mktemp("pop") / "pop.db", agents=AGENTS, posts=POSTS, seed=3
    )


@pytest.fixture
def db(population_db, tmp_path):
    """A private copy of the population database."""
    return copy_database(population_db, tmp_path / "run.db")


def _config(**overrides) -> RunConfig:
    values = {"seed": 7, "turns": 4, "feed": {"name": "popularity"}} | overrides
    return RunConfig.model_validate(values)


def _rows(db, run_id, table):
    columns = CONTENT[table]
    order = ", ".join(str(i + 1) for i in range(columns.count(",") + 1))
    with sqlite3.connect(db) as connection:
        return connection.execute(
            f"SELECT {columns} FROM {source(table)} WHERE run_id = ? ORDER BY {order}", (run_id,)
        ).fetchall()


def source(table: str) -> str:
    """Where ``table``'s content is read: compact action rows through the views that rebuild them."""
    return f"{table}_explained" if table in ("likes", "comments", "follows") else table


def _content(db, run_id):
    return {table: _rows(db, run_id, table) for table in CONTENT}


def _one(db, sql, *params):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchone()


def test_run_writes_every_table_and_completes(db):
    config = _config()
    run_id = simulation.run(config, db)
    status, completed, turns, agents, feed, keys = _one(
        db,
        "SELECT status, completed_at, total_turns, total_agents, feed_algorithm, metric_keys "
        "FROM runs WHERE run_id = ?",
        run_id,
    )
    assert (status, turns, agents, feed) == ("completed", 4, AGENTS, "popularity")
    assert completed is not None
    assert json.loads(keys) == config.metrics
    stored = json.loads(_one(db, "SELECT config_json FROM run_configs WHERE run_id = ?", run_id)[0])
    assert RunConfig.model_validate(stored) == config
    assert stored["feed"]["params"]  # defaults resolved and recorded
    content = _content(db, run_id)
    assert [t for t, _ in content["turn_metadata"]] == [0, 1, 2, 3]
    assert len(content["agent_leanings"]) == 4 * AGENTS
    for (turn, handle, post_ids), (turn2, handle2, scores) in zip(
        content["generated_feeds"], content["feed_scores"], strict=True
    ):
        assert (turn, handle) == (turn2, handle2)
        ids, values = json.loads(post_ids), json.loads(scores)
        assert len(ids) == len(values) == len(set(ids)) <= 20
        assert values == sorted(values, reverse=True)
    for turn, totals in content["turn_metadata"]:
        counts = json.loads(totals)
        assert counts["total"] == counts["like"] + counts["comment"] + counts["follow"]
        assert counts["like"] == sum(1 for r in content["likes"] if r[0] == turn)
    turn_keys = {k for k in config.metrics if k.startswith("turn.")}
    assert all(set(json.loads(m)) == turn_keys for _, m in content["turn_metrics"])
    run_metrics = json.loads(
        _one(db, "SELECT metrics FROM run_metrics WHERE run_id = ?", run_id)[0]
    )
    assert set(run_metrics) == {k for k in config.metrics if k.startswith("run.")}
    assert all(r[4] == "rule_based/1.0" for r in content["likes"])


def test_feeds_exclude_own_posts_and_posts_already_acted_on(db):
    run_id = simulation.run(_config(turns=5, feed={"name": "personalized"}), db)
    with sqlite3.connect(db) as connection:
        own = connection.execute(
            "SELECT count(*) FROM generated_feeds g, json_each(g.post_ids) j "
            "JOIN feed_posts p ON p.post_id = j.value "
            "WHERE g.run_id = ? AND p.author_handle = g.agent_handle",
            (run_id,),
        ).fetchone()[0]
        seen_after_like = connection.execute(
            "SELECT count(*) FROM likes l JOIN generated_feeds g ON g.run_id = l.run_id "
            "AND g.agent_handle = l.agent_handle AND g.turn_number > l.turn_number, "
            "json_each(g.post_ids) j WHERE l.run_id = ? AND j.value = l.post_id",
            (run_id,),
        ).fetchone()[0]
        n_likes = connection.execute(
            "SELECT count(*) FROM likes WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
    assert n_likes > 0
    assert own == 0
    assert seen_after_like == 0


def test_same_config_same_rows_and_runs_do_not_interfere(db):
    first = simulation.run(_config(), db)
    simulation.run(_config(feed={"name": "random"}, seed=99), db)  # a different run in between
    second = simulation.run(_config(), db)
    other_seed = simulation.run(_config(seed=8), db)
    assert _content(db, first) == _content(db, second)
    assert _content(db, first)["generated_feeds"] != _content(db, other_seed)["generated_feeds"]


def test_feed_algorithms_change_what_is_served(db):
    chrono = simulation.run(_config(feed={"name": "chronological"}), db)
    personal = simulation.run(_config(feed={"name": "personalized"}), db)
    assert _rows(db, chrono, "generated_feeds") != _rows(db, personal, "generated_feeds")


def test_crash_leaves_whole_turns_and_a_failed_run(db, monkeypatch):
    with failing_turn(monkeypatch, 2), pytest.raises(RuntimeError, match="disk on fire"):
        simulation.run(_config(), db, run_id="crashy")
    assert _one(db, "SELECT status, completed_at FROM runs WHERE run_id = 'crashy'") == (
        "failed",
        None,
    )
    assert _one(db, "SELECT turn_number, error FROM run_failures WHERE run_id = 'crashy'") == (
        2,
        "RuntimeError: disk on fire",
    )
    for table in CONTENT:
        turns = {row[0] for row in _rows(db, "crashy", table)}
        assert turns <= {0, 1}, table
    assert {row[0] for row in _rows(db, "crashy", "turn_metadata")} == {0, 1}


# Every registered feed (default opinion model) and every opinion model (default feed).
PLUG_INS = [{"feed": {"name": name}} for name in FEEDS.names()] + [
    {"opinion": {"name": name}} for name in OPINIONS.names()
]


@pytest.mark.parametrize("plug_in", PLUG_INS, ids=lambda p: next(iter(p.values()))["name"])
def test_resume_after_a_crash_equals_an_uninterrupted_run(db, monkeypatch, plug_in):
    with failing_turn(monkeypatch, 2), pytest.raises(RuntimeError):
        simulation.run(_config(**plug_in), db, run_id="resumed")
    simulation.resume("resumed", db)
    clean = simulation.run(_config(**plug_in), db)
    assert _one(db, "SELECT status FROM runs WHERE run_id = 'resumed'") == ("completed",)
    assert _content(db, "resumed") == _content(db, clean)
    resumed_metrics = _one(db, "SELECT metrics FROM run_metrics WHERE run_id = 'resumed'")
    assert resumed_metrics == _one(db, "SELECT metrics FROM run_metrics WHERE run_id = ?", clean)


def test_resume_refuses_completed_and_unknown_runs(db):
    from simlab.errors import InputError

    run_id = simulation.run(_config(turns=1), db)
    with pytest.raises(InputError, match="already completed"):
        simulation.resume(run_id, db)
    with pytest.raises(InputError, match="no run"):
        simulation.resume("nope", db)


def test_agents_option_takes_the_first_n(db):
    run_id = simulation.run(_config(agents=10, turns=2), db)
    handles = {r[1] for r in _rows(db, run_id, "agent_leanings")}
    assert len(handles) == 10
    assert _one(db, "SELECT total_agents FROM runs WHERE run_id = ?", run_id) == (10,)


def test_in_run_likes_feed_back_into_popularity_ranking(db):
    run_id = simulation.run(_config(turns=6), db)
    with sqlite3.connect(db) as connection:
        liked = connection.execute(
            "SELECT post_id, count(*) AS n FROM likes WHERE run_id = ? AND turn_number < 5 "
            "GROUP BY post_id ORDER BY n DESC, post_id LIMIT 5",
            (run_id,),
        ).fetchall()
        top = connection.execute(
            "SELECT j.value FROM generated_feeds g, json_each(g.post_ids) j "
            "WHERE g.run_id = ? AND g.turn_number = 5 AND j.key < 3",
            (run_id,),
        ).fetchall()
    assert liked and {p for p, _ in liked} & {v for (v,) in top}


def test_leanings_drift_only_when_enabled(db):
    frozen = simulation.run(_config(opinion={"enabled": False}), db)
    drifting = simulation.run(_config(opinion={"enabled": True, "mu": 0.3}), db)
    frozen_values = {r[2] for r in _rows(db, frozen, "agent_leanings") if r[0] == 3}
    initial = {
        v for (v,) in sqlite3.connect(db).execute("SELECT leaning FROM agent_traits").fetchall()
    }
    assert frozen_values == initial
    moved = np.array([r[2] for r in _rows(db, drifting, "agent_leanings") if r[0] == 3])
    assert len(set(moved.tolist()) - initial) > 0
