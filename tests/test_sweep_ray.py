"""The Ray executor on a private local Ray (``ray.init(num_cpus=2)``): the same rows as local.

Ray start-up is slow on two cores, so this module starts one Ray and keeps its
tests few and small.
"""

from __future__ import annotations

import os

import pytest

from simlab.compare import CompareConfig, compare
from simlab.executors import ExecutorChoice
from simlab.sweep import sweep
from simlab.sweep.config import parse

from .conftest import copy_database, init_database, run_simlab
from .test_engine import _content

RAY = ExecutorChoice("ray")


@pytest.fixture(scope="module")
def base_db(tmp_path_factory):
    return init_database(tmp_path_factory.mktemp("ray") / "base.db", agents=30, posts=150, seed=4)


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
