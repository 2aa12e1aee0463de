"""Packs: many finished runs' copies in one file per table, read only while current.

Every comparison is against ``connect(db, columnar=False)``, DuckDB over the
plain SQLite attach of the same real database file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from simlab import analytics, columnar, columnar_pack
from simlab.compare import CompareConfig, compare

from .conftest import copy_database, run_simlab, synthetic_database

VIEWS = ("feed_items", "exposures", "agent_leanings", "turn_metrics_long", "actions")


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    return synthetic_database(tmp_path_factory.mktemp("packs") / "pop.db", 50, 200, seed=4)


@pytest.fixture
def compared(population, tmp_path) -> tuple[Path, list[str]]:
    """A database with a finished 2 feeds x 2 replicates comparison (packed at its end)."""
    db = copy_database(population, tmp_path / "simlab.db")
    spec = CompareConfig(feeds=["popularity", "random"], replicates=2, seed=3, run={"turns": 3})
    return db, sorted(compare(spec, str(db), jobs=1).run_ids.values())


def _packs(db: Path) -> list[Path]:
    root = columnar_pack.packs_dir(db)
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def _everything(con) -> dict[str, pd.DataFrame]:
    """Every run table of the ``sim`` catalog and the views built on them, in a stable order."""
    tables = [
        name
        for (name,) in con.execute(
            "SELECT DISTINCT table_name FROM duckdb_columns() "
            "WHERE database_name = 'sim' AND column_name = 'run_id' ORDER BY 1"
        ).fetchall()
    ]
    frames = {t: con.execute(f"SELECT * FROM sim.{t} ORDER BY ALL").df() for t in tables}
    frames.update({v: con.execute(f"SELECT * FROM {v} ORDER BY ALL").df() for v in VIEWS})
    frames["action_counts"] = analytics.action_counts(con)
    return frames


def _assert_default_path_equals_the_attach(db: Path) -> None:
    with analytics.connect(db) as stored, analytics.connect(db, columnar=False) as plain:
        got, want = _everything(stored), _everything(plain)
    assert got.keys() == want.keys()
    for name, frame in want.items():
        pd.testing.assert_frame_equal(got[name], frame, obj=name)


def _reads_the_pack(db: Path, table: str = "likes") -> bool:
    with analytics.connect(db) as con:
        sql = con.execute(
            "SELECT sql FROM duckdb_views() WHERE database_name = 'sim' AND view_name = $t",
            {"t": table},
        ).fetchone()[0]
    return columnar_pack.PACKS in sql


def test_a_comparison_packs_its_runs_and_reads_equal_the_attach(compared):
    db, runs = compared
    (pack,) = _packs(db)
    (found,) = columnar_pack.current_packs(db, columnar.current_copies(db)[0])
    assert found.folder == pack and found.runs == runs and found.complete
    with sqlite3.connect(db) as source:
        likes = source.execute("SELECT count(*) FROM likes").fetchone()[0]
    assert pd.read_parquet(found.file("likes")).shape[0] == likes > 0
    assert _reads_the_pack(db)
    _assert_default_path_equals_the_attach(db)


def test_a_run_that_changed_after_packing_is_read_from_its_rewritten_copy(compared):
    db, runs = compared
    with sqlite3.connect(db) as source:  # as if rows were removed from one run
        source.execute("DELETE FROM likes WHERE run_id = ? AND turn_number = 0", (runs[0],))
    (found,) = columnar_pack.current_packs(db, columnar.current_copies(db)[0])
    assert found.runs == runs[1:] and not found.complete
    _assert_default_path_equals_the_attach(db)


def test_a_pack_current_for_no_run_is_deleted(compared):
    db, runs = compared
    with sqlite3.connect(db) as source:
        for run in runs:
            source.execute("DELETE FROM likes WHERE run_id = ? AND turn_number = 0", (run,))
    _assert_default_path_equals_the_attach(db)
    assert _packs(db) == []
    assert not _reads_the_pack(db)


def test_runs_already_packed_or_too_few_are_not_packed_again(compared):
    db, runs = compared
    assert columnar_pack.pack_runs(db, runs) is None  # all four are in the pack
    assert columnar_pack.pack_runs(db, runs[:1]) is None
    assert len(_packs(db)) == 1


def test_a_removed_run_is_no_longer_read_from_the_pack(compared):
    db, runs = compared
    result = run_simlab("rm", runs[1], "--db", str(db))
    assert result.returncode == 0, result.stderr
    (found,) = columnar_pack.current_packs(db, columnar.current_copies(db)[0])
    assert runs[1] not in found.runs and len(found.runs) == 3
    _assert_default_path_equals_the_attach(db)


def _column_bytes(file: Path, column: str) -> int:
    """Uncompressed bytes of ``column`` over every row group of a Parquet file."""
    meta = pq.ParquetFile(file).metadata
    index = meta.schema.names.index(column)
    return sum(
        meta.row_group(g).column(index).total_uncompressed_size for g in range(meta.num_row_groups)
    )


def test_packed_run_ids_and_handles_stay_dictionary_encoded(compared):
    db, _ = compared
    (found,) = columnar_pack.current_packs(db, columnar.current_copies(db)[0])
    for table in ("likes", columnar_pack.ITEMS):
        packed = found.file(table)
        for column in ("run_id", "agent_handle"):
            values = pq.read_table(packed, columns=[column])[column].to_pylist()
            assert len(set(values)) < len(values) / 4  # repeated values: a dictionary pays
            plain = sum(4 + len(v) for v in values)  # PLAIN: a length and the bytes, per row
            assert _column_bytes(packed, column) < plain / 2, (table, column)
