"""The columnar copy streamed during a run equals the copy read back from SQLite.

Each run's streamed copy (kept at completion, :mod:`simlab.columnar_stream`)
is compared, table by table and with the manifest, against the copy
:func:`simlab.columnar.write_copy` makes by reading the same run's rows back
from the same real database file; analytics over either copy must agree.
"""

from __future__ import annotations

import logging
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simlab import analytics, columnar
from simlab import engine as simulation
from simlab.compare import CompareConfig, compare
from simlab.config import RunConfig
from simlab.db import make_engine
from simlab.turn_rows import COLUMNS

from .conftest import REPO, copy_database, init_database
from .test_columnar import _fail_midway, _frames

STREAMED = (*COLUMNS, "+feed_items")


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    return init_database(tmp_path_factory.mktemp("stream") / "pop.db", agents=50, posts=250, seed=5)


@pytest.fixture
def db(population, tmp_path) -> Path:
    return copy_database(population, tmp_path / "simlab.db")


def _run(db: Path, **config) -> str:
    engine = make_engine(db)
    try:
        return simulation.run(RunConfig(**config), engine)
    finally:
        engine.dispose()


def _files(db: Path, run_id: str) -> dict[str, pa.Table]:
    """Every file of the run's copy (hidden files included), read whole."""
    folder = columnar.run_dir(db, run_id)
    return {f.name: pq.read_table(f) for f in folder.iterdir() if f.suffix == ".parquet"}


def _sorted(table: pa.Table) -> pa.Table:
    """``table`` with its rows in one order (Parquet files keep no meaningful row order)."""
    plain = table.cast(
        pa.schema(
            (f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
            for f in table.schema
        )
    )
    return plain.sort_by([(name, "ascending") for name in plain.column_names])


def _reread(db: Path, run_id: str) -> tuple[dict, dict[str, pa.Table]]:
    """The manifest and files of the copy written by reading the run's rows back."""
    columnar.remove_copies(db, [run_id])
    manifest = columnar.write_copy(db, run_id)
    return manifest, _files(db, run_id)


def _assert_stream_equals_reread(db: Path, run_id: str, caplog) -> None:
    streamed = columnar.read_manifest(columnar.run_dir(db, run_id))
    files = _files(db, run_id)
    kept = {r.args[0] for r in caplog.records if r.getMessage().startswith("columnar: kept")}
    with_rows = {t for t in COLUMNS if streamed["tables"][t]["rows"]}
    assert kept == with_rows and "generated_feeds" in kept  # nothing of them was read back
    manifest, want = _reread(db, run_id)
    assert streamed == manifest
    assert files.keys() == want.keys()
    for name, table in want.items():
        got = files[name]
        assert got.schema == table.schema, name  # names and types, dictionaries included
        assert _sorted(got).equals(_sorted(table)), name


CONFIGS = {
    "chronological": {"feed": {"name": "chronological"}},
    "popularity, no posting": {"feed": {"name": "popularity"}, "posting": {"enabled": False}},
    "random": {"feed": {"name": "random"}},
    "in_network": {"feed": {"name": "in_network"}},
    "diverse": {"feed": {"name": "diverse"}},
    "bridging": {"feed": {"name": "bridging"}},
    "personalized, posting": {
        "feed": {"name": "personalized", "size": 7, "candidate_pool": 40},
        "posting": {"enabled": True},
    },
}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_the_streamed_copy_equals_the_copy_read_back(db, config, caplog):
    caplog.set_level(logging.DEBUG, logger="simlab.columnar")
    run_id = _run(db, seed=3, turns=4, **config)
    _assert_stream_equals_reread(db, run_id, caplog)


def test_a_run_with_comments_and_follows_streams_them(db, caplog):
    caplog.set_level(logging.DEBUG, logger="simlab.columnar")
    run_id = _run(db, seed=8, turns=6, feed={"name": "popularity"}, posting={"enabled": True})
    manifest = columnar.read_manifest(columnar.run_dir(db, run_id))
    for table in ("likes", "comments", "follows", "agent_posts"):
        assert manifest["tables"][table]["rows"] > 0, table
    _assert_stream_equals_reread(db, run_id, caplog)


def test_analytics_over_the_streamed_copy_equal_the_copy_read_back(db):
    first = _run(db, seed=1, turns=4, feed={"name": "popularity"}, posting={"enabled": True})
    second = _run(db, seed=2, turns=3, feed={"name": "chronological"})
    with analytics.connect(db) as con:
        assert analytics.access_method(con) == "columnar"
        streamed = {run: _frames(con, run) for run in (first, second)}
    columnar.remove_copies(db, [first, second])
    with analytics.connect(db) as con:  # copies written again, from the database
        reread = {run: _frames(con, run) for run in (first, second)}
    for run, frames in reread.items():
        for name, frame in frames.items():
            pd.testing.assert_frame_equal(streamed[run][name], frame, obj=name)


def test_every_arm_of_a_comparison_streams_an_equal_copy(db, caplog):
    caplog.set_level(logging.DEBUG, logger="simlab.columnar")
    spec = CompareConfig(
        feeds=["chronological", "popularity"], replicates=2, seed=4, run={"turns": 3}
    )
    result = compare(spec, db, jobs=2)  # worker processes stream their runs' copies
    with sqlite3.connect(db) as source:
        runs = [r for (r,) in source.execute("SELECT run_id FROM comparison_runs")]
    assert len(runs) == 4 and result is not None
    for run_id in runs:
        streamed = columnar.read_manifest(columnar.run_dir(db, run_id))
        files = _files(db, run_id)
        manifest, want = _reread(db, run_id)
        assert streamed == manifest
        for name, table in want.items():
            assert _sorted(files[name]).equals(_sorted(table)), name


def test_a_resumed_run_is_copied_from_the_database_and_leaves_no_scratch(db, monkeypatch, caplog):
    run_id = _fail_midway(db, monkeypatch)
    folder = columnar.run_dir(db, run_id)
    assert not folder.exists()  # the failed run's streamed files were deleted
    monkeypatch.undo()
    caplog.set_level(logging.DEBUG, logger="simlab.columnar")
    simulation.resume(run_id, make_engine(db))
    assert not [r for r in caplog.records if r.getMessage().startswith("columnar: kept")]
    resumed = columnar.read_manifest(folder)
    assert resumed["tables"]["turn_metadata"]["rows"] == 5
    assert not list(folder.glob(".*"))
    files = _files(db, run_id)
    manifest, want = _reread(db, run_id)
    assert resumed == manifest
    for name, table in want.items():
        assert _sorted(files[name]).equals(_sorted(table)), name


def _turns_written(db: Path) -> int:
    try:
        with closing(sqlite3.connect(db, timeout=30)) as source:
            return source.execute("SELECT count(*) FROM turn_metadata").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_a_killed_run_leaves_scratch_files_that_the_next_copy_sweeps(db):
    process = subprocess.Popen(
        [sys.executable, "-m", "simlab", "run", "--turns", "100000", "--db", str(db)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while _turns_written(db) < 3:
        assert process.poll() is None and time.monotonic() < deadline, "the run wrote no turns"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # no chance to delete the streamed files
    process.wait()
    with closing(sqlite3.connect(db)) as source:
        ((run_id,),) = source.execute("SELECT run_id FROM runs").fetchall()
    folder = columnar.run_dir(db, run_id)
    assert list(folder.glob(".*.tmp")) and columnar.read_manifest(folder) is None
    with analytics.connect(db) as con:  # the killed run is stale: copied from the database
        turns = analytics.completed_turns(con, run_ids=[run_id])
    assert turns >= 3
    assert not list(folder.glob(".*.tmp"))  # swept by that copy
    manifest = columnar.read_manifest(folder)
    assert manifest["tables"]["turn_metadata"]["rows"] == turns


def test_a_streamed_run_does_not_import_pandas(db):
    """The stream builds Arrow arrays from buffers: ``pa.array`` of numpy would import pandas.

    That import took a third of a second of a 10,000-agent run's start (and
    holds the interpreter lock while it runs).
    """
    script = (
        "import sys\n"
        "from simlab import engine as simulation\n"
        "from simlab.config import RunConfig\n"
        "simulation.run(RunConfig(seed=1, turns=2, posting={'enabled': True}), sys.argv[1])\n"
        "print('pandas' in sys.modules)\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script, str(db)], capture_output=True, text=True, cwd=REPO
    )
    assert found.returncode == 0, found.stderr
    with closing(sqlite3.connect(db)) as source:
        ((run_id,),) = source.execute("SELECT run_id FROM runs").fetchall()
    manifest = columnar.read_manifest(columnar.run_dir(db, run_id))
    assert manifest["feed_items"]["rows"] > 0  # the stream wrote the copy
    assert found.stdout.split() == ["False"]
