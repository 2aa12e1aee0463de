"""Run lifecycle with real processes and signals: leases, stale runs, resume guards, rm, doctor."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import make_engine
from simlab.replay import load_run
from simlab.schema import metadata

from .conftest import REPO, copy_database, failing_turn, init_database, run_simlab
from .test_engine import _content


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    return init_database(tmp_path_factory.mktemp("life") / "pop.db", agents=80, posts=400, seed=5)


@pytest.fixture
def db(population, tmp_path) -> Path:
    return copy_database(population, tmp_path / "run.db")


def _one(db: Path, sql: str, *params):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchone()


def _start_run(db: Path, turns: int, *extra: str) -> subprocess.Popen:
    args = ["run", "--feed", "popularity", "--turns", str(turns), "--seed", "4", "--db", str(db)]
    return subprocess.Popen(
        [sys.executable, "-m", "simlab", *args, *extra],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


def _wait_for_turns(db: Path, process: subprocess.Popen, turns: int) -> int:
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            done = _one(db, "SELECT count(*) FROM turn_metadata")[0]
        except sqlite3.OperationalError:
            done = 0
        if done >= turns:
            break
        time.sleep(0.02)
    return done


def _status_in_listing(db: Path, run_id: str) -> str:
    listing = run_simlab("runs", "--db", str(db))
    assert listing.returncode == 0, listing.stderr
    line = next(line for line in listing.stdout.splitlines() if run_id in line)
    return line.split()[2]


def _error_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_resume_of_a_live_run_is_refused_and_the_run_still_completes(db):
    process = _start_run(db, 60)
    try:
        assert _wait_for_turns(db, process, 2) >= 2
        process.send_signal(signal.SIGSTOP)  # hold the writer mid-run, its lease still live
        run_id = _one(db, "SELECT run_id FROM runs")[0]
        assert _status_in_listing(db, run_id) == "running"
        refused = run_simlab("resume", run_id, "--db", str(db))
        assert "is being written by pid" in _error_line(refused)
        assert str(process.pid) in refused.stderr
    finally:
        process.send_signal(signal.SIGCONT)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert _one(db, "SELECT status FROM runs WHERE run_id = ?", run_id) == ("completed",)
    assert _one(db, "SELECT count(*) FROM turn_metadata WHERE run_id = ?", run_id) == (60,)
    assert _one(db, "SELECT count(*) FROM run_failures WHERE run_id = ?", run_id) == (0,)
    assert _status_in_listing(db, run_id) == "completed"
    lease = _one(db, "SELECT pid, released_at FROM run_lifecycle WHERE run_id = ?", run_id)
    assert lease[0] == process.pid and lease[1] is not None


def test_killed_run_is_stale_and_resume_continues_it_exactly(db):
    process = _start_run(db, 150)
    done = _wait_for_turns(db, process, 3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 3 <= done < 150, "the run was not killed mid-way"
    run_id = _one(db, "SELECT run_id FROM runs")[0]
    assert _one(db, "SELECT status FROM runs")[0] == "running"
    assert _status_in_listing(db, run_id) == "stale"
    doctor = run_simlab("doctor", "--db", str(db))
    assert doctor.returncode == 0, doctor.stderr
    assert "stale runs" in doctor.stdout and run_id in doctor.stdout

    resumed = run_simlab("resume", run_id, "--db", str(db))
    assert resumed.returncode == 0, resumed.stderr
    assert _status_in_listing(db, run_id) == "completed"
    config, _, _ = load_run(make_engine(db), run_id)
    clean = simulation.run(config, db)
    assert _content(db, run_id) == _content(db, clean)


def test_writer_truncates_the_wal_at_the_end_of_a_run(db):
    result = run_simlab("run", "--turns", "5", "--db", str(db))
    assert result.returncode == 0, result.stderr
    wal = Path(f"{db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def _fail_midway(db: Path, monkeypatch) -> str:
    """A run whose writer raised at turn 2: status failed, lease released."""
    with failing_turn(monkeypatch, 2):
        with pytest.raises(RuntimeError):
            simulation.run(RunConfig(seed=1, turns=5), db, run_id="broken")
    return "broken"


def test_resume_refuses_a_changed_population_and_continues_a_failed_run(db, tmp_path, monkeypatch):
    run_id = _fail_midway(db, monkeypatch)
    assert _status_in_listing(db, run_id) == "failed"
    changed = copy_database(db, tmp_path / "changed.db")
    _write(changed, "UPDATE agent_traits SET activity_rate = activity_rate / 2")
    before = _sha(changed)
    refused = run_simlab("resume", run_id, "--db", str(changed))
    assert "population changed" in _error_line(refused)
    assert _sha(changed) == before

    resumed = run_simlab("resume", run_id, "--db", str(db))
    assert resumed.returncode == 0, resumed.stderr
    assert _one(db, "SELECT status FROM runs WHERE run_id = ?", run_id) == ("completed",)


def _write(db: Path, sql: str) -> None:
    """Run ``sql`` and close the connection (which folds the WAL back into the file)."""
    connection = sqlite3.connect(db)
    with connection:
        connection.execute(sql)
    connection.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows_of(db: Path, run_id: str) -> dict[str, int]:
    counts = {}
    with sqlite3.connect(db) as connection:
        for table in metadata.sorted_tables:
            if "run_id" in table.columns:
                counts[table.name] = connection.execute(
                    f"SELECT count(*) FROM {table.name} WHERE run_id = ?", (run_id,)
                ).fetchone()[0]
    return counts


def test_rm_deletes_runs_and_comparisons_with_all_their_rows(db):
    first = run_simlab("run", "--turns", "3", "--db", str(db)).stdout.split()[-1]
    second = run_simlab("run", "--turns", "3", "--seed", "9", "--db", str(db)).stdout.split()[-1]
    assert all(_rows_of(db, first)[t] > 0 for t in ("runs", "likes", "generated_feeds"))

    unknown = run_simlab("rm", first, "nope", "--db", str(db))
    assert "no run 'nope'" in _error_line(unknown)
    assert _rows_of(db, first)["runs"] == 1  # all or nothing

    removed = run_simlab("rm", first, "--db", str(db))
    assert removed.returncode == 0, removed.stderr
    assert set(_rows_of(db, first).values()) == {0}
    assert _rows_of(db, second)["runs"] == 1 and _rows_of(db, second)["likes"] > 0

    compared = run_simlab(
        "compare", "--feeds", "chronological,random", "--turns", "2", "--replicates", "1",
        "--jobs", "1", "--db", str(db),
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    comparison = compared.stdout.split("comparison id:")[-1].split()[0]
    members = [r for (r,) in _all(db, "SELECT run_id FROM comparison_runs")]
    _write(db, "INSERT INTO comparisons VALUES ('empty1', '{}', '2026-01-01T00:00:00+00:00')")
    doctor = run_simlab("doctor", "--db", str(db))
    assert "empty comparisons: empty1" in doctor.stdout

    assert run_simlab("rm", "--comparison", comparison, "--db", str(db)).returncode == 0
    assert all(set(_rows_of(db, r).values()) == {0} for r in members)
    assert _one(db, "SELECT count(*) FROM comparisons WHERE comparison_id = ?", comparison) == (0,)
    assert run_simlab("rm", "--comparison", "empty1", "--db", str(db)).returncode == 0
    assert _one(db, "SELECT count(*) FROM comparisons") == (0,)
    assert _rows_of(db, second)["runs"] == 1


def _all(db: Path, sql: str):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql).fetchall()


def test_rm_refuses_a_live_run(db):
    process = _start_run(db, 60)
    try:
        assert _wait_for_turns(db, process, 1) >= 1
        process.send_signal(signal.SIGSTOP)
        run_id = _one(db, "SELECT run_id FROM runs")[0]
        refused = run_simlab("rm", run_id, "--db", str(db))
        assert "still being written" in _error_line(refused)
    finally:
        process.send_signal(signal.SIGCONT)
    process.communicate(timeout=300)
    assert process.returncode == 0
    assert _one(db, "SELECT status FROM runs WHERE run_id = ?", run_id) == ("completed",)


def _lease(host: str, expires_in_s: float, pid: int | None = None, released: bool = False):
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    moment = datetime.now(UTC) + timedelta(seconds=expires_in_s)
    return SimpleNamespace(
        pid=pid or os.getpid(),
        host=host,
        lease_expires_at=moment.isoformat(),
        released_at="2026-01-01T00:00:00+00:00" if released else None,
    )


def test_lease_states_across_hosts_expiry_and_dead_writers():
    import socket

    from simlab.lifecycle import state

    here = socket.gethostname()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # reaped: its pid names no process now
    assert state("running", _lease(here, 60)) == "running"  # this very process
    assert state("running", _lease(here, 60, pid=dead.pid)) == "stale"
    assert state("running", _lease(here, -1)) == "stale"  # expired
    assert state("running", _lease("elsewhere", 60, pid=dead.pid)) == "running"  # cannot check
    assert state("running", _lease("elsewhere", -1)) == "stale"
    assert state("running", _lease(here, 60, released=True)) == "stale"
    assert state("running", None) == "stale"  # a run from before leases existed
    assert state("completed", None) == "completed" and state("failed", None) == "failed"


def test_a_writer_that_exited_unreaped_is_stale():
    """A zombie (exited, never waited for: a killed worker whose parent died too) writes nothing."""
    import socket

    from simlab.lifecycle import state

    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while "\nState:\tZ" not in Path(f"/proc/{zombie.pid}/status").read_text():
        assert time.monotonic() < deadline, "the child never exited"
        time.sleep(0.01)
    os.kill(zombie.pid, 0)  # the pid still answers kill(pid, 0) ...
    assert state("running", _lease(socket.gethostname(), 60, pid=zombie.pid)) == "stale"  # ... yet
    zombie.wait()


def test_two_resumes_of_a_stale_run_at_once_one_wins(db):
    process = _start_run(db, 150)
    done = _wait_for_turns(db, process, 3)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert 3 <= done < 150
    run_id = _one(db, "SELECT run_id FROM runs")[0]
    command = [sys.executable, "-m", "simlab", "resume", run_id, "--db", str(db)]
    racers = [
        subprocess.Popen(
            command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    results = [(r, *r.communicate(timeout=300)) for r in racers]
    codes = sorted(r.returncode for r, _, _ in results)
    assert codes == [0, 2], [err for _, _, err in results]
    loser = next(err for r, _, err in results if r.returncode == 2)
    assert len(loser.strip().splitlines()) == 1 and "Traceback" not in loser
    assert _one(db, "SELECT status FROM runs WHERE run_id = ?", run_id) == ("completed",)
    assert _one(db, "SELECT count(DISTINCT turn_number) FROM turn_metadata") == (150,)
