"""Evaluation analytics against independent pandas computations from the raw SQLite rows."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simlab import analytics
from simlab.compare import CompareConfig, compare
from simlab.db import make_engine
from simlab.errors import InputError
from simlab.evaluators import EvaluatorOptions
from simlab.evaluators.pipeline import build_scorers, evaluate
from simlab.evaluators.targets import TARGETS

from .conftest import synthetic_database

ARMS = ["chronological", "bridging"]


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """Two feeds x 2 replicates x 3 turns, comments scored by both embedded evaluators."""
    path = tmp_path_factory.mktemp("evaluations") / "simlab.db"
    synthetic_database(path, agents=80, posts=300, seed=2)
    engine = make_engine(path)
    result = compare(
        CompareConfig(feeds=ARMS, replicates=2, seed=2, run={"turns": 3}), str(path), jobs=1
    )
    assert not result.failures
    runs = sorted(result.run_ids.values())
    evaluate(engine, runs, build_scorers(None, EvaluatorOptions()), [TARGETS["comments"]])
    engine.dispose()
    con = analytics.connect(path)
    yield path, result, con
    con.close()


def _raw(path: Path, evaluator: str) -> pd.DataFrame:
    """ok evaluations of run texts, one column per dimension, with arm and replicate."""
    with sqlite3.connect(path) as connection:
        rows = pd.read_sql_query(
            "SELECT e.run_id, e.turn_number AS turn, e.agent_handle, e.scores, e.evaluation_id,"
            " e.target_id, m.arm, m.replicate FROM evaluations AS e"
            " JOIN comparison_runs AS m ON m.run_id = e.run_id"
            " WHERE e.evaluator = ? AND e.status = 'ok'",
            connection,
            params=(evaluator,),
        )
    scores = pd.json_normalize(rows.pop("scores").map(json.loads))
    return pd.concat([rows, scores], axis=1)


def _history(path: Path, evaluator: str) -> pd.DataFrame:
    with sqlite3.connect(path) as connection:
        rows = pd.read_sql_query(
            "SELECT * FROM agent_score_history WHERE evaluator = ?", connection, params=(evaluator,)
        )
    newest = (
        rows.sort_values("history_id").groupby(["run_id", "turn_number", "agent_handle"]).tail(1)
    )
    return newest.assign(flags=newest["high_flags"].map(json.loads))


@pytest.mark.parametrize(
    ("evaluator", "dimension"), [("offensive", "offensive"), ("sentiment", "neu")]
)
def test_leaderboard_equals_pandas(study, evaluator, dimension):
    path, result, con = study
    board = analytics.leaderboard(
        con, evaluator=evaluator, dimension=dimension, comparison_id=result.comparison_id
    )
    raw = _raw(path, evaluator)
    expected = (
        raw.groupby("agent_handle")
        .agg(
            items=(dimension, "size"),
            runs=("run_id", "nunique"),
            mean=(dimension, "mean"),
            max=(dimension, "max"),
        )
        .reset_index()
    )
    history = _history(path, evaluator)
    history["high"] = history["flags"].map(lambda f: f[f"has_high_{dimension}"])
    flags = (
        history.groupby("agent_handle")
        .agg(turns=("high", "size"), high_turns=("high", "sum"))
        .reset_index()
    )
    expected = expected.merge(flags, on="agent_handle", how="left")
    expected = expected.sort_values(
        ["mean", "agent_handle"], ascending=[False, True], ignore_index=True
    )
    expected.insert(0, "rank", np.arange(1, len(expected) + 1))
    assert len(board) == len(expected) > 0
    assert board["agent_handle"].tolist() == expected["agent_handle"].tolist()
    assert board["rank"].tolist() == expected["rank"].tolist()
    for column in ("items", "runs", "turns", "high_turns"):
        assert board[column].tolist() == expected[column].astype(int).tolist(), column
    np.testing.assert_allclose(board["mean"], expected["mean"])
    np.testing.assert_allclose(board["max"], expected["max"])
    assert board["flagged"].tolist() == (expected["high_turns"] > 0).tolist()
    assert board["turns"].sum() == len(history)


def _t_interval(values: np.ndarray) -> tuple[float, float, float]:
    mean = values.mean()
    if len(values) < 2:
        return mean, math.nan, math.nan
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return mean, mean - half, mean + half


@pytest.mark.parametrize(
    ("evaluator", "dimension"), [("offensive", "offensive"), ("sentiment", "compound")]
)
def test_dimension_trends_equal_pandas_with_t_intervals(study, evaluator, dimension):
    path, result, con = study
    trends = analytics.dimension_trends(
        con, evaluator=evaluator, dimension=dimension, comparison_id=result.comparison_id
    )
    raw = _raw(path, evaluator)
    per_run = (
        raw.groupby(["arm", "run_id", "turn"])
        .agg(m=(dimension, "mean"), items=(dimension, "size"))
        .reset_index()
    )
    rows = []
    for arm in ARMS:
        for turn, group in per_run[per_run["arm"] == arm].groupby("turn"):
            rows.append(
                (arm, turn, len(group), group["items"].sum(), *_t_interval(group["m"].to_numpy()))
            )
    expected = pd.DataFrame(
        rows, columns=["arm", "turn", "n", "items", "mean", "ci_low", "ci_high"]
    )
    assert (
        trends[["arm", "turn", "n", "items"]].values.tolist()
        == expected[["arm", "turn", "n", "items"]].values.tolist()
    )
    np.testing.assert_allclose(
        trends[["mean", "ci_low", "ci_high"]], expected[["mean", "ci_low", "ci_high"]]
    )
    assert (trends["n"] == 2).any()  # both replicates wrote comments in some turn


def test_evaluation_metrics_are_run_means_in_run_scalars_shape(study):
    path, result, con = study
    metrics = analytics.evaluation_metrics(con, comparison_id=result.comparison_id)
    assert list(metrics.columns) == list(
        analytics.run_scalars(con, comparison_id=result.comparison_id).columns
    )
    raw = _raw(path, "offensive")
    expected = raw.groupby("run_id")["offensive"].mean()
    got = metrics[metrics["key"] == "run.evaluation.offensive.offensive"].set_index("run_id")[
        "value"
    ]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert metrics["arm"].drop_duplicates().tolist() == ARMS  # comparison order
    keys = set(metrics["key"])
    assert {f"run.evaluation.sentiment.{d}" for d in ("compound", "pos", "neu", "neg")} <= keys


def test_top_items_are_the_highest_scores_with_text_agent_and_feed(study):
    path, result, con = study
    top = analytics.top_items(
        con, evaluator="sentiment", dimension="neg", comparison_id=result.comparison_id, limit=5
    )
    raw = (
        _raw(path, "sentiment")
        .sort_values(["neg", "evaluation_id"], ascending=[False, True])
        .head(5)
    )
    assert top["target_id"].tolist() == raw["target_id"].tolist()
    np.testing.assert_allclose(top["score"], raw["neg"])
    with sqlite3.connect(path) as connection:
        texts = dict(connection.execute("SELECT comment_id, text FROM comments").fetchall())
    assert top["text"].tolist() == [texts[t] for t in raw["target_id"]]
    assert top["arm"].tolist() == raw["arm"].tolist()
    assert top["agent_handle"].tolist() == raw["agent_handle"].tolist()


def test_top_items_carry_the_text_of_agent_posts(study, tmp_path):
    source, result, _ = study
    path = tmp_path / "posts.db"
    with sqlite3.connect(source) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    engine = make_engine(path)
    runs = sorted(result.run_ids.values())
    evaluate(engine, runs, build_scorers(None, EvaluatorOptions()), [TARGETS["agent_posts"]])
    engine.dispose()
    with sqlite3.connect(path) as connection:
        texts = dict(connection.execute("SELECT agent_post_id, text FROM agent_posts").fetchall())
    assert texts  # agents post by default
    con = analytics.connect(path)
    top = analytics.top_items(
        con, evaluator="sentiment", dimension="pos", comparison_id=result.comparison_id, limit=500
    )
    con.close()
    posts = top[top["target_kind"] == "agent_posts"]
    assert len(posts) > 0
    assert posts["text"].tolist() == [texts[t] for t in posts["target_id"]]


def test_agent_state_at_a_turn(study, tmp_path):
    path, result, con = study
    run_id = result.run_ids[("bridging", 1)]
    history = _history(path, "sentiment")
    row = history[history["run_id"] == run_id].iloc[0]
    agent, turn = row["agent_handle"], int(row["turn_number"])
    state = analytics.agent_state_at(con, run_id=run_id, agent=agent, turn=turn)
    with sqlite3.connect(path) as connection:
        leaning = connection.execute(
            "SELECT leaning FROM agent_leanings WHERE run_id = ? AND turn_number = ? AND agent_handle = ?",
            (run_id, turn, agent),
        ).fetchone()[0]
        initial = {
            r[0]
            for r in connection.execute(
                "SELECT followed_handle FROM initial_follows WHERE agent_handle = ?", (agent,)
            )
        }
        later = {
            r[0]
            for r in connection.execute(
                "SELECT user_id FROM follows WHERE run_id = ? AND agent_handle = ? AND turn_number <= ?",
                (run_id, agent, turn),
            )
        }
    assert state.leaning == pytest.approx(leaning)
    assert state.follows == sorted(initial | later)
    assert state.stance.empty  # rule-based agents state no stances
    sentiment = state.scores[state.scores["evaluator"] == "sentiment"].set_index("dimension")
    assert sentiment["mean"].to_dict() == pytest.approx(json.loads(row["dimension_means"]))
    assert (sentiment["items"] == row["items"]).all()
    assert {f"has_high_{d}": bool(v) for d, v in sentiment["has_high"].items()} == row["flags"]
    assert set(state.scores["evaluator"]) == {"offensive", "sentiment"}

    with pytest.raises(InputError, match="agent: no agent with handle 'nobody'"):
        analytics.agent_state_at(con, run_id=run_id, agent="nobody", turn=turn)
    with pytest.raises(InputError, match="run_id: no run 'nope'"):
        analytics.agent_state_at(con, run_id="nope", agent=agent, turn=turn)


def test_agent_state_reads_the_stances_stated_at_that_turn(study, tmp_path):
    path, result, _ = study
    copy = tmp_path / "stances.db"
    with sqlite3.connect(path) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    run_id = result.run_ids[("chronological", 0)]
    with sqlite3.connect(copy) as connection:
        agent = connection.execute("SELECT handle FROM agent ORDER BY handle LIMIT 1").fetchone()[0]
        connection.executemany(
            "INSERT INTO agent_stances (run_id, turn_number, agent_handle, topic, stance,"
            " confidence, leaning, rationale, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'now')",
            [
                (run_id, 0, agent, "economy", "for", 0.6, 0.3, "r0", "current"),
                (run_id, 1, agent, "climate", "act now", 0.8, -0.5, "r1", "superseded"),
                (run_id, 2, agent, "climate", "wait", 0.4, 0.2, "r2", "current"),
            ],
        )
    con = analytics.connect(copy)
    at = {t: analytics.agent_state_at(con, run_id=run_id, agent=agent, turn=t) for t in (0, 1, 2)}
    # the newest statement per topic at or before the turn, however it is marked now
    assert list(at[0].stance["topic"]) == ["economy"]
    assert at[1].stance.set_index("topic")["stance"].to_dict() == {
        "climate": "act now",
        "economy": "for",
    }
    assert at[2].stance.set_index("topic")["stance"].to_dict() == {
        "climate": "wait",
        "economy": "for",
    }
    assert analytics.stance_at(con, run_id=run_id, agent=agent, turn=2).equals(at[2].stance)
    con.close()


def test_unknown_evaluator_or_dimension_is_a_one_line_input_error(study):
    _, result, con = study
    with pytest.raises(
        InputError, match="no evaluations by 'llm_judge'; evaluated: offensive, sentiment"
    ):
        analytics.leaderboard(con, evaluator="llm_judge", dimension="harm_enablement")
    with pytest.raises(
        InputError, match="sentiment has no dimension 'joy'; allowed: compound, neg, neu, pos"
    ):
        analytics.dimension_trends(con, evaluator="sentiment", dimension="joy")
