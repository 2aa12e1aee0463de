"""`simlab init / run / resume / runs / feeds / policies / opinions / metrics` through the real command line."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from simlab import engine as simulation
from simlab.db import make_engine
from simlab.feeds import FEEDS
from simlab.metrics import METRICS
from simlab.opinion import OPINIONS
from simlab.policies import POLICIES
from simlab.replay import load_run

from .conftest import REPO, copy_database, init_database, run_simlab
from .test_engine import _content


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    return init_database(tmp_path_factory.mktemp("cli") / "cli.db", agents=80, posts=400, seed=2)


def _count(db, sql, *params):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchone()[0]


def test_init_then_run_prints_the_run_id(small_db):
    result = run_simlab("run", "--feed", "personalized", "--turns", "3", "--db", str(small_db))
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip().splitlines()[-1]
    assert _count(small_db, "SELECT count(*) FROM turn_metadata WHERE run_id = ?", run_id) == 3
    listing = run_simlab("runs", "--db", str(small_db))
    assert run_id in listing.stdout and "completed" in listing.stdout


def test_config_file_with_flag_overrides(small_db, tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        'seed = 11\nturns = 5\nmetrics = ["turn.actions"]\n'
        '[feed]\nname = "popularity"\nsize = 7\n[opinion]\nenabled = false\n'
    )
    result = run_simlab("run", "--config", str(config), "--turns", "2", "--db", str(small_db))
    assert result.returncode == 0, result.stderr
    run_id = result.stdout.strip().splitlines()[-1]
    with sqlite3.connect(small_db) as connection:
        config_json = connection.execute(
            "SELECT config_json FROM run_configs WHERE run_id = ?", (run_id,)
        ).fetchone()[0]
        longest = connection.execute(
            "SELECT max(json_array_length(post_ids)) FROM generated_feeds WHERE run_id = ?",
            (run_id,),
        ).fetchone()[0]
    assert '"turns":2' in config_json and '"seed":11' in config_json
    assert longest == 7


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--feed", "bogus"], "unknown feed 'bogus'; allowed: "),
        (["--feed", "chronological", "--feed-param", "x=1"], "unknown parameter 'x'"),
        (["--feed-param", "novalue"], "expected KEY=VALUE"),
        (["--agents", "100000"], "--agents: 100000 requested"),
        (["--agents", "1"], "agents"),
        (["--turns", "0"], "turns"),
        (["--config", "/nonexistent/run.toml"], "does not exist"),
        (["--metrics", "turn.bogus.metric"], "unknown metric"),
        (["--opinion", "bogus"], "unknown opinion model 'bogus'; allowed: "),
        (["--opinion-param", "mu=5"], "opinion model 'assimilation': parameter 'mu'"),
        (["--opinion", "none", "--opinion-param", "mu=0.1"], "unknown parameter 'mu'"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_run_row(small_db, args, fragment):
    before = _count(small_db, "SELECT count(*) FROM runs")
    result = run_simlab("run", "--turns", "2", *args, "--db", str(small_db))
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert _count(small_db, "SELECT count(*) FROM runs") == before


def test_bad_toml_is_refused(small_db, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("turns = = 3")
    result = run_simlab("run", "--config", str(config), "--db", str(small_db))
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_run_on_a_database_without_agents_is_refused(tmp_path):
    empty = tmp_path / "empty.db"
    assert run_simlab("db", "upgrade", "--db", str(empty)).returncode == 0
    result = run_simlab("run", "--turns", "1", "--db", str(empty))
    assert result.returncode == 2 and "no agents" in result.stderr
    assert _count(empty, "SELECT count(*) FROM runs") == 0


@pytest.mark.parametrize(
    ("command", "registry"),
    [("feeds", FEEDS), ("policies", POLICIES), ("opinions", OPINIONS), ("metrics", METRICS)],
)
def test_listings_show_every_registered_entry_with_its_metadata(command, registry):
    listing = run_simlab(command)
    assert listing.returncode == 0, listing.stderr
    for entry in registry:
        assert (getattr(entry, "name", None) or entry.key) in listing.stdout
        label = getattr(entry, "axis_title", None) or getattr(entry, "label", None)
        assert label is None or label in listing.stdout
        assert all(key in listing.stdout for key in getattr(entry, "citations", ()))


def test_run_with_an_opinion_model_and_its_parameters(small_db):
    frozen = run_simlab("run", "--turns", "2", "--opinion", "none", "--db", str(small_db))
    assert frozen.returncode == 0, frozen.stderr
    frozen_id = frozen.stdout.strip().splitlines()[-1]
    moved = run_simlab("run", "--turns", "2", "--opinion-param", "mu=0.4", "--db", str(small_db))
    assert moved.returncode == 0, moved.stderr
    moved_id = moved.stdout.strip().splitlines()[-1]
    changed = (
        "SELECT count(*) FROM agent_leanings l JOIN agent a ON a.handle = l.agent_handle "
        "JOIN agent_traits t ON t.agent_id = a.agent_id "
        "WHERE l.run_id = ? AND l.turn_number = 1 AND l.leaning != t.leaning"
    )
    assert _count(small_db, changed, frozen_id) == 0
    assert _count(small_db, changed, moved_id) > 0
    config = load_run(make_engine(small_db), moved_id)[0]
    assert config.opinion.name == "assimilation" and config.opinion.params["mu"] == 0.4


def test_resume_after_kill_equals_an_uninterrupted_run(small_db, tmp_path):
    db = tmp_path / "kill.db"
    copy_database(small_db, db)
    with sqlite3.connect(db) as target:
        target.execute("DELETE FROM comparison_runs")
        for table in (
            "turn_metadata",
            "turn_metrics",
            "run_metrics",
            "likes",
            "comments",
            "follows",
            "feed_scores",
            "generated_feeds",
            "agent_leaning_changes",
            "run_configs",
            "run_failures",
            "runs",
        ):
            target.execute(f"DELETE FROM {table}")  # an empty run history; same population
    args = ["run", "--feed", "popularity", "--turns", "150", "--seed", "4", "--db", str(db)]
    process = subprocess.Popen(
        [sys.executable, "-m", "simlab", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            done = _count(db, "SELECT count(*) FROM turn_metadata")
        except sqlite3.OperationalError:
            done = 0
        if done >= 3:
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 3 <= done < 150, "the run was not killed mid-way"
    run_id = _count(db, "SELECT run_id FROM runs")
    assert _count(db, "SELECT status FROM runs") == "running"
    config, _, last_turn = load_run(make_engine(db), run_id)
    assert last_turn + 1 == _count(db, "SELECT count(DISTINCT turn_number) FROM turn_metadata")
    assert _count(db, "SELECT count(*) FROM generated_feeds WHERE turn_number > ?", last_turn) == 0

    result = run_simlab("resume", run_id, "--db", str(db))
    assert result.returncode == 0, result.stderr
    clean = simulation.run(config, db)
    assert _count(db, "SELECT status FROM runs WHERE run_id = ?", run_id) == "completed"
    assert _content(db, run_id) == _content(db, clean)
