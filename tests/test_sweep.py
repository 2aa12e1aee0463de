"""Sweeps on real SQLite files and processes: grid, bad configs, shards and merge, retries, resume."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from simlab.compare import CompareConfig
from simlab.config import RunConfig
from simlab.sweep import SweepConfig, resume_sweep, sweep
from simlab.sweep.config import parse

from .conftest import REPO, copy_database, init_database, run_simlab
from .test_compare_cancel import _alive, _children, _query
from .test_engine import CONTENT, _content, source

GRID = """
seed = 5
replicates = 2
[run]
turns = {turns}
[grid]
feeds = ["chronological", "popularity"]
[grid.opinion_params]
epsilon = [0.2, 0.4]
"""


@pytest.fixture(scope="module")
def base_db(tmp_path_factory):
    return init_database(tmp_path_factory.mktemp("sweep") / "base.db", agents=40, posts=200, seed=2)


@pytest.fixture
def db(base_db, tmp_path):
    return copy_database(base_db, tmp_path / "sweep.db")


def _write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _cells(db: Path, sweep_id: str) -> dict[int, tuple]:
    rows = _query(
        db,
        "SELECT cell, run_id, status, attempts, error, shard FROM sweep_cells WHERE sweep_id = ?",
        sweep_id,
    )
    return {row[0]: row[1:] for row in rows}


def _sweep_id(db: Path) -> str:
    ((sweep_id,),) = _query(db, "SELECT sweep_id FROM sweeps")
    return sweep_id


def test_grid_is_the_full_product_with_the_comparison_seeds():
    config = parse(
        {
            "seed": 9,
            "replicates": 2,
            "populations": 1,
            "run": {"turns": 3},
            "grid": {
                "arms": ["fast=popularity:half_life_hours=2", "chronological=chronological"],
                "feed_params": {"fast": {"like_weight": [1.0, 3.0]}},
                "opinion_params": {"epsilon": [0.1, 0.3, 0.5]},
            },
        },
        "test",
    )
    cells = config.cells()
    assert len(cells) == config.size() == (2 + 1) * 3 * 2
    assert [c.index for c in cells] == list(range(len(cells)))
    fast = [c for c in cells if c.settings["arm"] == "fast"]
    assert {(c.run.feed.params["like_weight"], c.run.opinion.params["epsilon"]) for c in fast} == {
        (w, e) for w in (1.0, 3.0) for e in (0.1, 0.3, 0.5)
    }
    assert all(c.run.feed.params["half_life_hours"] == 2 for c in fast)
    # Seeds: the comparison's paired replicate seeds, the same at every grid point.
    reference = CompareConfig(feeds=["chronological"], replicates=2, seed=9)
    seeds = {rep: run.seed for _, rep, run in reference.run_configs()}
    assert {(c.settings["replicate"], c.run.seed) for c in cells} == set(seeds.items())


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('replicats = 2\n[grid]\nfeeds = ["random"]', "'replicats'; allowed: seed, replicates"),
        ("[grid]\nfeeds = []", "grid.feeds"),
        ('[grid]\nfeeds = ["nope"]', "unknown feed 'nope'; allowed:"),
        ('[grid]\nfeeds = ["random"]\narms = ["a=random"]', "grid: give feeds"),
        ('[grid]\nfeeds = ["random"]\n[grid.feed_params.popularity]\nx = [1]', "'popularity'"),
        ('[grid]\nfeeds = ["random"]\n[grid.opinion_params]\nepsilon = []', "epsilon"),
        ('[grid]\nfeeds = ["random"]\n[grid.opinion_params]\nepsilonn = [1]', "'epsilonn'"),
        ('replicates = 0\n[grid]\nfeeds = ["random"]', "replicates"),
        ('[grid]\nfeeds = ["random"]\ncolour = 1', "'grid.colour'; allowed: feeds, arms"),
        ('[run]\nturns = -1\n[grid]\nfeeds = ["random"]', "turns"),
    ],
)
def test_bad_config_is_one_line_exit_2_and_writes_nothing(db, tmp_path, text, named):
    before = _query(db, "SELECT count(*) FROM runs")
    result = run_simlab("sweep", str(_write(tmp_path, text)), "--db", str(db))
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert named in lines[0]
    assert "Traceback" not in result.stderr
    assert _query(db, "SELECT count(*) FROM sweeps") == [(0,)]
    assert _query(db, "SELECT count(*) FROM runs") == before
    assert not (tmp_path / "sweep.shards").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["--executor", "dask"],
        ["--executor", "local", "--address", "auto"],
        ["--retries", "-1"],
    ],
)
def test_bad_options_exit_2(db, tmp_path, args):
    config = _write(tmp_path, GRID.format(turns=2))
    result = run_simlab("sweep", str(config), *args, "--db", str(db))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --")
    assert _query(db, "SELECT count(*) FROM sweeps") == [(0,)]


def test_sweep_writes_shards_merges_them_and_merging_again_adds_nothing(db, tmp_path):
    result = run_simlab("sweep", str(_write(tmp_path, GRID.format(turns=3))), "--db", str(db))
    assert result.returncode == 0, result.stderr
    sweep_id = _sweep_id(db)
    cells = _cells(db, sweep_id)
    assert len(cells) == 8 and {c[1] for c in cells.values()} == {"completed"}
    assert "merged 8 shards" in result.stdout
    stored = SweepConfig.model_validate_json(
        _query(db, "SELECT config_json FROM sweeps WHERE sweep_id = ?", sweep_id)[0][0]
    )
    expected = {cell.index: cell.run for cell in stored.cells()}
    for index, (run_id, _, attempts, _, shard) in cells.items():
        assert attempts == 1
        (status,) = _query(db, "SELECT status FROM runs WHERE run_id = ?", run_id)[0]
        assert status == "completed"
        (config_json,) = _query(db, "SELECT config_json FROM run_configs WHERE run_id = ?", run_id)[
            0
        ]
        assert RunConfig.model_validate(json.loads(config_json)) == expected[index]
        assert _content(db, run_id) == _content(Path(shard), run_id)
        assert _content(db, run_id)["generated_feeds"]
    counts = _query(
        db, "SELECT (SELECT count(*) FROM generated_feeds), (SELECT count(*) FROM runs)"
    )

    shards = Path(cells[0][4]).parent
    again = run_simlab("merge", str(shards), "--db", str(db))
    assert again.returncode == 0, again.stderr
    assert "merged 8 shards: 0 rows added" in again.stdout
    assert (
        _query(db, "SELECT (SELECT count(*) FROM generated_feeds), (SELECT count(*) FROM runs)")
        == counts
    )

    # A shard whose run id clashes with a merged run of other content is refused whole.
    clash = copy_database(Path(cells[0][4]), tmp_path / "clash.db")
    with closing(sqlite3.connect(clash)) as connection:
        connection.execute(
            "UPDATE runs SET feed_algorithm = 'random' WHERE run_id = ?", (cells[0][0],)
        )
        connection.commit()
    refused = run_simlab("merge", str(clash), "--db", str(db))
    assert refused.returncode == 2, refused.stdout
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "clash.db" in lines[0] and "runs row" in lines[0], refused.stderr
    assert (
        _query(db, "SELECT (SELECT count(*) FROM generated_feeds), (SELECT count(*) FROM runs)")
        == counts
    )


def test_a_failing_cell_is_retried_then_reported_and_resume_finishes_it(db, tmp_path):
    config = parse(
        {"seed": 1, "run": {"turns": 2}, "grid": {"feeds": ["chronological", "popularity"]}},
        "test",
    )
    blocked = tmp_path / "shards" / "flaky" / "cell-00001.db"
    blocked.mkdir(
        parents=True
    )  # a directory where cell 1's shard file must go: every attempt fails
    result = sweep(config, db, jobs=2, retries=2, shard_dir=tmp_path / "shards", sweep_id="flaky")
    assert list(result.failures) == [1]
    assert len(result.failures[1]) == 3  # the first attempt and two retries
    assert all("is a directory" in error for error in result.failures[1])
    cells = _cells(db, "flaky")
    assert cells[0][1:3] == ("completed", 1)
    assert cells[1][1:3] == ("failed", 3) and "is a directory" in cells[1][3]
    assert _query(db, "SELECT count(*) FROM runs WHERE run_id = ?", cells[0][0]) == [(1,)]

    reported = run_simlab("sweep", "--resume", "flaky", "--retries", "1", "--db", str(db))
    assert reported.returncode == 1, reported.stderr
    assert "failed cells of sweep flaky" in reported.stdout
    assert "popularity pop 0 rep 0" in reported.stdout and "is a directory" in reported.stdout
    assert "1 of 2 cells completed" in reported.stdout
    assert _cells(db, "flaky")[1][1:3] == ("failed", 5)

    blocked.rmdir()
    finished = resume_sweep("flaky", db, jobs=1)
    assert finished.failures == {}
    assert _cells(db, "flaky")[1][1:3] == ("completed", 6)
    assert _query(db, "SELECT status FROM runs WHERE run_id = ?", cells[1][0]) == [("completed",)]


def _start(config: Path, db: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simlab", "sweep", str(config), *args, "--db", str(db)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(db: Path, process: subprocess.Popen, wanted: set[str], limit: float = 300) -> None:
    """Block until the sweep's cells are in every status of ``wanted`` at once."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            states = {row[0] for row in _query(db, "SELECT status FROM sweep_cells")}
        except sqlite3.OperationalError:
            states = set()
        if wanted <= states:
            return
        time.sleep(0.1)
    raise AssertionError(f"the sweep never had cells {wanted}")


def test_sigint_exits_130_marks_the_running_cell_and_starts_no_other(db, tmp_path):
    # Cells long enough to be running still when the --resume below checks (it is interrupted).
    process = _start(_write(tmp_path, GRID.format(turns=3000)), db, "--jobs", "1")
    _wait_for(db, process, {"running"})
    (shard,) = [Path(c[4]) for c in _cells(db, _sweep_id(db)).values() if c[1] == "running"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # until the running cell has written two turns
        assert process.poll() is None, process.communicate()
        if shard.exists() and _query(shard, "SELECT count(*) FROM turn_metadata")[0][0] >= 2:
            break
        time.sleep(0.1)
    live = run_simlab("sweep", "--resume", _sweep_id(db), "--db", str(db))
    assert live.returncode == 2, live.stdout + live.stderr
    assert "is still running" in live.stderr
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    sweep_id = _sweep_id(db)
    (line,) = [line for line in err.splitlines() if line.startswith("interrupted:")]
    assert f"simlab sweep --resume {sweep_id}" in line
    cells = _cells(db, sweep_id)
    statuses = [c[1] for c in cells.values()]
    assert statuses.count("failed") == 1 and set(statuses) <= {"completed", "failed", "pending"}
    assert statuses.count("pending") >= 5  # jobs = 1: cells long enough for the --resume check
    started = {c[4] for c in cells.values() if c[1] != "pending"}
    assert {p for p in (tmp_path / "sweep.shards" / sweep_id).glob("cell-*.db")} == {
        Path(p) for p in started
    }  # a queued cell never started: no shard of its own
    (interrupted,) = [c for c in cells.values() if c[1] == "failed"]
    assert interrupted[3] == "interrupted"
    (error,) = _query(Path(interrupted[4]), "SELECT error FROM run_failures")[0]
    assert error.startswith("interrupted")


def test_kill_9_then_resume_gives_the_rows_of_an_uninterrupted_sweep(db, base_db, tmp_path):
    config = _write(tmp_path, GRID.format(turns=25))
    process = _start(config, db, "--jobs", "2")
    _wait_for(db, process, {"completed", "running"})
    workers = _children(process.pid)
    process.kill()
    process.communicate(timeout=60)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "workers outlived the killed sweep"
    sweep_id = _sweep_id(db)
    assert {row[1] for row in _cells(db, sweep_id).values()} != {"completed"}

    resumed = run_simlab("sweep", "--resume", sweep_id, "--db", str(db))
    assert resumed.returncode == 0, resumed.stderr
    assert "8 of 8 cells completed" in resumed.stdout
    cells = _cells(db, sweep_id)

    reference_db = copy_database(base_db, tmp_path / "reference.db")
    reference = sweep(SweepConfig.model_validate_json(
        _query(db, "SELECT config_json FROM sweeps")[0][0]), reference_db, jobs=2)  # fmt: skip
    for index, (run_id, status, *_) in cells.items():
        assert status == "completed"
        assert _content(db, run_id) == _content(reference_db, reference.run_ids[index]), index


def _pg_content(url: str, run_id: str) -> dict:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: [
                    tuple(row)
                    for row in connection.execute(
                        text(
                            f"SELECT {columns} FROM {source(table)} WHERE run_id = :r ORDER BY "
                            + ", ".join(str(i + 1) for i in range(columns.count(",") + 1))
                        ),
                        {"r": run_id},
                    )
                ]
                for table, columns in CONTENT.items()
            }
    finally:
        engine.dispose()


def test_a_sweep_on_postgresql_writes_it_directly_with_the_sqlite_rows(pg_url, db, tmp_path):
    from simlab.db import migrate

    migrate(pg_url)
    init = run_simlab("init", "--agents", "40", "--posts", "200", "--seed", "2", "--db", pg_url)
    assert init.returncode == 0, init.stderr
    config = parse(
        {"seed": 3, "run": {"turns": 3}, "grid": {"feeds": ["chronological", "popularity"]},
         "replicates": 2},
        "test",
    )  # fmt: skip
    on_pg = sweep(config, pg_url, jobs=2)
    on_sqlite = sweep(config, db, jobs=2)
    assert on_pg.failures == {} and on_pg.merged == []  # no shards: cells wrote PostgreSQL
    for cell, run_id in on_pg.run_ids.items():
        rows = _pg_content(pg_url, run_id)
        assert rows["generated_feeds"]
        expected = _content(db, on_sqlite.run_ids[cell])
        assert {t: [tuple(r) for r in v] for t, v in expected.items()} == rows, cell
