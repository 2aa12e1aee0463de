"""Per-run columnar copies: written at completion, equal to the attach, rebuilt when stale or missing.

Every comparison is against ``connect(db, columnar=False)``, DuckDB over the
plain SQLite attach, on the same real database file.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from simlab import analytics, columnar, housekeeping, run_counts
from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import make_engine

from .conftest import REPO, copy_database, failing_turn, init_database

RUN_TABLES = (
    "likes",
    "comments",
    "follows",
    "generated_feeds",
    "agent_leaning_changes",
    "turn_metrics",
)


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    return init_database(
        tmp_path_factory.mktemp("columnar") / "pop.db", agents=60, posts=300, seed=3
    )


@pytest.fixture
def db(population, tmp_path) -> Path:
    return copy_database(population, tmp_path / "simlab.db")


def _run(db: Path, seed: int, feed: str = "popularity", turns: int = 4) -> str:
    engine = make_engine(db)
    try:
        return simulation.run(RunConfig(seed=seed, turns=turns, feed={"name": feed}), engine)
    finally:
        engine.dispose()


def _write(db: Path, sql: str, *params) -> None:
    connection = sqlite3.connect(db)
    with connection:
        connection.execute(sql, params)
    connection.close()


def _frames(con, run_id: str) -> dict[str, pd.DataFrame]:
    """What notebooks ask for, plus every row of the run tables, in a stable order."""
    agent = con.execute(
        "SELECT min(agent_handle) FROM sim.generated_feeds WHERE run_id = $r AND turn_number = 0",
        {"r": run_id},
    ).fetchone()[0]
    frames = {
        "turn_metrics": analytics.turn_metrics(con),
        "action_counts": analytics.action_counts(con),
        "agent_feed": analytics.agent_feed(con, run_id=run_id, turn=0, agent_handle=agent),
        "agent_activity": analytics.agent_activity(con, run_id=run_id),
        "runs": analytics.runs(con),
        "exposures": con.execute("SELECT * FROM exposures ORDER BY ALL").df(),
        "feed_items": con.execute("SELECT * FROM feed_items ORDER BY ALL").df(),
        "actions": con.execute("SELECT * FROM actions ORDER BY ALL").df(),
    }
    for table in RUN_TABLES:
        frames[table] = con.execute(f"SELECT * FROM sim.{table} ORDER BY ALL").df()
    return frames


def _assert_copies_equal_the_attach(db: Path, run_id: str) -> None:
    with analytics.connect(db) as copies, analytics.connect(db, columnar=False) as plain:
        assert analytics.access_method(copies) == "columnar"
        got, want = _frames(copies, run_id), _frames(plain, run_id)
    for name, frame in want.items():
        assert len(frame) > 0 or name == "comments", name
        pd.testing.assert_frame_equal(got[name], frame, obj=name)


def _items_from_json(db: Path) -> list[tuple]:
    """Every feed's items, exploded in Python from the SQLite rows."""
    with sqlite3.connect(db) as source:
        feeds = source.execute(
            "SELECT run_id, turn_number, agent_handle, post_ids FROM generated_feeds"
        ).fetchall()
    return sorted(
        (run, turn, agent, rank, post)
        for run, turn, agent, ids in feeds
        for rank, post in enumerate(json.loads(ids), start=1)
    )


def _feed_items(con) -> list[tuple]:
    return con.execute("SELECT * FROM feed_items ORDER BY ALL").fetchall()


def test_action_counts_per_turn_are_kept_in_the_manifest_and_equal_counting_the_rows(db):
    run_id = _run(db, 1)
    manifest = _manifest(db, run_id)
    with sqlite3.connect(db) as source:
        for table in ("likes", "comments", "follows"):
            want = source.execute(
                f"SELECT turn_number, count(*) FROM {table} WHERE run_id = ? "
                "GROUP BY turn_number ORDER BY turn_number",
                (run_id,),
            ).fetchall()
            assert [tuple(pair) for pair in manifest["turn_counts"].get(table, [])] == want
    with analytics.connect(db) as con:
        plan = str(con.execute("EXPLAIN SELECT * FROM _simlab_turn_counts").fetchall())
        assert "READ_PARQUET" not in plan  # the manifest's counts, not the copied rows


def test_feed_items_are_stored_with_the_copy_and_equal_the_exploded_json(db):
    first, second = _run(db, 1), _run(db, 2, "chronological")
    for run_id in (first, second):
        items = _manifest(db, run_id)["feed_items"]
        assert items["file"] is not None and items["rows"] > 0
        assert (columnar.run_dir(db, run_id) / items["file"]).is_file()
    want = _items_from_json(db)
    assert len(want) == sum(_manifest(db, r)["feed_items"]["rows"] for r in (first, second))
    with analytics.connect(db) as copies, analytics.connect(db, columnar=False) as plain:
        plan = copies.execute("EXPLAIN SELECT * FROM feed_items").fetchall()
        assert "from_json" not in str(plan)  # read from the stored items, not parsed
        assert _feed_items(copies) == want
        assert _feed_items(plain) == want


def test_feeds_that_are_not_plain_string_arrays_are_parsed_or_read_through_the_json(db):
    escaped, odd = _run(db, 1), _run(db, 2)
    _write(  # escapes take the json.loads path of the copy
        db,
        'UPDATE generated_feeds SET post_ids = \'["p\\u00e9", null, "a\\"b"]\' '
        "WHERE run_id = ? AND turn_number = 0",
        escaped,
    )
    _write(
        db,
        "UPDATE generated_feeds SET post_ids = '[]' WHERE run_id = ? AND turn_number = 1",
        escaped,
    )
    _write(  # json.dumps's separator: split at quote, comma, space, quote
        db,
        "UPDATE generated_feeds SET post_ids = replace(post_ids, '\",\"', '\", \"') "
        "WHERE run_id = ? AND turn_number = 2",
        escaped,
    )
    _write(
        db,
        "UPDATE generated_feeds SET post_ids = '[1, 2]' WHERE run_id = ? AND turn_number = 0",
        odd,
    )
    for run_id in (escaped, odd):  # an UPDATE of a large table is not seen: copy again
        columnar.remove_copies(db, [run_id])
    with analytics.connect(db) as copies, analytics.connect(db, columnar=False) as plain:
        assert _manifest(db, escaped)["feed_items"]["file"] is not None
        assert _manifest(db, odd)["feed_items"] == {"rows": None, "file": None}
        got, want = _feed_items(copies), _feed_items(plain)
    assert got == want
    first_turn = [(rank, post) for run, turn, _, rank, post in got if (run, turn) == (escaped, 0)]
    assert {(1, "p\u00e9"), (2, None), (3, 'a"b')} <= set(first_turn)
    assert not [row for row in got if row[:2] == (escaped, 1)]  # empty feeds: no items
    assert [row for row in got if row[:2] == (escaped, 2)]
    assert any(row[0] == odd and row[4] == "1" for row in got)


def _manifest(db: Path, run_id: str) -> dict | None:
    return columnar.read_manifest(columnar.run_dir(db, run_id))


def test_a_completed_run_has_its_copy_and_analytics_equal_the_attach(db):
    first, second = _run(db, 1), _run(db, 2, "chronological")
    for run_id in (first, second):  # written by the run's own completion
        manifest = _manifest(db, run_id)
        assert manifest is not None and manifest["run_id"] == run_id
        assert manifest["tables"]["likes"]["rows"] > 0
        assert (columnar.run_dir(db, run_id) / manifest["tables"]["likes"]["file"]).is_file()
    with sqlite3.connect(db) as source:
        schemas = columnar.run_tables(source)
        counts = run_counts.run_counts(source, schemas, first)
    assert _manifest(db, first)["checksum"] == columnar.checksum(schemas, counts)
    assert counts["likes"] == _manifest(db, first)["tables"]["likes"]["rows"]
    _assert_copies_equal_the_attach(db, first)


def test_changed_rows_make_a_copy_stale_and_only_the_changed_table_is_rewritten(db):
    run_id = _run(db, 1)
    folder = columnar.run_dir(db, run_id)
    before = _manifest(db, run_id)
    likes_written = (folder / "likes.parquet").stat().st_mtime_ns
    _write(
        db,
        "DELETE FROM follows WHERE follow_id = (SELECT min(follow_id) FROM follows WHERE run_id = ?)",
        run_id,
    )
    _assert_copies_equal_the_attach(db, run_id)
    after = _manifest(db, run_id)
    assert after["checksum"] != before["checksum"]
    assert after["tables"]["follows"]["rows"] == before["tables"]["follows"]["rows"] - 1
    assert (folder / "likes.parquet").stat().st_mtime_ns == likes_written


def test_a_missing_copy_is_written_on_connect(db):
    run_id = _run(db, 1)
    with analytics.connect(db):
        pass  # records the check
    folder = columnar.run_dir(db, run_id)
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    _assert_copies_equal_the_attach(db, run_id)
    assert _manifest(db, run_id) is not None


def _fail_midway(db: Path, monkeypatch) -> str:
    with failing_turn(monkeypatch, 2):
        with pytest.raises(RuntimeError):
            simulation.run(RunConfig(seed=1, turns=5), make_engine(db), run_id="broken")
    return "broken"


def test_a_failed_run_is_copied_and_its_copy_is_rebuilt_when_resumed(db, monkeypatch):
    run_id = _fail_midway(db, monkeypatch)
    assert _manifest(db, run_id) is None  # only completion writes a copy
    with analytics.connect(db) as con:  # a failed run is not being written: copied on demand
        assert analytics.completed_turns(con, run_ids=[run_id]) == 2
    partial = _manifest(db, run_id)
    assert partial is not None
    simulation.resume(run_id, make_engine(db))
    resumed = _manifest(db, run_id)
    assert resumed["checksum"] != partial["checksum"]
    assert resumed["tables"]["turn_metadata"]["rows"] == 5
    _assert_copies_equal_the_attach(db, run_id)


def _lease_live(db: Path, run_id: str) -> None:
    """Make ``run_id`` look like this process is writing it (status running, live lease)."""
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    _write(db, "UPDATE runs SET status = 'running', completed_at = NULL WHERE run_id = ?", run_id)
    _write(
        db,
        "UPDATE run_lifecycle SET pid = ?, host = ?, lease_expires_at = ?, released_at = NULL "
        "WHERE run_id = ?",
        os.getpid(),
        socket.gethostname(),
        until,
        run_id,
    )


def test_a_running_run_is_read_through_the_attach_and_new_rows_are_seen(db):
    done, running = _run(db, 1), _run(db, 2, "chronological")
    _lease_live(db, running)
    columnar.remove_copies(db, [running])
    with analytics.connect(db) as con:
        assert _manifest(db, running) is None  # a running run is not copied
        turns = analytics.completed_turns(con, run_ids=[running])
        _write(
            db,
            "INSERT INTO turn_metadata (run_id, turn_number, total_actions, created_at) "
            "VALUES (?, ?, 0, '2027-01-01')",
            running,
            turns,
        )
        assert analytics.completed_turns(con, run_ids=[running]) == turns + 1  # seen as committed
        assert analytics.completed_turns(con, run_ids=[done]) == 4
    _assert_copies_equal_the_attach(db, running)


def test_a_run_started_after_connect_is_seen_by_the_next_connect(db):
    first = _run(db, 1)
    with analytics.connect(db) as con:
        later = _run(db, 2)
        assert set(analytics.runs(con)["run_id"]) == {first}
    with analytics.connect(db) as con:
        assert set(analytics.runs(con)["run_id"]) == {first, later}


def test_rm_deletes_the_copies_with_the_rows(db):
    kept, removed = _run(db, 1), _run(db, 2)
    engine = make_engine(db)
    assert housekeeping.remove_runs(engine, [removed]) == 1
    engine.dispose()
    assert not columnar.run_dir(db, removed).exists()
    assert _manifest(db, kept) is not None
    with analytics.connect(db) as con:
        assert set(analytics.runs(con)["run_id"]) == {kept}


CRASHING_WRITER = """
import sys, time
from pathlib import Path
from simlab import columnar, columnar_write, sqlite_arrow

real = columnar_write.batches

def slow(*args, **kwargs):
    for n, batch in enumerate(real(*args, **kwargs)):
        yield batch
        if n == 0:
            Path(sys.argv[3]).touch()  # the first batch of a file is being written
            time.sleep(600)

columnar_write.batches = slow
sqlite_arrow.BATCH_ROWS = 10  # many batches per file
columnar.write_copy(Path(sys.argv[1]), sys.argv[2])
"""


def test_a_writer_killed_mid_copy_leaves_no_half_copy(db, tmp_path):
    run_id = _run(db, 1)
    old = _manifest(db, run_id)
    _write(db, "DELETE FROM likes WHERE run_id = ? AND turn_number = 3", run_id)  # now stale
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    script = textwrap.dedent(CRASHING_WRITER)
    writer = subprocess.Popen([sys.executable, "-c", script, str(db), run_id, str(ready)], env=env)
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert writer.poll() is None and time.monotonic() < deadline, "writer never started"
        time.sleep(0.05)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    folder = columnar.run_dir(db, run_id)
    assert _manifest(db, run_id) == old  # the old, stale manifest, not a half-new one
    assert json.loads((folder / "manifest.json").read_text())["checksum"] == old["checksum"]
    assert list(folder.glob(".*.tmp"))  # the half-written file is only under a temporary name
    _assert_copies_equal_the_attach(db, run_id)
    assert not list(folder.glob(".*.tmp"))  # swept by the rewrite
    assert _manifest(db, run_id)["tables"]["likes"]["rows"] < old["tables"]["likes"]["rows"]


def test_copies_of_runs_the_database_no_longer_has_are_deleted(db):
    kept, gone = _run(db, 1), _run(db, 2)
    connection = sqlite3.connect(db)
    with connection:  # deleted behind simlab's back (as when the file is replaced)
        for table in columnar.run_tables(connection):
            connection.execute(f"DELETE FROM {table} WHERE run_id = ?", (gone,))
    connection.close()
    with analytics.connect(db) as con:
        assert set(analytics.runs(con)["run_id"]) == {kept}
    assert not columnar.run_dir(db, gone).exists()
    assert _manifest(db, kept) is not None


def _counted(db: Path, before: dict) -> tuple[dict, dict]:
    with sqlite3.connect(db) as source:
        return run_counts.all_run_counts(source, columnar.run_tables(source), before)


def test_counting_only_what_was_added_equals_counting_everything(db):
    first = _run(db, 1)
    _, record = _counted(db, {})
    second = _run(db, 2)  # appended rows: counted past the old max(rowid)
    incremental, record = _counted(db, record)
    assert incremental == _counted(db, {})[0]
    assert set(incremental) == {first, second}
    _write(db, "DELETE FROM likes WHERE run_id = ? AND turn_number = 0", first)  # a delete
    _write(db, "UPDATE runs SET status = 'failed', completed_at = NULL WHERE run_id = ?", second)
    after, _ = _counted(db, record)
    assert after == _counted(db, {})[0]
    assert after[first]["likes"] < incremental[first]["likes"]
    assert after[second]["runs digest"] != incremental[second]["runs digest"]


def test_where_copies_cannot_be_written_the_runs_are_read_through_the_attach(db):
    run_id = _run(db, 1)
    shutil.rmtree(columnar.columnar_dir(db))
    columnar.columnar_dir(db).write_text("not a folder")  # mkdir fails as on a read-only disk
    manifests, live = columnar.current_copies(db)
    assert manifests == {} and live == [run_id]
    _assert_copies_equal_the_attach(db, run_id)


def test_an_update_in_place_of_a_small_table_makes_the_copy_stale(db):
    run_id = _run(db, 1)
    _write(db, "UPDATE run_configs SET policy = 'edited' WHERE run_id = ?", run_id)
    with analytics.connect(db) as con:
        policy = con.execute("SELECT policy FROM sim.run_configs").fetchone()[0]
    assert policy == "edited"
    _assert_copies_equal_the_attach(db, run_id)
