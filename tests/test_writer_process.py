"""The writer process: the same rows as the writer thread; failures, kills and cancels stay clean.

Runs are real (SQLite files, forked children, real signals). Where a test
needs one writer or the other, it says so through ``writer_process.usable``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from simlab import engine as simulation
from simlab import writer_process
from simlab.config import RunConfig
from simlab.db import make_engine
from simlab.recorder import Recorder
from simlab.world import load_population

from .conftest import REPO, copy_database, failing_turn, synthetic_database
from .test_behaviour_lock import content_digest

CONFIG = {"seed": 7, "turns": 4, "posting": {"enabled": True}, "feed": {"name": "personalized"}}


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    return synthetic_database(tmp_path_factory.mktemp("writer") / "pop.db", 60, 300, seed=2)


@pytest.fixture
def db(population, tmp_path) -> Path:
    return copy_database(population, tmp_path / "simlab.db")


def _use_process(monkeypatch, used: bool) -> list[str]:
    """Make the engine pick the process writer (or the thread); return the writers made."""
    made: list[str] = []
    original = writer_process.ProcessTurnWriter.__init__

    def init(self, *args, **kwargs):
        made.append("process")
        original(self, *args, **kwargs)

    monkeypatch.setattr(writer_process, "usable", lambda *args, **kwargs: used)
    monkeypatch.setattr(writer_process.ProcessTurnWriter, "__init__", init)
    return made


def _all(db: Path, sql: str) -> list[tuple]:
    with closing(sqlite3.connect(db, timeout=30)) as connection:
        return connection.execute(sql).fetchall()


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _gone(pid: int, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return True
        if "State:\tZ" in status:  # exited, waiting to be reaped by its parent
            return True
        time.sleep(0.05)
    return False


def test_the_process_writes_exactly_the_rows_the_thread_writes(population, tmp_path, monkeypatch):
    digests = {}
    for used in (True, False):
        db = copy_database(population, tmp_path / f"{used}.db")
        made = _use_process(monkeypatch, used)
        run_id = simulation.run(RunConfig.model_validate(CONFIG), db)
        assert made == (["process"] if used else [])
        digests[used] = content_digest(db, run_id)
        assert _all(db, "SELECT status FROM runs") == [("completed",)]
    assert digests[True] == digests[False]
    assert multiprocessing.active_children() == []  # the child exited with the run


def test_progress_is_reported_for_every_turn_by_either_writer(population, tmp_path, monkeypatch):
    for used in (True, False):
        db = copy_database(population, tmp_path / f"{used}.db")
        _use_process(monkeypatch, used)
        seen: list[tuple[int, int]] = []
        simulation.run(
            RunConfig.model_validate(CONFIG), db, progress=lambda *a, s=seen: s.append(a)
        )
        turns = CONFIG["turns"]
        assert seen == [(t, turns) for t in range(1, turns + 1)], used


def test_a_failed_write_in_the_child_fails_the_run_at_that_turn(db, monkeypatch):
    made = _use_process(monkeypatch, True)
    with failing_turn(monkeypatch, 2), pytest.raises(RuntimeError, match="disk on fire"):
        simulation.run(RunConfig.model_validate(CONFIG), db, run_id="crashy")
    assert made == ["process"]
    assert _all(db, "SELECT status FROM runs") == [("failed",)]
    assert _all(db, "SELECT turn_number, error FROM run_failures") == [
        (2, "RuntimeError: disk on fire")
    ]
    assert _all(db, "SELECT DISTINCT turn_number FROM generated_feeds ORDER BY 1") == [(0,), (1,)]
    assert multiprocessing.active_children() == []


def test_it_is_used_only_by_the_main_thread_of_a_process_without_other_threads(db):
    engine = make_engine(db)
    try:
        with engine.connect() as connection:
            pop = load_population(connection)
        recorder = Recorder(engine, "r", pop, "rule_based")
        others = [t for t in threading.enumerate() if t is not threading.main_thread()]
        assert writer_process.usable(recorder, writes_own_rows=False) == (not others)
        assert not writer_process.usable(recorder, writes_own_rows=True)  # an LLM policy
        stop = threading.Event()
        helper = threading.Thread(target=stop.wait, name="someone-else")
        helper.start()
        try:
            assert not writer_process.usable(recorder, writes_own_rows=False)
        finally:
            stop.set()
            helper.join()
    finally:
        engine.dispose()


def _start_run(db: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "simlab", "run", "--turns", "100000", "--db", str(db)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while len(_all_safely(db)) < 3:
        assert process.poll() is None and time.monotonic() < deadline, "the run wrote no turns"
        time.sleep(0.05)
    return process


def _all_safely(db: Path) -> list[tuple]:
    try:
        return _all(db, "SELECT turn_number FROM turn_metadata")
    except sqlite3.OperationalError:
        return []


def _assert_whole_turns(db: Path) -> None:
    """Every turn with rows has its metadata, and the other way round: no half turn."""
    committed = _all(db, "SELECT turn_number FROM turn_metadata ORDER BY 1")
    assert _all(db, "SELECT DISTINCT turn_number FROM generated_feeds ORDER BY 1") == committed
    assert _all(db, "SELECT DISTINCT turn_number FROM agent_leaning_changes ORDER BY 1") == (
        committed
    )


def test_a_killed_engine_takes_its_writer_with_it(db):
    process = _start_run(db)
    (child,) = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert _gone(child), "the writer process outlived the engine"
    _assert_whole_turns(db)


def test_ctrl_c_lets_the_written_turns_finish_and_stops_both_processes(db):
    process = _start_run(db)
    (child,) = _children(process.pid)
    os.killpg(process.pid, signal.SIGINT)  # the terminal sends it to the whole group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert _gone(child)
    assert _all(db, "SELECT status FROM runs") == [("failed",)]
    ((turn, error),) = _all(db, "SELECT turn_number, error FROM run_failures")
    assert error.startswith("interrupted")
    assert turn == len(_all(db, "SELECT turn_number FROM turn_metadata"))  # the next turn
    _assert_whole_turns(db)
