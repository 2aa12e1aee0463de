"""What the notebooks compute, each against an independent computation.

Groups against pandas over the raw SQLite tables, pairing of hand-picked runs
against the comparison's own estimates, threads and explained feeds against
SQL counts, the spring layout against networkx, downloads against a round
trip. One small database: 40 agents, chronological vs popularity, 2 replicates
of 3 turns (the notebook tests' study).
"""

from __future__ import annotations

import io
import json
import sqlite3

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from simlab import analytics, charts, exports, network
from simlab.analytics import groups, pairing, threads
from simlab.charts.groups import group_bars
from simlab.charts.network import follow_network, leaning_histogram
from simlab.compare import CompareConfig, compare
from simlab.errors import InputError

from .test_notebooks import build_study


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return build_study(tmp_path_factory.mktemp("workbench") / "simlab.db")


@pytest.fixture(scope="module")
def con(study):
    connection = analytics.connect(study.db)
    yield connection
    connection.close()


def _table(db, sql: str, *params) -> pd.DataFrame:
    with sqlite3.connect(db) as connection:
        return pd.read_sql_query(sql, connection, params=params)


# --- metrics by agent group ---------------------------------------------------------------


def _groups_by_pandas(db, run_id: str) -> pd.DataFrame:
    traits = _table(
        db,
        "SELECT a.handle AS agent_handle, t.leaning, t.activity_rate "
        "FROM agent AS a JOIN agent_traits AS t ON t.agent_id = a.agent_id",
    )
    leanings = _table(db, "SELECT * FROM agent_leanings WHERE run_id = ?", run_id)
    last = leanings.sort_values("turn_number").groupby("agent_handle")["leaning"].last()
    feeds = _table(
        db, "SELECT agent_handle, post_ids FROM generated_feeds WHERE run_id = ?", run_id
    )
    served = feeds.assign(n=feeds["post_ids"].map(lambda ids: len(json.loads(ids))))
    agents = traits[traits["agent_handle"].isin(last.index)].set_index("agent_handle")
    agents["impressions"] = served.groupby("agent_handle")["n"].sum()
    for action in ("likes", "comments", "follows"):
        done = _table(db, f"SELECT agent_handle FROM {action} WHERE run_id = ?", run_id)
        agents[action] = done["agent_handle"].value_counts()
    agents = agents.fillna({"impressions": 0, "likes": 0, "comments": 0, "follows": 0})
    agents["shift"] = last - agents["leaning"]
    cut = 1 / 3
    agents["leaning_group"] = np.where(
        agents["leaning"] < -cut, "left", np.where(agents["leaning"] > cut, "right", "centre")
    )
    median = traits["activity_rate"].median()  # over the stored population
    agents["activity_group"] = np.where(agents["activity_rate"] >= median, "high", "low")
    rows = []
    for grouping in ("leaning", "activity"):
        for group, members in agents.groupby(f"{grouping}_group"):
            actions = members[["likes", "comments", "follows"]].to_numpy().sum()
            rows.append({
                "grouping": grouping, "group": group, "agents": len(members),
                "actions_per_agent": actions / len(members),
                "engagement_rate": actions / members["impressions"].sum(),
                "leaning_shift": members["shift"].mean(),
            })  # fmt: skip
    return pd.DataFrame(rows).sort_values(["grouping", "group"]).reset_index(drop=True)


def test_group_metrics_equal_a_pandas_computation(study, con):
    run_id = study.run_ids[("popularity", 1)]
    found = groups.group_metrics(con, run_ids=[run_id])
    assert set(found["run_id"]) == {run_id} and set(found["grouping"]) == {"leaning", "activity"}
    ours = found.sort_values(["grouping", "group"]).reset_index(drop=True)
    expected = _groups_by_pandas(study.db, run_id)
    columns = ["grouping", "group", "agents", "actions_per_agent", "engagement_rate"]
    pd.testing.assert_frame_equal(
        ours[[*columns, "leaning_shift"]], expected[[*columns, "leaning_shift"]], check_dtype=False
    )
    assert ours.groupby("grouping")["agents"].sum().tolist() == [40, 40]


def test_group_summary_averages_each_arms_runs(study, con, shorthand_channels):
    frame = groups.group_metrics(con, comparison_id=study.comparison_id)
    summary = groups.group_summary(frame)
    assert list(pd.unique(summary["arm"])) == ["chronological", "popularity"]
    row = summary.query("arm == 'popularity' and group == 'left' and metric == 'leaning_shift'")
    expected = frame.query("arm == 'popularity' and group == 'left'")["leaning_shift"].mean()
    assert row["mean"].item() == pytest.approx(expected) and row["runs"].item() == 2
    assert group_bars(summary).to_dict()
    assert shorthand_channels == []


# --- pairing hand-picked runs ---------------------------------------------------------------


def test_hand_picked_runs_of_a_comparison_are_paired_by_seed(study, con):
    picked = list(study.run_ids.values())
    paired = pairing.paired_replicates(con, run_ids=picked)
    assert sorted(paired["replicate"]) == [0, 0, 1, 1]
    by_run = paired.set_index("run_id")["replicate"]
    for replicate in (0, 1):  # the comparison's replicate r shares one seed across arms
        arms = [by_run[study.run_ids[(arm, replicate)]] for arm in ("chronological", "popularity")]
        assert arms[0] == arms[1]
    assert pairing.paired_replicates(con, run_ids=picked[:3]) is None  # an arm lacks a seed
    chronological = [study.run_ids[("chronological", r)] for r in (0, 1)]
    assert pairing.paired_replicates(con, run_ids=chronological) is None  # one arm


def test_runs_with_other_settings_are_not_paired(study, tmp_path):
    from .conftest import copy_database

    db = copy_database(study.db, tmp_path / "copy.db")
    longer = compare(
        CompareConfig(feeds=["random"], replicates=2, seed=1, run={"turns": 4}), str(db)
    )
    connection = analytics.connect(db)
    try:
        picked = [study.run_ids[("chronological", 0)], study.run_ids[("chronological", 1)]]
        mixed = picked + list(longer.run_ids.values())  # same seeds, but 4 turns, not 3
        assert pairing.paired_replicates(connection, run_ids=mixed) is None
        summary = analytics.summary(connection, run_ids=mixed)
        assert summary["diff_low"].isna().all()
    finally:
        connection.close()


def test_the_forest_plot_names_an_interval_only_when_there_is_one(study, con):
    loose = [study.run_ids[("chronological", 0)], study.run_ids[("popularity", 1)]]
    unpaired = charts.difference_dots(analytics.summary(con, run_ids=loose)).to_dict()
    paired = charts.difference_dots(analytics.summary(con, run_ids=list(study.run_ids.values())))
    assert "95% CI" not in json.dumps(unpaired) and "no interval" in json.dumps(unpaired)
    assert "Difference (95% CI)" in json.dumps(paired.to_dict())


# --- threads and explained feeds --------------------------------------------------------------


def test_threads_hold_every_comment_under_its_post_in_turn_order(study, con):
    run_id = study.run_ids[("popularity", 0)]
    every = threads.thread_comments(con, run_id=run_id)
    stored = _table(study.db, "SELECT * FROM comments WHERE run_id = ?", run_id)
    assert len(every) == len(stored) > 0
    for _, thread in every.groupby("post_id", sort=False):
        assert thread["turn_number"].is_monotonic_increasing
    by_stance = [
        len(threads.thread_comments(con, run_id=run_id, stance=s)) for s in threads.STANCES
    ]
    assert sum(by_stance) == len(every)
    author = stored["agent_handle"].iloc[0]
    mine = threads.thread_comments(con, run_id=run_id, agent_handle=author, turns=(1, 2))
    expected = stored[(stored["agent_handle"] == author) & stored["turn_number"].between(1, 2)]
    assert len(mine) == len(expected)
    post = stored["post_id"].iloc[0]
    assert (threads.thread_comments(con, run_id=run_id, post_id=post)["post_id"] == post).all()
    with pytest.raises(InputError, match="stance: unknown stance 'angry'; choose from with"):
        threads.thread_comments(con, run_id=run_id, stance="angry")
    text = threads.thread_markdown(every, posts=1)
    assert text.count("> turn") == (every["post_id"] == every["post_id"].iloc[0]).sum()
    assert threads.thread_markdown(every.iloc[0:0]) == "No comments match these filters."


def test_explained_feed_shows_each_action_with_its_recorded_reason(study, con):
    run_id = study.run_ids[("popularity", 0)]
    activity = analytics.agent_activity(con, run_id=run_id)
    agent = threads.most_active_agent(activity)
    served = analytics.served_turns(con, run_id=run_id, agent_handle=agent)
    turn = threads.turn_with_actions(con, run_id=run_id, agent_handle=agent, served=served)
    feed = threads.explained_feed(con, run_id=run_id, turn=turn, agent_handle=agent)
    likes = _table(
        study.db,
        "SELECT post_id, explanation, generation_metadata_json FROM likes_explained "
        "WHERE run_id = ? AND turn_number = ? AND agent_handle = ?",
        run_id, turn, agent,
    )  # fmt: skip
    liked = feed[feed["did"].str.contains("like")].set_index("post_id")
    assert sorted(liked.index) == sorted(likes["post_id"])
    for row in likes.itertuples():
        assert row.explanation in liked.loc[row.post_id, "explanation"]
        p = json.loads(row.generation_metadata_json)["p"]
        assert f"like {p:.3f}" in liked.loc[row.post_id, "p"]
    assert (
        feed["did"].ne("").sum() > 0 and (feed["liked"] == feed["did"].str.contains("like")).all()
    )


# --- the follow network -------------------------------------------------------------------------


def test_spring_layout_equals_networkx_from_the_same_start():
    graph = nx.gnm_random_graph(50, 120, seed=3)
    start = np.random.default_rng(5).random((50, 2))
    ours = network.spring_layout(nx.to_numpy_array(graph), start=start.copy())
    theirs = nx.spring_layout(graph, pos=dict(enumerate(start)), seed=0)
    np.testing.assert_allclose(ours, np.array([theirs[i] for i in range(50)]), atol=1e-4)
    assert np.abs(ours).max() == pytest.approx(1.0)
    again = network.spring_layout(nx.to_numpy_array(graph), seed=1)
    np.testing.assert_array_equal(again, network.spring_layout(nx.to_numpy_array(graph), seed=1))


def test_run_drawing_places_every_agent_and_the_neighbourhood(study, con, shorthand_channels):
    run_id = study.run_ids[("popularity", 0)]
    edges = analytics.follow_edges(con, run_id=run_id)
    activity = analytics.agent_activity(con, run_id=run_id)
    nodes, drawn = network.run_drawing(edges, activity)
    assert sorted(nodes["handle"]) == sorted(activity["agent_handle"])
    agents = set(activity["agent_handle"])
    among = edges[edges["source"].isin(agents) & edges["target"].isin(agents)]
    unique = among[among["source"] != among["target"]].drop_duplicates(["source", "target"])
    assert len(drawn) == len(unique)
    assert nodes.set_index("handle")["followers"].sum() == len(unique)
    focus = activity["agent_handle"].iloc[0]
    near, near_edges = network.run_drawing(edges, activity, focus=focus)
    touching = edges[(edges["source"] == focus) | (edges["target"] == focus)]
    assert set(near["handle"]) == {focus} | set(touching["source"]) | set(touching["target"])
    assert follow_network(near, near_edges, focus=focus).to_dict()
    assert follow_network(nodes, drawn).to_dict()
    hist = leaning_histogram(activity.rename(columns={"leaning_end": "leaning"}))
    assert sum(row["agents"] for row in hist.to_dict()["datasets"].popitem()[1]) == 40
    assert shorthand_channels == []


# --- downloads -------------------------------------------------------------------------------


def test_every_shown_frame_downloads_as_csv_and_parquet(study, con):
    frames = exports.shown_frames(
        con, keys=["turn.engagement.rate"], comparison_id=study.comparison_id
    )
    assert {"summary", "group_metrics", "over_turns_turn.engagement.rate"} <= set(frames)
    for make in frames.values():
        frame = make()
        back = pd.read_parquet(io.BytesIO(exports.encoded(frame, "parquet")))
        pd.testing.assert_frame_equal(back, frame.reset_index(drop=True), check_dtype=False)
        assert pd.read_csv(io.BytesIO(exports.encoded(frame, "csv"))).shape == frame.shape
    with pytest.raises(ValueError, match="unknown format 'xlsx'"):
        exports.encoded(pd.DataFrame(), "xlsx")
