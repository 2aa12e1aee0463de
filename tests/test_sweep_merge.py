"""``simlab merge`` on real shards: population fingerprints, idempotence, PostgreSQL targets."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from simlab import columnar
from simlab.errors import InputError
from simlab.sweep import merge_shards, resume_sweep, sweep
from simlab.sweep.config import parse
from simlab.sweep.fingerprint import population_rows_fingerprint
from simlab.sweep.merge import database_fingerprint, file_fingerprint

from .conftest import copy_database, init_database, run_simlab
from .test_compare_cancel import _query
from .test_engine import _content
from .test_sweep import _pg_content

CONFIG = {"seed": 4, "replicates": 2, "run": {"turns": 3}, "grid": {"feeds": ["popularity"]}}


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A population database, and a sweep of 2 cells run on a copy of it (shards kept)."""
    folder = tmp_path_factory.mktemp("merge")
    base = init_database(folder / "base.db", agents=30, posts=150, seed=2)
    db = copy_database(base, folder / "swept.db")
    result = sweep(parse(CONFIG, "test"), db, jobs=2, shard_dir=folder / "shards")
    assert result.failures == {} and len(result.merged) == 2
    return base, db, result


def _counts(db: Path) -> tuple:
    return _query(db, "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM likes)")[0]


def test_the_fingerprint_sees_one_changed_population_row_and_ignores_run_rows(swept, tmp_path):
    base, db, result = swept
    assert file_fingerprint(base) == file_fingerprint(db) == database_fingerprint(db)
    changed = copy_database(base, tmp_path / "changed.db")
    with closing(sqlite3.connect(changed)) as connection:
        connection.execute(
            "UPDATE agent_traits SET activity_rate = activity_rate * 0.99 WHERE rowid = 7"
        )
        connection.commit()
        assert population_rows_fingerprint(connection) != file_fingerprint(base)


def test_the_runs_columnar_copies_move_from_the_shards_beside_the_database(swept):
    _, db, result = swept
    for merged in result.merged:
        (run,) = merged.runs
        assert not columnar.run_dir(merged.shard, run).exists()
        assert columnar.read_manifest(columnar.run_dir(db, run)) is not None
    manifests, live = columnar.current_copies(db)
    assert live == [] and set(manifests) == set(result.run_ids.values())
    for run, manifest in manifests.items():
        assert manifest["tables"]["sweep_cells"]["rows"] == 1  # brought up to date from db
        likes = manifest["tables"]["likes"]
        stored = pq.read_table(columnar.run_dir(db, run) / likes["file"]).to_pylist()
        rows = _query(db, f"SELECT {', '.join(likes['columns'])} FROM likes WHERE run_id = ?", run)
        assert rows and sorted(tuple(r.values()) for r in stored) == sorted(rows)


def test_merging_into_a_copy_twice_gives_the_sweeps_rows_then_adds_nothing(swept, tmp_path):
    base, db, result = swept
    target = copy_database(base, tmp_path / "target.db")
    shards = [m.shard for m in result.merged]
    first = merge_shards(shards, target)
    assert [len(m.runs) for m in first] == [1, 1] and all(m.added > 0 for m in first)
    for run_id in result.run_ids.values():
        assert _content(target, run_id) == _content(db, run_id)
    counts = _counts(target)
    again = run_simlab("merge", *map(str, shards), "--db", str(target))
    assert again.returncode == 0, again.stderr
    assert "merged 2 shards: 0 rows added, 2 runs" in again.stdout
    assert _counts(target) == counts


def test_a_shard_of_another_population_is_refused_in_one_line(swept, tmp_path):
    base, _, result = swept
    other = copy_database(base, tmp_path / "other.db")
    with closing(sqlite3.connect(other)) as connection:
        connection.execute("UPDATE feed_posts SET text = text || '!' WHERE rowid = 3")
        connection.commit()
    counts = _counts(other)
    refused = run_simlab("merge", str(result.merged[0].shard), "--db", str(other))
    assert refused.returncode == 2, refused.stdout
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert lines[0].startswith("error: merge: shard ") and str(result.merged[0].shard) in lines[0]
    assert "population" in lines[0] and "database their sweep ran on" in lines[0]
    assert _counts(other) == counts


def test_shards_merge_into_postgresql_with_the_sqlite_rows(swept, pg_url):
    _, db, result = swept
    init = run_simlab("init", "--agents", "30", "--posts", "150", "--seed", "2", "--db", pg_url)
    assert init.returncode == 0, init.stderr
    assert database_fingerprint(pg_url) == database_fingerprint(db)
    shards = [m.shard for m in result.merged]
    first = merge_shards(shards, pg_url)
    assert [m.added for m in first] == [m.added for m in result.merged]
    for run_id in result.run_ids.values():
        expected = {t: [tuple(r) for r in v] for t, v in _content(db, run_id).items()}
        assert _pg_content(pg_url, run_id) == expected
    assert sum(m.added for m in merge_shards(shards, pg_url)) == 0


def test_resuming_after_the_population_changed_is_refused_before_any_cell_runs(swept, tmp_path):
    base, _, _ = swept
    db = copy_database(base, tmp_path / "resumed.db")
    blocked = tmp_path / "shards" / "blocked" / "cell-00001.db"
    blocked.mkdir(parents=True)  # cell 1 cannot write its shard: the sweep stays unfinished
    config = parse(CONFIG, "test")
    assert list(sweep(config, db, shard_dir=tmp_path / "shards", sweep_id="blocked").failures) == [
        1
    ]
    blocked.rmdir()
    with closing(sqlite3.connect(db)) as connection:
        connection.execute("UPDATE feed_posts SET text = text || '!' WHERE rowid = 3")
        connection.commit()
    before = _query(db, "SELECT cell, status, attempts FROM sweep_cells ORDER BY cell")
    with pytest.raises(InputError, match="population of the database changed since the sweep"):
        resume_sweep("blocked", db)
    assert _query(db, "SELECT cell, status, attempts FROM sweep_cells ORDER BY cell") == before
    assert not blocked.exists()
