"""DuckDB analytics against independent answers from Python's sqlite3, numpy and scipy."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sqlite3
import time

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simlab import analytics
from simlab import engine as simulation
from simlab.analytics import connection
from simlab.config import RunConfig
from simlab.db import make_engine, migrate
from simlab.errors import InputError
from simlab.population import SyntheticConfig, create_synthetic

from .conftest import copy_database

ARMS = ("popularity", "chronological")  # deliberately not alphabetical
REPLICATES = 3
MAIN, OLD = "cmp-main", "cmp-old"
AGENT = "agent0005.sim.bsky.social"


def _config(seed: int, feed: str) -> RunConfig:
    return RunConfig.model_validate({"seed": seed, "turns": 3, "feed": {"name": feed}})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A database with a 2-arm x 3-replicate comparison, an older comparison and a free run."""
    path = tmp_path_factory.mktemp("analytics") / "simlab.db"
    migrate(path)
    engine = make_engine(path)
    create_synthetic(engine, SyntheticConfig(agents=40, posts=200, seed=1))
    members = []
    for replicate in range(REPLICATES):
        for arm in ARMS:
            run_id = simulation.run(_config(replicate + 1, arm), engine)
            members.append((MAIN, run_id, arm, replicate, replicate + 1))
    old_run = simulation.run(_config(9, "random"), engine)
    free_run = simulation.run(_config(5, "in_network"), engine)
    engine.dispose()
    with sqlite3.connect(path) as db:
        config = {"feeds": list(ARMS), "replicates": REPLICATES, "turns": 3}
        db.execute(
            "INSERT INTO comparisons VALUES (?, ?, ?)",
            (MAIN, json.dumps(config), "2026-06-01T00:00:00+00:00"),
        )
        db.execute(
            "INSERT INTO comparisons VALUES (?, ?, ?)",
            (OLD, json.dumps({"feeds": ["baseline"]}), "2026-01-01T00:00:00+00:00"),
        )
        db.executemany("INSERT INTO comparison_runs VALUES (?, ?, ?, ?, ?)", members)
        db.execute(
            "INSERT INTO comparison_runs VALUES (?, ?, ?, ?, ?)", (OLD, old_run, "baseline", 0, 9)
        )
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return {
        "path": path,
        "members": members,
        "old_run": old_run,
        "free_run": free_run,
        "first": members[0][1],
    }


@pytest.fixture(scope="module")
def con(built):
    con = analytics.connect(built["path"])
    yield con
    con.close()


@pytest.fixture(scope="module")
def arrow_con(built):
    con = analytics.connect(built["path"], method="arrow")
    yield con
    con.close()


def _sqlite(path, sql, params=()):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(sql, params).fetchall()


# --- connecting ------------------------------------------------------------------


def test_the_wheel_binary_is_used_where_it_exists(con, built):
    if connection.wheel_extension() is None:
        pytest.skip("duckdb-extension-sqlite-scanner binary not installed")
    assert analytics.access_method(con) == "columnar"  # finished runs from copies, over the wheel
    with analytics.connect(built["path"], columnar=False) as plain:
        assert analytics.access_method(plain) == "wheel"


def test_download_is_tried_second(built, monkeypatch):
    binary = connection.wheel_extension()
    if binary is None:
        pytest.skip("duckdb-extension-sqlite-scanner binary not installed")

    def download(con):  # stand-in for a working download: load the same binary
        con.execute(f"LOAD '{binary}'")

    monkeypatch.setattr(connection, "_load_wheel", lambda con: "wrong platform (test)")
    monkeypatch.setattr(connection, "_load_download", download)
    with analytics.connect(built["path"], columnar=False) as con:
        assert analytics.access_method(con) == "download"
        assert analytics.latest_comparison(con) == MAIN


def test_arrow_method_can_be_forced(arrow_con):
    assert analytics.access_method(arrow_con) == "arrow"


def test_cursors_of_a_connection_work_too(con, arrow_con, built):
    for parent in (con, arrow_con):
        cursor = parent.cursor()
        assert analytics.access_method(cursor) == analytics.access_method(parent)
        assert (
            len(analytics.agent_feed(cursor, run_id=built["first"], turn=0, agent_handle=AGENT)) > 0
        )
        cursor.close()
    with duckdb.connect() as plain, pytest.raises(InputError, match="not opened by simlab"):
        analytics.access_method(plain)


def test_missing_file_is_one_line_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist") as info:
        analytics.connect(tmp_path / "nope.db")
    assert "\n" not in str(info.value)


def test_default_database_comes_from_env(built, monkeypatch):
    monkeypatch.setenv("SIMLAB_DB", str(built["path"]))
    with analytics.connect() as con:
        assert len(analytics.runs(con)) == 2 * REPLICATES + 2


@pytest.mark.parametrize(
    ("db", "message"),
    [
        ("mysql://user@localhost/simlab", "reads SQLite files only"),  # PostgreSQL: pg_attach
        ("sqlite://", "in-memory"),
    ],
)
def test_non_sqlite_targets_are_refused(db, message):
    with pytest.raises(InputError, match=message):
        analytics.connect(db)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello")
    with pytest.raises(InputError, match="not a SQLite database"):
        analytics.connect(path)


def test_a_database_behind_head_is_refused_with_the_upgrade_command(tmp_path):
    path = tmp_path / "old.db"
    migrate(path, "0010_sweeps")  # before run_models (0011), which the actions view reads
    with pytest.raises(
        InputError, match=r"revision 0010_sweeps, behind .*simlab db upgrade"
    ) as info:
        analytics.connect(path)
    assert "\n" not in str(info.value)
    migrate(path)
    with analytics.connect(path) as con:
        assert analytics.runs(con).empty


def test_unknown_method_is_refused(built):
    with pytest.raises(InputError, match="method"):
        analytics.connect(built["path"], method="magic")


def test_sqlite_url_is_accepted(built):
    with analytics.connect(f"sqlite:///{built['path']}") as con:
        assert analytics.latest_comparison(con) == MAIN


def test_falls_back_to_arrow_when_no_extension_loads(built, monkeypatch):
    monkeypatch.setattr(connection, "wheel_extension", lambda: None)
    monkeypatch.setattr(connection, "_load_download", lambda con: "no network (test)")
    with analytics.connect(built["path"]) as con:
        assert analytics.access_method(con) == "arrow"
        assert len(analytics.turn_metrics(con, comparison_id=MAIN)) > 0


def test_a_hanging_download_costs_only_the_timeout(monkeypatch):
    monkeypatch.setattr(connection, "_install", lambda: time.sleep(30))
    start = time.perf_counter()
    why = connection._install_with_timeout(0.5)
    assert time.perf_counter() - start < 3
    assert "gave up" in why


def test_offline_env_skips_the_download(built, monkeypatch):
    calls = []
    monkeypatch.setenv("SIMLAB_OFFLINE", "1")
    monkeypatch.setattr(connection, "_install", lambda: calls.append(1))
    monkeypatch.setattr(connection, "wheel_extension", lambda: None)
    with analytics.connect(built["path"]) as con:
        assert analytics.access_method(con) in ("download", "arrow")  # download = installed copy
    assert calls == []


def _fingerprint(path):
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


@pytest.mark.parametrize("method", ["auto", "arrow"])
def test_connect_never_writes_the_database(built, method):
    path = built["path"]
    wal = path.with_name(path.name + "-wal")
    before, wal_before = _fingerprint(path), wal.stat().st_size if wal.exists() else 0
    con = analytics.connect(path, method=method)
    analytics.comparison_summary(con, comparison_id=MAIN)
    analytics.action_counts(con)
    analytics.agent_feed(con, run_id=built["first"], turn=0, agent_handle=AGENT)
    con.close()
    assert _fingerprint(path) == before
    assert (wal.stat().st_size if wal.exists() else 0) == wal_before


def test_a_sqlite3_writer_in_the_same_process_keeps_working(built, tmp_path):
    path = tmp_path / "copy.db"
    shutil.copy(built["path"], path)
    con = analytics.connect(path, columnar=False)  # copies fix the run set at connect
    live = analytics.access_method(con) != "arrow"  # the attach sees commits; arrow is a snapshot
    assert len(analytics.comparisons(con)) == 2
    writer = sqlite3.connect(path)
    assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for n in range(3):  # every commit is seen, and the WAL stays where SQLite left it
        writer.execute(f"INSERT INTO comparisons VALUES ('cmp-new{n}', '{{}}', '2027-01-0{n + 1}')")
        writer.commit()
        if live:
            assert analytics.latest_comparison(con) == f"cmp-new{n}"
        assert path.with_name("copy.db-wal").exists()
    engine = make_engine(path)  # a whole run written through SQLAlchemy while DuckDB reads
    run_id = simulation.run(_config(11, "popularity"), engine)
    if live:
        assert run_id in set(analytics.runs(con)["run_id"])
    con.close()  # DuckDB's SQLite closes first, while both writers still hold the file
    writer.execute("INSERT INTO comparisons VALUES ('cmp-later', '{}', '2027-02-01T00:00:00')")
    writer.commit()
    second = simulation.run(_config(12, "popularity"), engine)
    engine.dispose()
    assert writer.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    writer.close()
    with sqlite3.connect(path) as fresh:
        assert fresh.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert fresh.execute("SELECT count(*) FROM comparisons").fetchone()[0] == 6
        assert fresh.execute("SELECT status FROM runs WHERE run_id = ?", (second,)).fetchone() == (
            "completed",
        )


# --- answers against sqlite3 -----------------------------------------------------


def test_action_counts_equal_sqlite_counts(con, built):
    frame = analytics.action_counts(con)
    expected = {}
    for table, action in (("likes", "like"), ("comments", "comment"), ("follows", "follow")):
        for run_id, turn, n in _sqlite(
            built["path"], f"SELECT run_id, turn_number, count(*) FROM {table} GROUP BY 1, 2"
        ):
            expected[(run_id, turn, action)] = n
    got = {(r.run_id, r.turn, r.action): r.count for r in frame.itertuples()}
    assert {k: v for k, v in got.items() if v} == expected
    n_turns = _sqlite(built["path"], "SELECT count(*) FROM turn_metadata")[0][0]
    assert len(frame) == 3 * n_turns  # zero-filled: every completed turn has all three actions


def test_turn_metric_equals_sqlite_json_extract(con, built):
    key = "turn.exposure.cross_cutting_share"
    rows = _sqlite(
        built["path"],
        "SELECT run_id, turn_number, json_extract(metrics, ?) FROM turn_metrics",
        (f'$."{key}"',),
    )
    frame = analytics.turn_metrics(con, keys=[key])
    got = {(r.run_id, r.turn): r.value for r in frame.itertuples()}
    assert len(got) == len(rows) > 0
    for run_id, turn, value in rows:
        assert got[(run_id, turn)] == pytest.approx(value, nan_ok=True)
    n_values = _sqlite(built["path"], "SELECT count(*) FROM turn_metrics, json_each(metrics)")
    assert len(analytics.turn_metrics(con)) == n_values[0][0]


def test_exposures_equal_sqlite_json_each(con, built):
    rows = _sqlite(
        built["path"],
        """
        SELECT g.run_id, g.turn_number, g.agent_handle, p.key + 1, p.value, s.value
        FROM generated_feeds AS g
        JOIN feed_scores AS f USING (run_id, turn_number, agent_handle),
             json_each(g.post_ids) AS p, json_each(f.scores) AS s
        WHERE s.key = p.key
        ORDER BY 1, 2, 3, 4
        """,
    )
    got = con.execute("SELECT * FROM exposures ORDER BY ALL").fetchall()
    assert len(got) == len(rows) > 0
    for (run, turn, agent, rank, post, score), expected in zip(got, rows, strict=True):
        assert (run, turn, agent, rank, post) == expected[:5]
        assert score == pytest.approx(expected[5])


def test_agent_leanings_equal_the_sqlite_view(con, built):
    """DuckDB's forward fill returns exactly the panel of the SQLite view (migration 0009)."""
    expected = _sqlite(
        built["path"], "SELECT * FROM agent_leanings ORDER BY run_id, turn_number, agent_handle"
    )
    got = con.execute(
        "SELECT run_id, turn_number, agent_handle, leaning FROM agent_leanings "
        "ORDER BY run_id, turn_number, agent_handle"
    ).fetchall()
    changes = _sqlite(built["path"], "SELECT count(*) FROM agent_leaning_changes")[0][0]
    runs = len(built["members"]) + 2
    assert changes > runs * 40  # leanings changed after turn 0: the fill is exercised
    assert len(expected) == runs * 40 * 3
    assert got == expected


def test_query_values_are_parameters_not_sql(con):
    hostile = "x' OR '1'='1"
    assert analytics.turn_metrics(con, run_ids=[hostile]).empty
    assert analytics.comments(con, run_id=hostile).empty
    with pytest.raises(InputError, match="no comparison"):
        analytics.turn_metrics(con, comparison_id=hostile)


def test_agent_activity_matches_the_action_tables(con, built):
    run_id = built["first"]
    frame = analytics.agent_activity(con, run_id=run_id)
    assert len(frame) == 40
    for table, column in (("likes", "likes"), ("comments", "comments"), ("follows", "follows")):
        n = _sqlite(built["path"], f"SELECT count(*) FROM {table} WHERE run_id = ?", (run_id,))
        assert frame[column].sum() == n[0][0]
    feeds = _sqlite(
        built["path"],
        "SELECT count(*), sum(json_array_length(post_ids)) FROM generated_feeds WHERE run_id = ?",
        (run_id,),
    )[0]
    assert (frame["feeds"].sum(), frame["impressions"].sum()) == feeds
    end = dict(
        _sqlite(
            built["path"],
            "SELECT agent_handle, leaning FROM agent_leanings WHERE run_id = ? AND turn_number = 2",
            (run_id,),
        )
    )
    assert dict(zip(frame["agent_handle"], frame["leaning_end"], strict=True)) == end


def test_agent_feed_flags_what_the_agent_did(con, built):
    run_id = built["first"]
    frame = analytics.agent_feed(con, run_id=run_id, turn=0, agent_handle=AGENT)
    served = _sqlite(
        built["path"],
        "SELECT post_ids FROM generated_feeds WHERE run_id = ? AND turn_number = 0 "
        "AND agent_handle = ?",
        (run_id, AGENT),
    )
    assert frame["post_id"].tolist() == json.loads(served[0][0])
    assert frame["rank"].tolist() == list(range(1, len(frame) + 1))
    liked = {
        r[0]
        for r in _sqlite(
            built["path"],
            "SELECT post_id FROM likes WHERE run_id = ? AND turn_number = 0 AND agent_handle = ?",
            (run_id, AGENT),
        )
    }
    assert set(frame.loc[frame["liked"], "post_id"]) == liked
    assert frame["liked"].dtype == bool and frame["topic"].notna().all()
    assert analytics.agent_feed(con, run_id=run_id, turn=99, agent_handle=AGENT).empty


def test_follow_edges_and_growth_match_sqlite(con, built):
    run_id = built["first"]
    edges = analytics.follow_edges(con, run_id=run_id)
    initial = _sqlite(built["path"], "SELECT count(*) FROM initial_follows")[0][0]
    in_run = _sqlite(
        built["path"],
        "SELECT turn_number, count(*) FROM follows WHERE run_id = ? GROUP BY 1",
        (run_id,),
    )
    assert (edges["turn"] == -1).sum() == initial  # all 40 agents are in the run
    assert dict(edges[edges["turn"] >= 0].groupby("turn").size()) == dict(in_run)
    assert analytics.follow_edges(con, run_id=run_id, up_to_turn=0)["turn"].max() == 0
    growth = analytics.follow_growth(con, run_ids=[run_id])
    assert growth["turn"].tolist() == [0, 1, 2]
    assert growth["cumulative"].iloc[-1] == sum(n for _, n in in_run)


def test_top_posts_count_in_run_likes(con, built):
    run_id = built["first"]
    top = analytics.top_posts(con, run_id=run_id, n=5)
    expected = _sqlite(
        built["path"],
        "SELECT post_id, count(*) AS n FROM likes WHERE run_id = ? GROUP BY post_id "
        "ORDER BY n DESC LIMIT 5",
        (run_id,),
    )
    assert top["likes"].tolist() == [n for _, n in expected]
    assert top["likes"].is_monotonic_decreasing


def test_comments_are_limited_and_ordered(con, built):
    frame = analytics.comments(con, run_id=built["first"], limit=7)
    assert len(frame) == 7
    assert list(frame.columns) == ["turn_number", "agent_handle", "post_id", "text", "explanation"]
    assert frame["turn_number"].is_monotonic_increasing


def test_leaning_distribution_matches_numpy_histogram(con, built):
    run_id = built["free_run"]
    frame = analytics.leaning_distribution(con, run_ids=[run_id], bins=8, turns=[1])
    leanings = [
        r[0]
        for r in _sqlite(
            built["path"],
            "SELECT leaning FROM agent_leanings WHERE run_id = ? AND turn_number = 1",
            (run_id,),
        )
    ]
    counts, edges = np.histogram(leanings, bins=8, range=(-1, 1))
    assert frame["turn"].unique().tolist() == [1]
    assert frame["bin_low"].to_numpy() == pytest.approx(edges[:-1])
    assert frame["share"].to_numpy() == pytest.approx(counts / len(leanings))
    shares = analytics.leaning_distribution(con, comparison_id=MAIN)
    assert shares.groupby(["arm", "turn"])["share"].sum().to_numpy() == pytest.approx(1.0)


# --- comparisons -----------------------------------------------------------------


def test_comparisons_and_arm_order(con):
    frame = analytics.comparisons(con)
    assert frame["comparison_id"].tolist() == [OLD, MAIN]
    main = frame.set_index("comparison_id").loc[MAIN]
    assert main["arms"] == ",".join(ARMS)
    assert (main["replicates"], main["turns"], main["agents"], main["n_runs"]) == (3, 3, 40, 6)
    assert analytics.latest_comparison(con) == MAIN
    assert analytics.arm_order(con, comparison_id=MAIN) == list(ARMS)
    assert analytics.runs(con, comparison_id=MAIN)["arm"].tolist() == [ARMS[0]] * 3 + [ARMS[1]] * 3


def test_arm_and_replicate_outside_and_inside_comparisons(con, built):
    frame = analytics.turn_metrics(
        con, run_ids=[built["free_run"], built["old_run"]], keys=["turn.engagement.rate"]
    )
    arms = dict(
        zip(frame["run_id"], zip(frame["arm"], frame["replicate"], strict=True), strict=True)
    )
    assert arms == {built["free_run"]: ("in_network", 0), built["old_run"]: ("baseline", 0)}


def test_run_scalars_take_run_metrics_and_turn_means(con, built):
    scalars = analytics.run_scalars(con, comparison_id=MAIN)
    assert len(scalars) == 2 * REPLICATES * len(analytics.HEADLINE_METRICS)
    run_id = built["first"]
    got = scalars[scalars["run_id"] == run_id].set_index("key")["value"]
    run_metrics = json.loads(
        _sqlite(built["path"], "SELECT metrics FROM run_metrics WHERE run_id = ?", (run_id,))[0][0]
    )
    assert got["run.engagement.rate"] == pytest.approx(run_metrics["run.engagement.rate"])
    turn_values = [
        json.loads(m)["turn.exposure.cross_cutting_share"]
        for (m,) in _sqlite(
            built["path"], "SELECT metrics FROM turn_metrics WHERE run_id = ?", (run_id,)
        )
    ]
    expected = np.mean([v for v in turn_values if v is not None])
    assert got["turn.exposure.cross_cutting_share"] == pytest.approx(expected)


def _t_interval(x, level=0.95):
    x = np.asarray(x, dtype=float)
    x = x[~np.isnan(x)]
    half = stats.t.ppf(0.5 + level / 2, len(x) - 1) * np.std(x, ddof=1) / math.sqrt(len(x))
    return x.mean(), x.mean() - half, x.mean() + half


def test_comparison_summary_equals_hand_computation(con):
    level = 0.9
    summary = analytics.comparison_summary(con, comparison_id=MAIN, level=level)
    scalars = analytics.run_scalars(con, comparison_id=MAIN)
    assert summary["key"].unique().tolist() == list(analytics.HEADLINE_METRICS)
    assert summary["arm"].tolist()[:2] == list(ARMS)
    for key in analytics.HEADLINE_METRICS:
        per_arm = {
            arm: scalars[(scalars["key"] == key) & (scalars["arm"] == arm)]
            .sort_values("replicate")["value"]
            .to_numpy()
            for arm in ARMS
        }
        rows = summary[summary["key"] == key].set_index("arm")
        for arm in ARMS:
            mean, low, high = _t_interval(per_arm[arm], level)
            row = rows.loc[arm]
            assert row["n"] == REPLICATES
            assert (row["mean"], row["ci_low"], row["ci_high"]) == pytest.approx((mean, low, high))
        diff = _t_interval(per_arm[ARMS[1]] - per_arm[ARMS[0]], level)
        row = rows.loc[ARMS[1]]
        assert (row["diff"], row["diff_low"], row["diff_high"]) == pytest.approx(diff)
        reference = rows.loc[ARMS[0]]
        assert reference["diff"] == 0 and np.isnan(reference["diff_low"])


def test_metric_bands_average_replicates(con):
    key = "turn.engagement.rate"
    bands = analytics.metric_bands(con, key=key, comparison_id=MAIN)
    series = analytics.turn_metrics(con, comparison_id=MAIN, keys=[key])
    assert bands["arm"].tolist() == [ARMS[0]] * 3 + [ARMS[1]] * 3
    for row in bands.itertuples():
        values = series[(series["arm"] == row.arm) & (series["turn"] == row.turn)]["value"]
        assert (row.n, row.mean) == (REPLICATES, pytest.approx(values.mean()))
        assert row.ci_low == pytest.approx(_t_interval(values)[1])
    with pytest.raises(InputError, match="turn"):
        analytics.metric_bands(con, key="run.engagement.rate", comparison_id=MAIN)


def test_action_mix_is_actions_per_agent_turn(con):
    counts = analytics.action_counts(con, comparison_id=MAIN)
    per_run = counts.groupby(["arm", "run_id", "action"])["count"].sum() / (40 * 3)
    expected = per_run.groupby(["arm", "action"]).mean()
    mix = analytics.action_mix(con, comparison_id=MAIN)
    assert mix["action"].tolist()[:3] == ["like", "comment", "follow"]
    for row in mix.itertuples():
        assert row.per_agent_turn == pytest.approx(expected[(row.arm, row.action)])


def test_exposure_diversity_is_the_two_turn_metrics(con):
    wide = analytics.exposure_diversity(con, comparison_id=MAIN)
    keys = ["turn.exposure.topic_entropy_per_agent", "turn.exposure.cross_cutting_share"]
    long = analytics.turn_metrics(con, comparison_id=MAIN, keys=keys)
    pivot = long.pivot(index=["run_id", "turn"], columns="key", values="value")
    merged = wide.set_index(["run_id", "turn"]).join(pivot)
    assert len(merged) == len(wide) == 2 * REPLICATES * 3
    for column, key in zip(["topic_entropy_per_agent", "cross_cutting_share"], keys, strict=True):
        assert merged[column].to_numpy() == pytest.approx(merged[key].to_numpy(), nan_ok=True)


# --- the arrow fallback answers the same -----------------------------------------


def _every_frame(con, built):
    run_id = built["first"]
    return {
        "runs": analytics.runs(con),
        "runs_main": analytics.runs(con, comparison_id=MAIN),
        "comparisons": analytics.comparisons(con),
        "turn_metrics": analytics.turn_metrics(con),
        "metric_bands": analytics.metric_bands(con, key="turn.engagement.rate", comparison_id=MAIN),
        "run_scalars": analytics.run_scalars(con, comparison_id=MAIN),
        "summary": analytics.comparison_summary(con, comparison_id=MAIN),
        "action_counts": analytics.action_counts(con),
        "action_mix": analytics.action_mix(con, comparison_id=MAIN),
        "agent_activity": analytics.agent_activity(con, run_id=run_id),
        "agent_feed": analytics.agent_feed(con, run_id=run_id, turn=1, agent_handle=AGENT),
        "comments": analytics.comments(con, run_id=run_id),
        "follow_edges": analytics.follow_edges(con, run_id=run_id),
        "follow_growth": analytics.follow_growth(con),
        "leaning": analytics.leaning_distribution(con, comparison_id=MAIN),
        "exposure_diversity": analytics.exposure_diversity(con),
        "top_posts": analytics.top_posts(con, run_id=run_id),
        "exposures": con.sql("SELECT * FROM exposures ORDER BY ALL").df(),
        "actions": con.sql("SELECT * FROM actions ORDER BY ALL").df(),
    }


def test_arrow_path_returns_the_same_frames(con, arrow_con, built):
    ours, theirs = _every_frame(con, built), _every_frame(arrow_con, built)
    for name, frame in ours.items():
        assert len(frame) > 0, name
        pd.testing.assert_frame_equal(frame, theirs[name], obj=name)


def test_arrow_tables_have_the_scanner_types(con, arrow_con):
    sql = (
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = 'sim' ORDER BY table_name, ordinal_position"
    )
    assert con.execute(sql).fetchall() == arrow_con.execute(sql).fetchall()


def test_views_have_the_documented_columns(con):
    expected = {
        "actions": "run_id turn_number agent_handle action target text explanation model_used "
        "created_at",
        "turn_metrics_long": "run_id turn_number key value",
        "exposures": "run_id turn_number agent_handle rank post_id score",
        "runs_overview": "run_id feed_algorithm status seed policy total_agents total_turns "
        "created_at completed_at config_json comparison_id arm replicate",
    }
    for view, columns in expected.items():
        assert con.sql(f"SELECT * FROM {view} LIMIT 0").columns == columns.split(), view


def test_debug_log_names_the_path(built, caplog):
    with caplog.at_level("DEBUG", logger="simlab.analytics"):
        analytics.connect(built["path"], method="arrow").close()
    assert any("via arrow" in r.getMessage() for r in caplog.records)


@pytest.fixture
def private_copy(built, tmp_path):
    return copy_database(built["path"], tmp_path / "copy.db")


def test_snapshot_returns_the_same_frames(con, built, private_copy):
    snap = analytics.connect(private_copy, snapshot=True)
    assert analytics.access_method(snap) == "snapshot"
    assert analytics.snapshot_path(private_copy).is_file()
    ours, theirs = _every_frame(con, built), _every_frame(snap, built)
    for name, frame in ours.items():
        pd.testing.assert_frame_equal(frame, theirs[name], obj=name)
    snap.close()


def test_snapshot_is_reused_until_the_database_changes(private_copy):
    analytics.connect(private_copy, snapshot=True).close()
    copy = analytics.snapshot_path(private_copy)
    first = copy.stat().st_mtime_ns
    analytics.connect(private_copy, snapshot=True).close()
    assert copy.stat().st_mtime_ns == first  # unchanged database: the copy is reused
    run_id = simulation.run(_config(42, "random"), private_copy)
    snap = analytics.connect(private_copy, snapshot=True)
    assert copy.stat().st_mtime_ns != first
    assert run_id in set(analytics.runs(snap)["run_id"])
    snap.close()
