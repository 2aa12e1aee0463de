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

import numpy as np
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
    """The rows of ``sql`` (whose columns are ``schema``'s, in order) as record batches.

    The arrays are built from their buffers (:func:`column_array`), not with
    ``pa.array``, which imports pandas on first use (a quarter of a second that
    a completing run would pay for its columnar copy).
    """
    cursor = source.execute(sql, params)
    while rows := cursor.fetchmany(BATCH_ROWS):
        columns = zip(*rows, strict=True)
        yield pa.record_batch(
            [column_array(values, f.type) for values, f in zip(columns, schema, strict=True)],
            schema=schema,
        )


_NUMPY_TYPES = {pa.int64(): np.int64, pa.float64(): np.float64}


def column_array(values: Sequence, kind: pa.DataType) -> pa.Array:
    """One column of SQLite values (None for NULL) as an Arrow array of type ``kind``.

    ``kind`` is one of :func:`arrow_type`'s: int64 and float64 through numpy,
    string and binary as offsets plus concatenated bytes. A column without
    NULLs is converted in one pass; one with NULLs is converted without them
    and spread out under a validity bitmap.

    Raises:
        TypeError, ValueError: a value does not fit ``kind`` (text in an INTEGER column).
    """
    n = len(values)
    try:
        dense, data = _dense(values, kind, n)
        if kind != pa.float64() or not np.isnan(dense).any():  # numpy reads None as NaN
            return _from_buffers(kind, n, dense, data, None, 0)
    except TypeError:  # a NULL, or a value of the wrong type (raised again below)
        pass
    nulls = np.fromiter((v is None for v in values), bool, n)
    present = [v for v in values if v is not None]
    dense, data = _dense(present, kind, len(present))
    spread = np.zeros(n, dtype=dense.dtype)
    spread[~nulls] = dense
    validity = pa.py_buffer(np.packbits(~nulls, bitorder="little"))
    return _from_buffers(kind, n, spread, data, validity, n - len(present))


def _dense(values: Sequence, kind: pa.DataType, n: int) -> tuple[np.ndarray, bytes | None]:
    """Numbers as numpy (and None); text and blobs as byte lengths and the joined bytes."""
    if kind in _NUMPY_TYPES:
        return np.fromiter(values, _NUMPY_TYPES[kind], n), None
    if kind == pa.string():
        text = "".join(values)
        if text.isascii():  # one character, one byte: no per-value encode
            return np.fromiter(map(len, values), np.int64, n), text.encode("ascii")
        values = list(map(str.encode, values))
    return np.fromiter(map(len, values), np.int64, n), b"".join(values)


def _from_buffers(
    kind: pa.DataType,
    n: int,
    dense: np.ndarray,
    data: bytes | None,
    validity: pa.Buffer | None,
    null_count: int,
) -> pa.Array:
    """The Arrow array of :func:`column_array` from numbers, or from byte lengths and bytes."""
    if data is None:
        return pa.Array.from_buffers(kind, n, [validity, pa.py_buffer(dense)], null_count)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(dense, out=offsets[1:])
    if offsets[-1] > np.iinfo(np.int32).max:
        raise ValueError(f"{offsets[-1]:,} bytes of text in one batch; lower BATCH_ROWS")
    buffers = [validity, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data)]
    return pa.Array.from_buffers(kind, n, buffers, null_count)


def repeated(value: str, n: int) -> pa.Array:
    """A string array of ``n`` copies of ``value``."""
    data = value.encode()
    if len(data) * n > np.iinfo(np.int32).max:
        raise ValueError(f"{len(data) * n:,} bytes of text in one batch; lower BATCH_ROWS")
    offsets = np.arange(n + 1, dtype=np.int32) * len(data)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)]
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
