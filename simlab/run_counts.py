"""Rows per run and table of a SQLite file, counted again only where rows were added.

The staleness check of :mod:`simlab.columnar` needs every run's row count in
every table with a ``run_id`` column. Grouping whole tables costs a pass over
the database; after a run completes only that run's rows are new. So each
check keeps, per table, its column list, ``count(*)``, ``max(rowid)`` and the
per-run counts (``<db>.columnar/checked.json``). The next check reads the two
cheap numbers (SQLite counts a table from its b-tree without decoding rows;
``max(rowid)`` is one seek) and

- same numbers: the table is unchanged (no insert: SQLite gives a new row
  ``max(rowid) + 1``; no delete: the count would drop), its counts are kept;
- more rows, all above the old ``max(rowid)``: only the rows past it are
  grouped by run and added (a pass over the new rows only);
- anything else (deletes, views, ``WITHOUT ROWID`` tables, a changed column
  list): the table is grouped whole.

An ``UPDATE`` changes no count, so the small tables (at most
:data:`SMALL_ROWS` rows: a run's row, config, lease, comparison membership,
metrics, ...) are read whole and each run's rows hashed into its counts as
``"<table> digest"``; :data:`UPDATED_IN_PLACE` (status, completion time,
lease) always are. Not seen: an ``UPDATE`` in a large table (likes, feeds,
leanings: simlab only appends there), or a delete of a table's last row
followed by an insert that reuses its rowid, within one check interval.
"""

from __future__ import annotations

import hashlib
import sqlite3

import pyarrow as pa

from simlab.sqlite_arrow import identifier

RUN_COLUMN = "run_id"
UPDATED_IN_PLACE = ("runs", "run_lifecycle")  # one row per run, updated rather than appended
SMALL_ROWS = 20_000  # tables up to this size are hashed, not only counted


def _grouped(source: sqlite3.Connection, table: str, where: str = "", params=()) -> dict[str, int]:
    found = source.execute(
        f"SELECT {RUN_COLUMN}, count(*) FROM {identifier(table)}{where} GROUP BY {RUN_COLUMN}",
        params,
    )
    return dict(found.fetchall())


def _small(source: sqlite3.Connection, table: str) -> bool:
    """Whether ``table``'s rows are hashed (:data:`SMALL_ROWS`, or always for the run rows)."""
    if table in UPDATED_IN_PLACE:
        return True
    try:  # counting at most SMALL_ROWS + 1 rows, not a large table's whole b-tree
        (found,) = source.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {identifier(table)} LIMIT {SMALL_ROWS + 1})"
        ).fetchone()
    except sqlite3.OperationalError:
        return False
    return found <= SMALL_ROWS and _table_key(source, table) is not None


def _add_digests(
    source: sqlite3.Connection, schemas: dict[str, pa.Schema], counts: dict, where="", params=()
) -> None:
    """Add ``"<table> digest"`` (SHA-256 of the run's sorted rows) for every small table."""
    for table, schema in schemas.items():
        if not _small(source, table):
            continue
        position = schema.names.index(RUN_COLUMN)
        rows: dict[str, list[str]] = {}
        for row in source.execute(f"SELECT * FROM {identifier(table)}{where}", params):
            rows.setdefault(row[position], []).append(repr(row))
        for run, texts in rows.items():
            digest = hashlib.sha256("\n".join(sorted(texts)).encode()).hexdigest()
            counts.setdefault(run, {})[f"{table} digest"] = digest


def run_counts(
    source: sqlite3.Connection, schemas: dict[str, pa.Schema], run_id: str
) -> dict[str, object]:
    """One run's rows per table (no zeros), with the digests of its small tables."""
    where, params = f" WHERE {RUN_COLUMN} = ?", (run_id,)
    counts: dict[str, dict] = {}
    for table in schemas:
        for run, n in _grouped(source, table, where, params).items():
            counts.setdefault(run, {})[table] = n
    _add_digests(source, schemas, counts, where, params)
    return counts.get(run_id, {})


def _table_key(source: sqlite3.Connection, table: str) -> list[int] | None:
    """``[count(*), max(rowid)]`` of a rowid table; None for views and WITHOUT ROWID tables."""
    try:
        top = source.execute(f"SELECT max(rowid) FROM {identifier(table)}").fetchone()[0]
    except sqlite3.OperationalError:
        return None
    if top is None and source.execute(f"SELECT 1 FROM {identifier(table)} LIMIT 1").fetchone():
        return None  # rows but no rowid: a view
    count = source.execute(f"SELECT count(*) FROM {identifier(table)}").fetchone()[0]
    return [count, top or 0]


def _table_counts(
    source: sqlite3.Connection, table: str, columns: list[str], before: dict | None
) -> dict:
    """The record of ``table`` for the next check: columns, key and per-run counts."""
    key = _table_key(source, table)
    usable = before is not None and before["columns"] == columns and before["key"] is not None
    if key is not None and usable:
        (old_n, old_top), counts = before["key"], dict(before["counts"])
        if key == [old_n, old_top]:
            return {"columns": columns, "key": key, "counts": counts}
        if key[0] > old_n and key[1] > old_top:
            added = _grouped(source, table, " WHERE rowid > ?", (old_top,))
            if old_n + sum(added.values()) == key[0]:
                for run, n in added.items():
                    counts[run] = counts.get(run, 0) + n
                return {"columns": columns, "key": key, "counts": counts}
    return {"columns": columns, "key": key, "counts": _grouped(source, table)}


def all_run_counts(
    source: sqlite3.Connection, schemas: dict[str, pa.Schema], before: dict
) -> tuple[dict[str, dict], dict]:
    """Every run's counts (as :func:`run_counts`), and the per-table record for the next check.

    Args:
        source: the database, inside one read transaction.
        schemas: the tables with a run_id column (:func:`simlab.columnar.run_tables`).
        before: the record the previous check returned (``{}`` if none).
    """
    tables = {
        table: _table_counts(source, table, schema.names, before.get(table))
        for table, schema in schemas.items()
    }
    counts: dict[str, dict] = {}
    for table, record in tables.items():
        for run, n in record["counts"].items():
            if n:
                counts.setdefault(run, {})[table] = n
    _add_digests(source, schemas, counts)
    return counts, tables
