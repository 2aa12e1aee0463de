"""A feed's ``post_ids`` JSON exploded to one row per served item, in Arrow.

The columnar copy of a run (:mod:`simlab.columnar`) keeps, beside its
``generated_feeds`` rows, the same feeds as items::

    run_id, turn_number, agent_handle, rank (1 = top), post_id

so analytics counts and joins feed items without parsing JSON per query (the
``feed_items`` view of :mod:`simlab.analytics.views`). The rows are exactly
what DuckDB's ``unnest(from_json(post_ids, '["VARCHAR"]'))`` gives.

Procedure: a batch whose ``post_ids`` are all JSON arrays of strings without
backslashes (what the recorder writes) is split in Arrow's compute kernels
(:func:`_split`): inside a JSON string without escapes a quote cannot occur,
so the split points are exactly the element boundaries. Any other batch is
parsed with :func:`json.loads`; an array holding something other than
strings and nulls raises :class:`NotStrings` (the caller then explodes that
run's JSON in DuckDB instead of keeping items).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simlab.sqlite_arrow import column_array

SCHEMA = pa.schema(
    [
        ("run_id", pa.dictionary(pa.int32(), pa.string())),
        ("turn_number", pa.int64()),
        ("agent_handle", pa.dictionary(pa.int32(), pa.string())),
        ("rank", pa.int32()),
        ("post_id", pa.string()),
    ]
)
KEYS = ("run_id", "turn_number", "agent_handle")


class NotStrings(ValueError):
    """A ``post_ids`` value that is not a JSON array of strings (or nulls)."""


def _has_byte(strings: pa.Array, byte: bytes) -> bool:
    """Whether ``byte`` occurs in the data of ``strings`` (memchr over its one data buffer)."""
    data = strings.buffers()[2]
    return data is not None and data.to_pybytes().find(byte) >= 0


def _split(post_ids: pa.Array) -> pa.ListArray | None:
    """Plain JSON string arrays split in Arrow, or None when a value is not one.

    A value qualifies if it starts with ``["``, ends with ``"]`` and has no
    backslash; it is cut at ``","`` (the recorder's separator) or else at a
    quote-comma-quote with whitespace. The cut is right only if no piece
    still holds a quote (a quote ends a JSON string that has no escapes).
    """
    framed = pc.and_(pc.starts_with(post_ids, '["'), pc.ends_with(post_ids, '"]'))
    if post_ids.null_count or not pc.all(framed).as_py() or _has_byte(post_ids, b"\\"):
        return None
    inner = pc.utf8_slice_codeunits(post_ids, 2, -2)
    for cut in (lambda: pc.split_pattern(inner, '","'), lambda: _split_spaced(inner)):
        lists = cut()
        if not _has_byte(pc.list_flatten(lists), b'"'):
            return lists
    return None


def _split_spaced(inner: pa.Array) -> pa.ListArray:
    return pc.split_pattern_regex(inner, r'"\s*,\s*"')


def _parsed(post_ids: pa.Array) -> pa.ListArray:
    """Each ``post_ids`` value parsed with :func:`json.loads` (null for NULL).

    Raises:
        NotStrings: a value is not an array of strings and nulls.
    """
    parsed = [None if text is None else json.loads(text) for text in post_ids.to_pylist()]
    for items in parsed:
        if items is not None and not (
            isinstance(items, list) and all(i is None or isinstance(i, str) for i in items)
        ):
            raise NotStrings(f"post_ids {json.dumps(items)[:80]} is not an array of strings")
    flat = [i for items in parsed if items for i in items]
    sizes = np.fromiter((len(items or ()) for items in parsed), np.int64, len(parsed))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
    nulls = np.fromiter((items is None for items in parsed), bool, len(parsed))
    return pa.ListArray.from_arrays(
        numbers_array(offsets, pa.int32()),
        column_array(flat, pa.string()),
        mask=pa.Array.from_buffers(
            pa.bool_(), len(nulls), [None, pa.py_buffer(np.packbits(nulls, bitorder="little"))]
        ),
    )


def numbers_array(values: np.ndarray, kind: pa.DataType) -> pa.Array:
    """A numpy array without nulls as an Arrow array (``pa.array`` would import pandas)."""
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _values(array: pa.Array) -> np.ndarray:
    """The values of an int32 or int64 array without nulls, as numpy (no pandas import)."""
    dtype = {pa.int32(): np.int32, pa.int64(): np.int64}[array.type]
    data = np.frombuffer(array.buffers()[1], dtype=dtype)
    return data[array.offset : array.offset + len(array)]


def explode(feeds: pa.RecordBatch) -> pa.RecordBatch:
    """The items of ``feeds`` (columns run_id, turn_number, agent_handle, post_ids).

    Returns:
        A batch of :data:`SCHEMA`, the feeds' order kept and each feed's items
        in rank order.

    Raises:
        NotStrings: a ``post_ids`` value holds something other than strings.
    """
    feeds = feeds.filter(pc.invert(pc.starts_with(feeds.column("post_ids"), "[]")))  # no items
    post_ids = feeds.column("post_ids")
    lists = _split(post_ids) or _parsed(post_ids)
    parents = pc.list_parent_indices(lists)
    flat = pc.list_flatten(lists)
    offsets = _values(lists.offsets)
    starts = offsets[_values(parents)] - offsets[0]
    rank = np.arange(len(flat), dtype=np.int32) - starts + 1
    keys = [feeds.column(key) for key in KEYS]
    # run and agent repeat for every item: taken as dictionary indices, written as such
    columns = [
        pc.take(k if k.type == pa.int64() else pc.dictionary_encode(k), parents) for k in keys
    ]
    return pa.record_batch([*columns, numbers_array(rank, pa.int32()), flat], schema=SCHEMA)
