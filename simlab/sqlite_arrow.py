"""Reading SQLite rows into Arrow record batches, and an inter-process file lock.

Shared by the Arrow fallback of :mod:`simlab.analytics.connection` and the
per-run columnar copies of :mod:`simlab.columnar`.
"""

from __future__ import annotations

import fcntl
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

BATCH_ROWS = 50_000


def identifier(name: str) -> str:
    """A quoted SQL identifier (SQLite and DuckDB quote alike)."""
    return '"' + name.replace('"', '""') + '"'


def open_read_only(path: Path) -> sqlite3.Connection:
    """A ``sqlite3`` connection that cannot write ``path`` (``mode=ro``)."""
    uri = f"file:{urllib.parse.quote(str(path.absolute()))}?mode=ro"
    return sqlite3.connect(uri, uri=True)


def arrow_type(declared: str) -> pa.DataType:
    """SQLite type affinity of a declared column type, as the Arrow type the scanner would give."""
    name = declared.upper()
    if "INT" in name:
        return pa.int64()
    if any(word in name for word in ("CHAR", "CLOB", "TEXT")) or not name:
        return pa.string()
    if "BLOB" in name:
        return pa.binary()
    return pa.float64()  # REAL, FLOAT, DOUBLE and NUMERIC affinity


def table_schema(source: sqlite3.Connection, table: str) -> pa.Schema:
    """The Arrow schema of a table or view, from its declared column types."""
    info = source.execute(f"PRAGMA table_info({identifier(table)})").fetchall()
    return pa.schema([(row[1], arrow_type(row[2] or "")) for row in info])


def batches(
    source: sqlite3.Connection, sql: str, schema: pa.Schema, params: Sequence = ()
) -> Iterator[pa.RecordBatch]:
    """The rows of ``sql`` (whose columns are ``schema``'s, in order) as record batches."""
    cursor = source.execute(sql, params)
    while rows := cursor.fetchmany(BATCH_ROWS):
        columns = zip(*rows, strict=True)
        yield pa.record_batch(
            [pa.array(values, type=f.type) for values, f in zip(columns, schema, strict=True)],
            schema=schema,
        )


@contextmanager
def file_lock(lock: Path) -> Iterator[None]:
    """An exclusive ``flock`` on the file ``lock`` (created if needed) while the block runs."""
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
