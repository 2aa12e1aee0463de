"""A feed's ``post_ids`` JSON exploded to one row per served item, in Arrow.

The columnar copy of a run (:mod:`simlab.columnar`) keeps, beside its
``generated_feeds`` rows, the same feeds as items::

    run_id, turn_number, agent_handle, rank (1 = top), post_id

so analytics counts and joins feed items without parsing JSON per query (the
``feed_items`` view of :mod:`simlab.analytics.views`). The rows are exactly
what DuckDB's ``unnest(from_json(post_ids, '["VARCHAR"]'))`` gives.

Procedure: a ``post_ids`` value that is a JSON array of strings without
backslashes (what the recorder writes) is split in Arrow's compute kernels
(strip ``["`` and ``"]``, split at ``","`` with any whitespace around the
comma): inside a JSON string without escapes a quote cannot occur, so the
split points are exactly the element boundaries. Any other value is parsed
with :func:`json.loads`; an array holding something other than strings and
nulls raises :class:`NotStrings` (the caller then explodes that run's JSON
in DuckDB instead of keeping items).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simlab.sqlite_arrow import column_array

SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("turn_number", pa.int64()),
        ("agent_handle", pa.string()),
        ("rank", pa.int32()),
        ("post_id", pa.string()),
    ]
)
KEYS = ("run_id", "turn_number", "agent_handle")
_PLAIN = r'^\[\s*("[^"\\]*"(\s*,\s*"[^"\\]*")*)?\s*\]$'
_EMPTY = r"^\[\s*\]$"


class NotStrings(ValueError):
    """A ``post_ids`` value that is not a JSON array of strings (or nulls)."""


def _lists(post_ids: pa.Array) -> pa.ListArray:
    """Each ``post_ids`` value (none an empty array) as a list<string> (null for NULL)."""
    plain = pc.match_substring_regex(post_ids, _PLAIN)
    if pc.all(plain).as_py() and post_ids.null_count == 0:
        inner = pc.replace_substring_regex(post_ids, r'^\[\s*"|"\s*\]$', "")
        return pc.split_pattern_regex(inner, r'"\s*,\s*"')
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
        _numbers(offsets, pa.int32()),
        column_array(flat, pa.string()),
        mask=pa.Array.from_buffers(
            pa.bool_(), len(nulls), [None, pa.py_buffer(np.packbits(nulls, bitorder="little"))]
        ),
    )


def _numbers(values: np.ndarray, kind: pa.DataType) -> pa.Array:
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
    feeds = feeds.filter(pc.invert(pc.match_substring_regex(feeds.column("post_ids"), _EMPTY)))
    lists = _lists(feeds.column("post_ids"))
    parents = pc.list_parent_indices(lists)
    flat = pc.list_flatten(lists)
    offsets = _values(lists.offsets)
    starts = offsets[_values(parents)] - offsets[0]
    rank = np.arange(len(flat), dtype=np.int32) - starts + 1
    columns = [pc.take(feeds.column(key), parents) for key in KEYS]
    return pa.record_batch([*columns, _numbers(rank, pa.int32()), flat], schema=SCHEMA)
