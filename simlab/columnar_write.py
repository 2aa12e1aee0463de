"""One run's rows of one table into a Parquet file of its columnar copy (:mod:`simlab.columnar`).

The rows are read with ``WHERE run_id = ?`` inside the copy's read
transaction. Their ``run_id`` column is not fetched where the comparison is
exact (no collation on the table): every row holds the run's id, so the
column is built as that value repeated (one Python object fewer per row).
With ``generated_feeds`` the same batches are exploded into the run's feed
items (:mod:`simlab.feed_items`), written beside it as
:data:`ITEMS_FILE`; the rows of an action table (:data:`ACTIONS`) are
counted per turn as they pass, for the manifest. Files are written under a
temporary name and renamed into place only when complete.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simlab import feed_items
from simlab.run_counts import RUN_COLUMN
from simlab.sqlite_arrow import batches, identifier, repeated

log = logging.getLogger("simlab.columnar")

FEEDS = "generated_feeds"
ACTIONS = {"likes": "like", "comments": "comment", "follows": "follow"}  # table -> action
ITEMS_FILE = "+feed_items.parquet"  # "+" is never in a table's file name (percent-encoded)


def _constant_run_id(source: sqlite3.Connection, table: str, schema: pa.Schema) -> bool:
    """Whether ``WHERE run_id = ?`` returns only rows whose run_id is exactly the parameter.

    True for a string column of a table declared without ``COLLATE`` (whose
    comparisons are byte-wise).
    """
    if schema.field(RUN_COLUMN).type != pa.string():
        return False
    found = source.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return found is not None and "COLLATE" not in (found[0] or "").upper()


class ParquetFile:
    """A Parquet file written under a temporary name and renamed into place by :meth:`keep`."""

    def __init__(self, target: Path, schema: pa.Schema) -> None:
        self.target = target
        self.scratch = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        self.writer = pq.ParquetWriter(self.scratch, schema, compression="snappy")
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        """Append ``batch`` (one row group)."""
        self.writer.write_batch(batch)
        self.rows += batch.num_rows

    def write_table(self, table: pa.Table) -> None:
        """Append ``table`` as one row group."""
        self.writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self.rows += table.num_rows

    def keep(self) -> None:
        """Close the file and rename it into place."""
        self.writer.close()
        os.replace(self.scratch, self.target)

    def discard(self) -> None:
        """Close the file and delete it if it was not kept."""
        self.writer.close()  # a second close is a no-op
        self.scratch.unlink(missing_ok=True)


def _nulls_first(pair: tuple) -> tuple:
    return (pair[0] is not None, pair[0] or 0)


def table_file(table: str) -> str:
    """The file name of ``table``'s rows in a run's copy folder."""
    return urllib.parse.quote(table, safe="-_") + ".parquet"


def turn_counts(turns: Counter) -> list[list]:
    """Rows per turn as the manifest keeps them: ``[turn, rows]`` pairs, NULL turn first."""
    return [[t, n] for t, n in sorted(turns.items(), key=_nulls_first)]


def write_table(
    source: sqlite3.Connection, table: str, schema: pa.Schema, run_id: str, target: Path
) -> dict:
    """The run's rows of ``table`` into the Parquet file ``target``, via a temporary name.

    Returns:
        What the manifest keeps beside the table's entry: for
        ``generated_feeds``, ``feed_items`` (rows and file of the items
        written beside it; file None when a feed is not a JSON array of
        strings); for an action table, ``turn_counts`` (``[turn, rows]``
        pairs); else nothing.
    """
    constant = _constant_run_id(source, table, schema)
    fetched = schema.remove(schema.get_field_index(RUN_COLUMN)) if constant else schema
    columns = ", ".join(identifier(c) for c in fetched.names)
    sql = f"SELECT {columns} FROM {identifier(table)} WHERE {RUN_COLUMN} = ?"
    files = [ParquetFile(target, schema)]
    explode = table == FEEDS and set(feed_items.KEYS) | {"post_ids"} <= set(schema.names)
    if explode:
        files.append(ParquetFile(target.with_name(ITEMS_FILE), feed_items.SCHEMA))
    turns: Counter | None = (
        Counter() if table in ACTIONS and "turn_number" in schema.names else None
    )
    try:
        for batch in batches(source, sql, fetched, (run_id,)):
            if constant:
                at = schema.get_field_index(RUN_COLUMN)
                batch = batch.add_column(at, schema.field(at), repeated(run_id, batch.num_rows))
            files[0].write(batch)
            if turns is not None:
                found = pc.value_counts(batch.column("turn_number"))
                values, counts = (field.to_pylist() for field in found.flatten())
                turns.update(dict(zip(values, counts, strict=True)))
            if len(files) > 1:
                try:
                    files[1].write(feed_items.explode(batch))
                except ValueError as exc:  # e.g. feed_items.NotStrings: DuckDB explodes it
                    log.debug("columnar: no feed items for run %s (%s)", run_id, exc)
                    files.pop().discard()
        for file in files:
            file.keep()
    finally:
        for file in files:
            file.discard()
    if table == FEEDS:
        items = files[1] if len(files) > 1 else None
        return {"feed_items": {"rows": items.rows if items else None, "file": items and ITEMS_FILE}}
    if turns is not None:
        return {"turn_counts": turn_counts(turns)}
    return {}
