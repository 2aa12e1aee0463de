"""Feed comparisons: confidence intervals, common random numbers, parallel = serial."""

from __future__ import annotations

import json
import math
import sqlite3

import pytest

from simlab.compare import CompareConfig, compare, parse_feed_params
from simlab.errors import InputError
from simlab.stats import mean_ci, paired_difference_ci

from .conftest import init_database, run_simlab
from .test_engine import _content


def test_mean_ci_hand_computed():
    # x = 1, 2, 3, 4: mean 2.5, s = sqrt(5/3) = 1.2910, t(0.975, 3) = 3.1824
    mean, low, high = mean_ci([1, 2, 3, 4])
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2
    assert mean == 2.5
    assert (low, high) == pytest.approx((2.5 - half, 2.5 + half), rel=1e-9)
    assert (2.5 - half, 2.5 + half) == pytest.approx((0.4457, 4.5543), abs=1e-4)


def test_paired_difference_cancels_shared_noise():
    baseline = [10.0, 20.0, 30.0]
    treatment = [11.0, 21.5, 30.5]  # d = 1, 1.5, 0.5: mean 1, s = 0.5, t(0.975, 2) = 4.3027
    mean, low, high = paired_difference_ci(treatment, baseline)
    half = 4.302652729911275 * 0.5 / math.sqrt(3)
    assert mean == pytest.approx(1.0)
    assert (low, high) == pytest.approx((1 - half, 1 + half))
    # unpaired, the arms' spread (s = 10) would swamp the difference
    assert mean_ci(treatment)[2] - mean_ci(treatment)[1] > 10 * (high - low)


def test_ci_edge_cases():
    assert mean_ci([3.0])[0] == 3.0 and math.isnan(mean_ci([3.0])[1])
    assert all(math.isnan(v) for v in mean_ci([]))
    assert mean_ci([1.0, float("nan"), 3.0])[0] == 2.0
    with pytest.raises(ValueError):
        paired_difference_ci([1, 2], [1])


def test_replicates_share_seeds_across_arms():
    spec = CompareConfig(feeds=["chronological", "random"], replicates=3, seed=5, run={"turns": 2})
    configs = spec.run_configs()
    seeds = {(arm, rep): c.seed for arm, rep, c in configs}
    assert [arm for arm, _, _ in configs] == ["chronological"] * 3 + ["random"] * 3
    assert all(seeds[("chronological", r)] == seeds[("random", r)] for r in range(3))
    assert len({seeds[("random", r)] for r in range(3)}) == 3


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"feeds": ["chronological", "bogus"]}, "unknown feed 'bogus'"),
        ({"feeds": ["random", "random"]}, "each arm name may appear once"),
        ({"feeds": ["random"], "feed_params": {"popularity": {"x": 1}}}, "not in --feeds"),
        (
            {"feeds": ["popularity"], "feed_params": {"popularity": {"nope": 1}}},
            "unknown parameter",
        ),
        ({"feeds": ["random"], "run": {"turns": 0}}, "turns"),
    ],
)
def test_bad_comparisons_are_refused(values, fragment):
    with pytest.raises((InputError, ValueError), match=fragment):
        CompareConfig.model_validate(values).run_configs()


def test_parse_feed_params():
    assert parse_feed_params(["popularity.half_life_hours=3", "popularity.like_weight=2"]) == {
        "popularity": {"half_life_hours": "3", "like_weight": "2"}
    }
    with pytest.raises(InputError, match="FEED.KEY=VALUE"):
        parse_feed_params(["half_life_hours=3"])


@pytest.fixture(scope="module")
def compare_db(tmp_path_factory):
    return init_database(tmp_path_factory.mktemp("cmp") / "cmp.db", agents=50, posts=250, seed=1)


def test_parallel_comparison_equals_serial_and_is_recorded(compare_db):
    spec = CompareConfig(
        feeds=["chronological", "popularity"], replicates=2, seed=3, run={"turns": 3}
    )
    events = []
    parallel = compare(spec, compare_db, jobs=2, on_progress=lambda *e: events.append(e))
    serial = compare(spec, compare_db, jobs=1)
    assert not parallel.failures and not serial.failures
    assert {e[0] for e in events} == {
        "chronological #0",
        "chronological #1",
        "popularity #0",
        "popularity #1",
    }
    assert max(e[1] for e in events) == 3
    for key in parallel.run_ids:
        assert _content(compare_db, parallel.run_ids[key]) == _content(
            compare_db, serial.run_ids[key]
        )
    with sqlite3.connect(compare_db) as connection:
        rows = connection.execute(
            "SELECT arm, replicate, seed, run_id FROM comparison_runs WHERE comparison_id = ? "
            "ORDER BY arm, replicate",
            (parallel.comparison_id,),
        ).fetchall()
        stored = json.loads(
            connection.execute(
                "SELECT config_json FROM comparisons WHERE comparison_id = ?",
                (parallel.comparison_id,),
            ).fetchone()[0]
        )
        statuses = {
            s for (s,) in connection.execute(
                "SELECT status FROM runs WHERE run_id IN (SELECT run_id FROM comparison_runs "
                "WHERE comparison_id = ?)", (parallel.comparison_id,)
            )
        }  # fmt: skip
    assert [(a, r) for a, r, _, _ in rows] == [
        ("chronological", 0), ("chronological", 1), ("popularity", 0), ("popularity", 1)
    ]  # fmt: skip
    assert rows[0][2] == rows[2][2] and rows[1][2] == rows[3][2]  # common random numbers
    assert [a["name"] for a in stored["arms"]] == ["chronological", "popularity"]
    assert statuses == {"completed"}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--feeds", "chronological,bogus"], "unknown feed 'bogus'"),
        (["--feeds", "random", "--feed-param", "popularity.x=1"], "not in --feeds"),
        (["--feeds", "random", "--feed-param", "x=1"], "FEED.KEY=VALUE"),
        (["--feeds", "random", "--jobs", "0"], "--jobs"),
        (["--feeds", "random", "--agents", "9999"], "--agents"),
    ],
)
def test_compare_cli_bad_input(compare_db, args, fragment):
    def count():
        with sqlite3.connect(compare_db) as connection:
            return connection.execute("SELECT count(*) FROM comparisons").fetchone()[0]

    before = count()
    result = run_simlab("compare", "--turns", "2", *args, "--db", str(compare_db))
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert count() == before
