"""The Ray executor on a private local Ray (``ray.init(num_cpus=2)``): the same rows as local.

Ray start-up is slow on two cores, so this module starts one Ray and keeps its
tests few and small. The cancel test comes first: its command line starts a
Ray of its own, before the module's Ray is up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simlab.compare import CompareConfig, compare
from simlab.executors import ExecutorChoice
from simlab.sweep import sweep
from simlab.sweep.config import parse

from .conftest import REPO, copy_database, init_database, run_simlab
from .test_compare_cancel import _alive, _children, _query, _states
from .test_engine import _content

RAY = ExecutorChoice("ray")


@pytest.fixture(scope="module")
def base_db(tmp_path_factory):
    return init_database(tmp_path_factory.mktemp("ray") / "base.db", agents=30, posts=150, seed=4)


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _wait_for_a_running_cell(db: Path, process: subprocess.Popen, turns: int) -> None:
    """Block until a cell is running and its shard has ``turns`` turns: a task inside the engine."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        shards = [
            Path(row[0])
            for row in _query(db, "SELECT shard FROM sweep_cells WHERE status = 'running'")
        ]
        for shard in shards:
            if (
                shard.exists()
                and _query(shard, "SELECT count(*) FROM turn_metadata")[0][0] >= turns
            ):
                return
        time.sleep(0.2)
    raise AssertionError("no Ray cell reached its second turn")


def test_sigterm_stops_a_ray_sweep_marks_its_runs_and_leaves_no_ray_process(base_db, tmp_path):
    db = copy_database(base_db, tmp_path / "sweep.db")
    config = tmp_path / "sweep.toml"
    config.write_text(
        'seed = 3\nreplicates = 2\n[run]\nturns = 300\n[grid]\nfeeds = ["chronological", "popularity"]\n'
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "simlab", "sweep", str(config), "--executor", "ray", "--jobs", "2",
         "--db", str(db)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    _wait_for_a_running_cell(db, process, turns=2)
    ray_processes = _descendants(process.pid)
    assert ray_processes, "a private Ray runs under the sweep"
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    ((sweep_id,),) = _query(db, "SELECT sweep_id FROM sweeps")
    (line,) = [line for line in err.splitlines() if line.startswith("interrupted:")]
    assert f"simlab sweep --resume {sweep_id}" in line

    cells = _query(db, "SELECT status, error, shard FROM sweep_cells")
    assert "running" not in {status for status, _, _ in cells}
    interrupted = [shard for status, error, shard in cells if error == "interrupted"]
    assert interrupted and all(
        status in ("completed", "failed", "pending") for status, _, _ in cells
    )
    runs = {}  # a cell cancelled before its task began has no shard, or no run in it
    for shard in map(Path, interrupted):
        runs.update(
            {run: (shard, state) for run, state in _states(shard).items()} if shard.exists() else {}
        )
    assert runs and {state for _, state in runs.values()} == {"failed"}  # none claims to run
    for shard, _ in runs.values():
        (error,) = _query(shard, "SELECT error FROM run_failures")[0]
        assert error.startswith("interrupted")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(_alive(pid) for pid in ray_processes):
        time.sleep(0.2)
    assert not [pid for pid in ray_processes if _alive(pid)], "Ray processes outlived the sweep"

    resumed = run_simlab("sweep", "--resume", sweep_id, "--db", str(db))
    assert resumed.returncode == 0, resumed.stderr
    assert "4 of 4 cells completed" in resumed.stdout
    assert _query(db, "SELECT DISTINCT status FROM runs") == [("completed",)]


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")  # see simlab.ray_tasks
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


def test_a_ray_sweep_of_8_cells_has_the_local_executors_rows(local_ray, base_db, tmp_path):
    config = parse(
        {
            "seed": 11,
            "replicates": 2,
            "run": {"turns": 4},
            "grid": {
                "feeds": ["chronological", "popularity"],
                "opinion_params": {"epsilon": [0.2, 0.5]},
            },
        },
        "test",
    )
    local_db = copy_database(base_db, tmp_path / "local.db")
    ray_db = copy_database(base_db, tmp_path / "ray.db")
    local = sweep(config, local_db, jobs=2)
    remote = sweep(config, ray_db, jobs=2, executor=RAY)
    assert local.failures == remote.failures == {}
    assert len(remote.run_ids) == 8 and len(remote.merged) == 8
    assert local_ray.is_initialized()  # a Ray the caller started stays up
    for cell, run_id in remote.run_ids.items():
        rows = _content(ray_db, run_id)
        assert rows["generated_feeds"] and rows["turn_metrics"]
        assert rows == _content(local_db, local.run_ids[cell]), cell


def test_compare_on_ray_has_the_local_rows(local_ray, base_db, tmp_path):
    spec = CompareConfig(feeds=["chronological", "popularity"], replicates=1, run={"turns": 3})
    local_db = copy_database(base_db, tmp_path / "local.db")
    ray_db = copy_database(base_db, tmp_path / "ray.db")
    local = compare(spec, local_db, jobs=2)
    remote = compare(spec, ray_db, jobs=2, executor=RAY)
    assert remote.failures == {} and set(remote.run_ids) == set(local.run_ids)
    for key, run_id in remote.run_ids.items():
        assert _content(ray_db, run_id) == _content(local_db, local.run_ids[key]), key


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--executor", "spark"], "--executor: expected one of local, ray, got 'spark'"),
        (["--address", "auto"], "--address: only with --executor ray"),
    ],
)
def test_compare_refuses_a_bad_executor(base_db, args, message):
    result = run_simlab("compare", "--feeds", "random", *args, "--db", str(base_db))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: {message}"
