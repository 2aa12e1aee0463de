"""A run's columnar copy written while the run is written, so completing it reads no rows back.

:func:`simlab.columnar.write_copy` reads a completed run's rows back from
SQLite and writes them to Parquet. For a run started fresh in a SQLite file
by the rule-based engine, :class:`ColumnarStream` instead takes each
committed turn's columns (:class:`simlab.turn_rows.TableRows`, the same
values the SQLite rows were made of) and appends them, as Arrow record
batches of the table's schema (:func:`simlab.columnar.run_tables`), to one
Parquet file per table under a temporary name in the run's copy folder;
the feed items come from the feeds' index arrays
(:class:`simlab.turn_rows.FeedItems`), not from parsing their JSON.
At completion :func:`simlab.columnar.write_copy` keeps a streamed file
(renames it into place) when its row count equals the table's in SQLite,
and reads everything else (the small tables, a table the stream gave up
on) as before; the manifest is the same either way.

A table whose schema has columns the turn does not fill, or whose values
do not convert, is dropped from the stream (read back at completion).
Batches are buffered to :data:`simlab.sqlite_arrow.BATCH_ROWS` rows per
Parquet row group. Arrow builds the arrays and Parquet encodes them on a
worker thread of its own, after the turn's SQLite transaction. A failed or
cancelled run deletes its temporary files (:meth:`ColumnarStream.discard`);
a killed process's are swept by the next :func:`~simlab.columnar.write_copy`
of the run, like any crashed copy's.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simlab import feed_items
from simlab.columnar import run_dir, run_tables
from simlab.columnar_write import ACTIONS, FEEDS, ITEMS_FILE, ParquetFile, table_file, turn_counts
from simlab.sqlite_arrow import BATCH_ROWS, column_array, open_read_only, repeated
from simlab.turn_rows import COLUMNS, Constant, FeedItems, TableRows

log = logging.getLogger("simlab.columnar")

THREAD_NAME = "simlab-columnar"
_END, _DROP = object(), object()  # the stream thread's stop signals: flush first, or not


def _array(values: list | Constant, kind: pa.DataType, n: int) -> pa.Array:
    """One column of a :class:`TableRows` as an Arrow array of ``kind`` (a SQLite affinity type)."""
    if not isinstance(values, Constant):
        return column_array(values, kind)
    if values.value is None:
        return pa.nulls(n, kind)
    if kind == pa.string():
        return repeated(values.value, n)
    return column_array([values.value] * n, kind)


class StreamedTable:
    """One table's streamed Parquet file (and, for the feeds, its items' file).

    ``rows`` counts the rows written; :meth:`keep` renames the files into
    place and returns what :func:`simlab.columnar_write.write_table` would.
    """

    def __init__(self, folder: Path, table: str, schema: pa.Schema) -> None:
        self.table = table
        self.schema = schema
        self.rows = 0
        self.turns: Counter = Counter()
        self.files = [ParquetFile(folder / table_file(table), schema)]
        if table == FEEDS:
            self.files.append(ParquetFile(folder / ITEMS_FILE, feed_items.SCHEMA))
        self._buffers: list[list[pa.RecordBatch]] = [[] for _ in self.files]

    @property
    def scratches(self) -> set[Path]:
        """The temporary files being written."""
        return {file.scratch for file in self.files}

    def add(self, batches: list[pa.RecordBatch], turn: int) -> None:
        """Append one turn's batch (and its items), writing a row group per BATCH_ROWS rows."""
        for buffer, file, batch in zip(self._buffers, self.files, batches, strict=True):
            buffer.append(batch)
            if sum(b.num_rows for b in buffer) >= BATCH_ROWS:
                self._flush(buffer, file)
        self.rows += batches[0].num_rows
        if batches[0].num_rows:
            self.turns[turn] += batches[0].num_rows

    @staticmethod
    def _flush(buffer: list[pa.RecordBatch], file: ParquetFile) -> None:
        if buffer:
            file.write_table(pa.Table.from_batches(buffer))
            buffer.clear()

    def close(self) -> None:
        """Write what is buffered (the files stay under their temporary names)."""
        for buffer, file in zip(self._buffers, self.files, strict=True):
            self._flush(buffer, file)

    def keep(self) -> dict:
        """Rename the files into place; return the manifest extras (feed items, turn counts)."""
        for file in self.files:
            file.keep()
        if self.table == FEEDS:
            return {"feed_items": {"rows": self.files[1].rows, "file": ITEMS_FILE}}
        if self.table in ACTIONS:
            return {"turn_counts": turn_counts(self.turns)}
        return {}

    def discard(self) -> None:
        """Delete the temporary files (a no-op for files already kept)."""
        for file in self.files:
            file.discard()


class ColumnarStream:
    """The streamed copy of one run: per-table Parquet files fed turn by turn on a thread.

    Args:
        folder: the run's copy folder (:func:`simlab.columnar.run_dir`).
        schemas: the Arrow schema of each table to stream.
        run_id: the run's id.
        handles: the population's agent handles (what feed items' ``agent`` indexes).
    """

    def __init__(
        self, folder: Path, schemas: dict[str, pa.Schema], run_id: str, handles: np.ndarray
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.run_id = run_id
        self._handles = column_array(handles.tolist(), pa.string())
        self.tables = {t: StreamedTable(folder, t, s) for t, s in schemas.items()}
        self._post_ids = column_array([], pa.string())  # pa.array would import pandas
        self._queue: queue.Queue = queue.Queue(maxsize=2)
        self._ended = False
        self._thread = threading.Thread(target=self._work, name=THREAD_NAME, daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, path: Path, run_id: str, handles: np.ndarray) -> ColumnarStream | None:
        """A stream for run ``run_id`` of the SQLite file ``path``, or None if none can be written.

        Streams the tables of :data:`simlab.turn_rows.COLUMNS` whose columns are
        exactly the ones a turn fills.
        """
        try:
            source = open_read_only(path)
            try:
                schemas = run_tables(source)
            finally:
                source.close()
            wanted = {
                t: s for t, s in schemas.items() if t in COLUMNS and set(s.names) == set(COLUMNS[t])
            }
            return cls(run_dir(path, run_id), wanted, run_id, handles)
        except (OSError, sqlite3.Error) as exc:
            log.warning("columnar: not streaming run %s (%s); copied at completion", run_id, exc)
            return None

    def add(self, turn: int, tables: dict[str, TableRows], items: FeedItems) -> None:
        """Queue one committed turn's rows (blocks while two turns wait)."""
        self._queue.put((turn, tables, items))

    def _work(self) -> None:
        while (job := self._queue.get()) is not _DROP:
            if job is _END:  # flush what is buffered while the run completes
                self._each_table(self._close)
                return
            self._each_table(self._add, *job)

    def _each_table(self, work, *args) -> None:
        """``work(name, *args)`` for each streamed table; one whose work fails is read back."""
        for name in list(self.tables):
            try:
                work(name, *args)
            except Exception as exc:  # noqa: BLE001  (that table is read back at completion)
                log.debug("columnar: stopped streaming %s of %s (%s)", name, self.run_id, exc)
                self.tables.pop(name).discard()

    def _close(self, name: str) -> None:
        self.tables[name].close()

    def _add(self, name: str, turn: int, tables: dict[str, TableRows], items: FeedItems) -> None:
        streamed, rows = self.tables[name], tables[name]
        columns = [_array(rows.columns[f.name], f.type, rows.n) for f in streamed.schema]
        batches = [pa.record_batch(columns, schema=streamed.schema)]
        if name == FEEDS:
            batches.append(self._items(turn, items))
        streamed.add(batches, turn)

    def _items(self, turn: int, items: FeedItems) -> pa.RecordBatch:
        """The turn's feed items as a batch of :data:`simlab.feed_items.SCHEMA`."""
        known = len(self._post_ids)
        if len(items.post_ids) > known:  # posts published since the last turn
            new = column_array(items.post_ids[known:].tolist(), pa.string())
            self._post_ids = pa.concat_arrays([self._post_ids, new])
        n = len(items.post)
        zeros = feed_items.numbers_array(np.zeros(n, np.int32), pa.int32())
        run = pa.DictionaryArray.from_arrays(zeros, repeated(self.run_id, 1))
        indices = feed_items.numbers_array(items.agent.astype(np.int32), pa.int32())
        posts = np.ascontiguousarray(items.post, dtype=np.int64)
        agents = pa.DictionaryArray.from_arrays(indices, self._handles)  # Arrow indices: no pandas
        return pa.record_batch(
            [
                run,
                column_array([turn] * n, pa.int64()),
                agents,
                feed_items.numbers_array(items.rank, pa.int32()),
                pc.take(self._post_ids, feed_items.numbers_array(posts, pa.int64())),
            ],
            schema=feed_items.SCHEMA,
        )

    def end(self) -> None:
        """No more turns: the thread writes what is buffered and stops (without waiting)."""
        if not self._ended:
            self._ended = True
            self._queue.put(_END)

    def finish(self) -> dict[str, StreamedTable]:
        """Wait until every queued turn is written and the files closed; return the tables."""
        self.end()
        self._thread.join()
        return self.tables

    def discard(self) -> None:
        """Stop and delete every temporary file (a failed or cancelled run)."""
        if not self._ended:
            self._ended = True
            self._queue.put(_DROP)
        self._thread.join()
        for table in self.tables.values():
            table.discard()
        try:
            self.folder.rmdir()  # only if empty: a copy written before stays
        except OSError:
            pass
