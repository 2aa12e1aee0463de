"""The observatory notebook and the evaluation charts, on a small evaluated comparison."""

from __future__ import annotations

import sqlite3

import altair as alt
import pytest

from simlab import analytics
from simlab.charts import evaluations as charts_evaluations
from simlab.compare import CompareConfig, compare
from simlab.db import make_engine
from simlab.evaluators import EvaluatorOptions
from simlab.evaluators.pipeline import build_scorers, evaluate, resolve_runs
from simlab.evaluators.targets import TARGETS

from .conftest import copy_database, run_simlab, synthetic_database


def evaluate_comparison(path, comparison_id: str) -> None:
    """Score the comparison's comments with every embedded evaluator."""
    engine = make_engine(path)
    runs = resolve_runs(engine, [], comparison_id)
    evaluate(engine, runs, build_scorers(None, EvaluatorOptions()), [TARGETS["comments"]])
    engine.dispose()


@pytest.fixture(scope="module")
def unevaluated(tmp_path_factory):
    path = tmp_path_factory.mktemp("observatory") / "simlab.db"
    synthetic_database(path, agents=50, posts=200, seed=4)
    result = compare(
        CompareConfig(feeds=["chronological", "bridging"], replicates=2, seed=4, run={"turns": 3}),
        str(path),
        jobs=1,
    )
    assert not result.failures
    return path, result


@pytest.fixture(scope="module")
def evaluated(unevaluated, tmp_path_factory):
    source, result = unevaluated
    path = copy_database(source, tmp_path_factory.mktemp("evaluated") / "simlab.db")
    evaluate_comparison(path, result.comparison_id)
    return path, result


def _run_notebook(*args, **kwargs):
    from .test_notebooks import run_notebook  # imported late: test_notebooks imports this module

    return run_notebook(*args, **kwargs)


def test_observatory_shows_trends_leaderboard_top_items_and_agent_state(evaluated, monkeypatch):
    path, result = evaluated
    found = _run_notebook(
        "observatory", monkeypatch, "--db", str(path), "--comparison", result.comparison_id
    )
    assert found["evaluator_picker"].value == "offensive"
    assert found["dimension_picker"].value == "offensive"
    assert set(found["trends"]["arm"]) == {"chronological", "bridging"}
    assert found["trend_chart"].to_dict()
    assert len(found["board"]) > 0 and found["board_chart"].to_dict()
    assert len(found["top"]) == 10
    state = found["state"]
    assert state.run_id == found["top"]["run_id"].iloc[0]
    assert set(state.scores["evaluator"]) == {"offensive", "sentiment"}


def test_observatory_says_when_nothing_was_evaluated(unevaluated, monkeypatch):
    path, result = unevaluated
    found = _run_notebook("observatory", monkeypatch, "--db", str(path))
    assert found["dimensions"].empty
    assert "evaluator_picker" not in found  # stopped with a message


def test_evaluation_charts_build_from_the_analytics_frames(evaluated, shorthand_channels):
    path, result = evaluated
    con = analytics.connect(path)
    cid = result.comparison_id
    try:
        trends = analytics.dimension_trends(
            con, evaluator="sentiment", dimension="compound", comparison_id=cid
        )
        board = analytics.leaderboard(
            con, evaluator="offensive", dimension="offensive", comparison_id=cid
        )
        metrics = analytics.evaluation_metrics(con, comparison_id=cid)
    finally:
        con.close()
    for chart in (
        charts_evaluations.dimension_trend(trends, "sentiment", "compound", title="t"),
        charts_evaluations.leaderboard_bars(board, "offensive", top=5),
        charts_evaluations.arm_means(metrics, "run.evaluation.offensive.offensive"),
    ):
        assert isinstance(chart, alt.TopLevelMixin)
        spec = chart.to_dict()
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert shorthand_channels == []
    bars = charts_evaluations.leaderboard_bars(board, "offensive", top=5).to_dict()
    assert len(next(iter(bars["datasets"].values()))) == 5
    with pytest.raises(ValueError, match="arm_means: no rows for key 'run.x'"):
        charts_evaluations.arm_means(metrics, "run.x")
    with pytest.raises(ValueError, match="leaderboard_bars: the frame is empty"):
        charts_evaluations.leaderboard_bars(board.iloc[:0], "offensive")


def test_report_hooks_fill_the_comparison_table_and_draw_the_charts(evaluated, unevaluated):
    from simlab import evaluation_report

    path, result = evaluated
    con = analytics.connect(path)
    try:
        keys = evaluation_report.summary_keys(con)
        assert keys == ["run.evaluation.offensive.offensive", "run.evaluation.sentiment.compound"]
        assert len(evaluation_report.summary_keys(con, everything=True)) == 5
        filled = analytics.run_scalars(
            con, comparison_id=result.comparison_id, keys=["run.engagement.rate", *keys]
        )
        means = analytics.evaluation_metrics(con, comparison_id=result.comparison_id)
        expected = means.set_index(["run_id", "key"])["value"]
        evaluated = filled[filled["key"].isin(keys)]
        assert len(evaluated) == len(keys) * filled["run_id"].nunique()
        for row in evaluated.itertuples():
            assert row.value == pytest.approx(expected[(row.run_id, row.key)])
        # Default keys: the headline metrics, then the evaluated dimensions.
        assert analytics.summary_metric_keys(con) == [*analytics.HEADLINE_METRICS, *keys]
        default = analytics.run_scalars(con, comparison_id=result.comparison_id)
        assert default[default["key"].isin(keys)]["value"].tolist() == evaluated["value"].tolist()
        table = analytics.comparison_summary(con, comparison_id=result.comparison_id)
        offensive = table[table["key"] == "run.evaluation.offensive.offensive"]
        by_arm = means[means["key"] == keys[0]].groupby("arm")["value"].mean()
        assert len(offensive) == by_arm.size >= 2
        for row in offensive.itertuples():
            assert row.mean == pytest.approx(by_arm[row.arm])
        assert set(analytics.summary(con, comparison_id=result.comparison_id)["key"]) >= set(keys)
        figures = evaluation_report.report_charts(con, comparison_id=result.comparison_id)
        assert sorted(figures) == [
            "evaluation_offensive_offensive_by_feed", "evaluation_offensive_offensive_leaderboard",
            "evaluation_offensive_offensive_trend", "evaluation_sentiment_compound_by_feed",
            "evaluation_sentiment_compound_leaderboard", "evaluation_sentiment_compound_trend",
        ]  # fmt: skip
        assert all(f.to_dict() for f in figures.values())
    finally:
        con.close()
    empty = analytics.connect(unevaluated[0])
    try:
        assert evaluation_report.summary_keys(empty) == []
        assert evaluation_report.report_charts(empty) == {}
        assert analytics.summary_metric_keys(empty) == list(analytics.HEADLINE_METRICS)
    finally:
        empty.close()


def test_cli_evaluates_a_whole_comparison_and_its_feed_posts(unevaluated, tmp_path):
    source, result = unevaluated
    path = copy_database(source, tmp_path / "cli.db")
    args = ["evaluate", "--comparison", result.comparison_id, "--targets", "comments,feed_posts"]
    done = run_simlab(*args, "--db", str(path))
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(path) as connection:
        comments, posts = (
            connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("comments", "feed_posts")
        )
        counts = dict(
            connection.execute(
                "SELECT target_kind, count(*) FROM evaluations GROUP BY 1"
            ).fetchall()
        )
    assert counts == {"comments": 2 * comments, "feed_posts": 2 * posts}
    assert "sentiment" in done.stdout and "offensive" in done.stdout
    again = run_simlab(*args, "--db", str(path))
    assert again.returncode == 0
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM evaluations").fetchone()[0] == sum(
            counts.values()
        )
