"""Cancelling comparisons with real processes and signals, and finishing them with --resume."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from simlab import columnar, lifecycle
from simlab.compare import CompareConfig, compare
from simlab.db import make_engine

from .conftest import REPO, copy_database, init_database, run_simlab
from .test_engine import _content

ARMS = ["chronological", "popularity"]


@pytest.fixture(scope="module")
def base_db(tmp_path_factory):
    return init_database(
        tmp_path_factory.mktemp("cancel") / "base.db", agents=40, posts=200, seed=2
    )


def _start(db: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simlab", "compare", "--db", str(db), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def _query(db: Path, sql: str, *params):
    with closing(sqlite3.connect(db, timeout=30)) as connection:
        return connection.execute(sql, params).fetchall()


def _wait_for_turns(db: Path, process: subprocess.Popen, turns: int, limit: float = 120) -> None:
    """Block until some run of the comparison has written ``turns`` turns."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        try:
            written = _query(db, "SELECT count(*) FROM turn_metadata")[0][0]
        except sqlite3.OperationalError:
            written = 0
        if written >= turns:
            return
        time.sleep(0.05)
    raise AssertionError("the comparison wrote no turns")


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited


def _states(db: Path, comparison_id: str | None = None) -> dict[str, str]:
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            return lifecycle.run_states(connection)
    finally:
        engine.dispose()


def test_kill_9_of_the_parent_leaves_no_worker(base_db, tmp_path):
    db = copy_database(base_db, tmp_path / "kill.db")
    process = _start(db, "--feeds", ",".join(ARMS), "--turns", "5000", "--replicates", "3",
                     "--jobs", "2")  # fmt: skip
    _wait_for_turns(db, process, 2)
    workers = _children(process.pid)
    assert workers, "compare started no worker process"
    process.kill()  # SIGKILL: the parent gets no chance to clean up
    process.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)], "workers outlived their parent by 5 s"
    states = _states(db)
    assert states and "running" not in states.values()  # released or stale, never "running"
    (started,) = _query(db, "SELECT count(*) FROM comparison_runs")[0]
    assert started <= 2 + 2  # at most the in-flight cells and one handed-out cell per worker


def test_sigint_exits_130_without_starting_queued_cells_and_resume_completes(base_db, tmp_path):
    db = copy_database(base_db, tmp_path / "sigint.db")
    args = ["--feeds", ",".join(ARMS), "--turns", "40", "--replicates", "2", "--seed", "4"]
    process = _start(db, *args, "--jobs", "1")
    _wait_for_turns(db, process, 3)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("interrupted:")]
    assert len(lines) == 1, err
    ((comparison_id,),) = _query(db, "SELECT comparison_id FROM comparisons")
    assert f"--resume {comparison_id}" in lines[0]
    runs = _query(db, "SELECT run_id FROM comparison_runs WHERE comparison_id = ?", comparison_id)
    assert len(runs) == 1  # jobs = 1: the one in flight; the three queued cells never started
    ((run_id,),) = runs
    assert _states(db)[run_id] == "failed"
    ((error,),) = _query(db, "SELECT error FROM run_failures WHERE run_id = ?", run_id)
    assert error.startswith("interrupted")
    (released,) = _query(db, "SELECT released_at FROM run_lifecycle WHERE run_id = ?", run_id)[0]
    assert released is not None
    assert not columnar.run_dir(db, run_id).exists()  # its streamed copy's files were deleted

    resumed = run_simlab("compare", "--resume", comparison_id, "--jobs", "2", "--db", str(db))
    assert resumed.returncode == 0, resumed.stderr
    assert f"comparison id: {comparison_id}" in resumed.stdout
    again = run_simlab("compare", "--resume", comparison_id, "--db", str(db))
    assert again.returncode == 0, again.stderr  # nothing left to run

    spec = CompareConfig(feeds=ARMS, replicates=2, seed=4, run={"turns": 40})
    reference = compare(spec, db, jobs=2)
    cells = dict(
        ((arm, rep), run)
        for arm, rep, run in _query(
            db, "SELECT arm, replicate, run_id FROM comparison_runs WHERE comparison_id = ?",
            comparison_id,
        )
    )  # fmt: skip
    assert set(cells) == set(reference.run_ids)
    assert set(_states(db)[r] for r in cells.values()) == {"completed"}
    for key, run in cells.items():
        assert _content(db, run) == _content(db, reference.run_ids[key]), key


def test_an_exception_from_on_progress_cancels_like_ctrl_c(base_db, tmp_path):
    db = copy_database(base_db, tmp_path / "stop.db")
    spec = CompareConfig(feeds=ARMS, replicates=2, run={"turns": 30})

    class Stop(Exception):
        pass

    def stop_at_turn_2(label, done, total):
        if done >= 2:
            raise Stop  # what the notebook's stop button does inside compare's thread

    with pytest.raises(Stop):
        compare(spec, db, jobs=1, on_progress=stop_at_turn_2)
    runs = _query(db, "SELECT run_id FROM comparison_runs")
    assert len(runs) == 1
    assert _states(db)[runs[0][0]] == "failed"


def test_resume_refuses_an_unknown_comparison(base_db):
    result = run_simlab("compare", "--resume", "nope", "--db", str(base_db))
    assert result.returncode == 2
    assert "no comparison 'nope'" in result.stderr.strip().splitlines()[-1]
