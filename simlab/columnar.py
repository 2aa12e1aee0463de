"""Columnar copies of finished runs: Parquet files per run, beside the SQLite file.

A run that is not being written does not change (``simlab resume`` makes a
failed or stale run ``running`` again first), so every run that is not
running gets a copy that analytics reads instead of the SQLite file::

    <db>.columnar/<run>/<table>.parquet   the run's rows of each table
                                          with a run_id column (none when 0 rows)
    <db>.columnar/<run>/+feed_items.parquet  its feeds' items, one row per
                                          served post (:mod:`simlab.feed_items`)
    <db>.columnar/<run>/manifest.json     run_id, checksum and, per table, its
                                          columns, row count and file; the
                                          feed items' row count and file; the
                                          likes, comments and follows per turn
    <db>.columnar/checked.json            the SQLite file's size and mtime at
                                          the last staleness check

**Key and staleness.** A copy is keyed by its run id and a checksum (SHA-256)
over each table's name, column list and row count for the run, and for the
small tables (the run's row, lease, config, comparison membership, metrics;
:mod:`simlab.run_counts`) a digest of the run's rows, so updates in place are
seen too. A copy whose
checksum differs from the database's (rows added, e.g. by ``simlab
evaluate``; the run resumed; a migration changed a table) is stale. Only
the tables whose columns or row count changed are rewritten; a missing copy
is written whole. Checking counts every run's rows per table (SQLite answers
from its run_id indexes); the check is skipped while the SQLite file and its
WAL keep the size and mtime recorded in ``checked.json``.

**When copies are written.** The process that completes a run writes its copy
right after marking it completed (:func:`copy_completed_run`, called by
:meth:`simlab.recorder.Recorder.complete`). A run started fresh in a SQLite
file by a policy without a per-run context (the rule-based engine) has
streamed its large tables while it ran (:mod:`simlab.columnar_stream`: each
committed turn's columns, the values its SQLite rows were made of, appended
to Parquet under temporary names, the feed items from the feeds' index
arrays); completion then reads back only the small tables and the row counts,
and keeps a streamed file when its row count equals the table's. Everything
else (resumed runs, LLM runs, a table the stream gave up on, any table a
revision adds) is read back (``WHERE run_id = ?``, answered from the run_id
indexes; ``generated_feeds``, whose seed primary key starts with the agent, is
scanned): a read of one run's freshly written (hence cached) pages, the feed
items exploded from the ``generated_feeds`` batches as they are written (never
re-read), and the Arrow arrays built from their buffers
(:func:`simlab.sqlite_arrow.column_array`), so the completing process imports
neither pandas nor DuckDB. Either way the manifest is the same. Other
runs (failed, stale, or written before this module existed) are copied when
:func:`current_copies` finds them missing, so a connect waits for at most
the copies that are missing or stale, never for the whole database.

**Atomic.** Each file is written under a temporary name in the run's folder
and renamed into place; the manifest is renamed last. A crash mid-copy leaves
the old manifest (stale, so rewritten) or none (missing, so written), never a
manifest naming half a file; leftover temporary files (a crashed copy's, or
a killed run's streamed files) are swept at the next write of that run's copy. Writers of one run serialise on ``<db>.columnar/.<run>.lock``.

Where copies cannot be written (a read-only folder), the runs without an
up-to-date copy are read through the attach, as before. The folder is
derived data: ``simlab rm`` deletes a run's copy with it, a
check deletes copies of runs the database no longer has (a database file
replaced in place), and it is never committed (``.gitignore``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import urllib.parse
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pyarrow as pa

from simlab import lifecycle
from simlab.columnar_write import ACTIONS, FEEDS, table_file, write_table
from simlab.db import sqlite_path
from simlab.run_counts import RUN_COLUMN, all_run_counts, run_counts
from simlab.sqlite_arrow import file_lock, open_read_only, table_schema

if TYPE_CHECKING:  # the stream imports this module (and the engine's row types)
    from simlab.columnar_stream import ColumnarStream, StreamedTable

log = logging.getLogger("simlab.columnar")

FORMAT = 3  # 2: feed items beside generated_feeds; 3: action counts per turn
MANIFEST = "manifest.json"
CHECKED = "checked.json"


def columnar_dir(path: Path) -> Path:
    """Where the copies of the SQLite file ``path`` live: ``<db>.columnar/``."""
    return path.with_name(path.name + ".columnar")


def run_dir(path: Path, run_id: str) -> Path:
    """The folder of run ``run_id``'s copy (the id, percent-encoded to a safe file name)."""
    return columnar_dir(path) / urllib.parse.quote(run_id, safe="-_")


def run_tables(source: sqlite3.Connection) -> dict[str, pa.Schema]:
    """Every table of ``source`` with a ``run_id`` column, with its Arrow schema.

    Views are not copied: the analytics connection rebuilds them in DuckDB
    over the copied tables (e.g. ``agent_leanings`` over ``agent_leaning_changes``).
    """
    names = source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    schemas = {name: table_schema(source, name) for (name,) in names}
    return {name: schema for name, schema in schemas.items() if RUN_COLUMN in schema.names}


def checksum(schemas: dict[str, pa.Schema], counts: dict) -> str:
    """SHA-256 over each table's name, columns and row count for one run (and in-place rows)."""
    key = [[t, *_entry_key(schemas[t], counts, t)] for t in sorted(schemas)]
    return hashlib.sha256(json.dumps([FORMAT, key]).encode()).hexdigest()


def _entry_key(schema: pa.Schema, counts: dict, table: str) -> tuple[list[str], int, str | None]:
    """What a table's file depends on: columns, row count and (small tables) rows' digest."""
    return schema.names, counts.get(table, 0), counts.get(f"{table} digest")


def read_manifest(folder: Path) -> dict | None:
    """A copy's manifest, or None when it is missing or unreadable."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("format") == FORMAT else None


def _write_json(target: Path, value: dict) -> None:
    scratch = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    scratch.write_text(json.dumps(value, indent=1))
    os.replace(scratch, target)


def _has_file(folder: Path, entry: dict) -> bool:
    """Whether a manifest entry's file (if it names one) is there."""
    return entry["file"] is None or (folder / entry["file"]).exists()


def _write_tables(
    source: sqlite3.Connection,
    folder: Path,
    schemas: dict[str, pa.Schema],
    counts: dict,
    old: dict | None,
    run_id: str,
    streamed: dict[str, StreamedTable],
) -> tuple[dict, dict, dict]:
    """Write each table whose entry changed (or whose file is gone).

    A table streamed during the run (:mod:`simlab.columnar_stream`) with the
    row count of the database keeps its streamed file instead of a re-read.

    Returns:
        The table entries, the feed items' entry and the action tables' counts
        per turn (:func:`simlab.columnar_write.write_table`), kept from ``old``
        for the tables not rewritten.
    """
    tables, items, turns = {}, {"rows": 0, "file": None}, {}
    for table, schema in schemas.items():
        columns, rows, digest = _entry_key(schema, counts, table)
        entry = {"columns": columns, "rows": rows, "digest": digest, "file": None}
        if entry["rows"]:
            entry["file"] = table_file(table)
            kept = (old or {}).get("tables", {}).get(table)
            unchanged = kept == entry and (folder / entry["file"]).exists()
            if table == FEEDS:
                unchanged = unchanged and _has_file(folder, old["feed_items"])
            if table in ACTIONS:
                unchanged = unchanged and table in old["turn_counts"]
            stream = streamed.get(table)
            if unchanged:
                written = {}
            elif stream is not None and stream.rows == rows and stream.schema == schema:
                written = stream.keep()
                log.debug("columnar: kept the streamed %s of run %s", table, run_id)
            else:
                written = write_table(source, table, schema, run_id, folder / entry["file"])
            if table == FEEDS:
                items = written.get("feed_items", old["feed_items"] if unchanged else items)
            if table in ACTIONS:
                found = written.get(
                    "turn_counts", old["turn_counts"].get(table) if unchanged else None
                )
                if found is not None:
                    turns[table] = found
        tables[table] = entry
    return tables, items, turns


def write_copy(path: Path, run_id: str, stream: ColumnarStream | None = None) -> dict:
    """Write (or bring up to date) run ``run_id``'s copy; return its manifest.

    Reads the run's rows in one SQLite read transaction, so the counts in the
    manifest are those of the rows in the files. Tables whose columns and row
    count match the existing manifest keep their file; the tables of the run's
    ``stream`` (:class:`simlab.columnar_stream.ColumnarStream`, finished here,
    after the counts: it flushes meanwhile) with the database's row count keep
    theirs. The stream's files not kept are deleted.
    """
    try:
        return _write_copy(path, run_id, stream)
    finally:
        if stream is not None:
            stream.discard()


def _write_copy(path: Path, run_id: str, stream: ColumnarStream | None) -> dict:
    folder = run_dir(path, run_id)
    folder.parent.mkdir(exist_ok=True)
    with file_lock(_lock_path(folder)):
        source = open_read_only(path)
        try:
            source.execute("BEGIN")  # one snapshot: counts and rows agree
            schemas = run_tables(source)
            counts = run_counts(source, schemas, run_id)
            old = read_manifest(folder)
            wanted = checksum(schemas, counts)
            if old is not None and old["checksum"] == wanted:
                return old
            folder.mkdir(exist_ok=True)
            streamed = stream.finish() if stream is not None else {}
            ours = set().union(*(table.scratches for table in streamed.values()))
            for leftover in (
                set(folder.glob(".*.tmp")) - ours
            ):  # a crashed writer's: we hold the lock
                leftover.unlink(missing_ok=True)
            tables, items, turns = _write_tables(
                source, folder, schemas, counts, old, run_id, streamed
            )
            manifest = {
                "format": FORMAT,
                "run_id": run_id,
                "checksum": wanted,
                "tables": tables,
                "feed_items": items,
                "turn_counts": turns,
            }
            _write_json(folder / MANIFEST, manifest)
        finally:
            source.close()
        used = {e["file"] for e in tables.values()} | {MANIFEST, items["file"]}
        for file in folder.iterdir():
            if file.name not in used and not file.name.startswith("."):
                file.unlink(missing_ok=True)  # a table that has no rows any more
    log.debug("columnar: wrote the copy of run %s", run_id)
    return manifest


def database_path(engine) -> Path | None:
    """The SQLite file behind ``engine`` (None for PostgreSQL or an in-memory database)."""
    return sqlite_path(engine.url.render_as_string(hide_password=False))


def copy_completed_run(engine, run_id: str, stream: ColumnarStream | None = None) -> None:
    """Write the copy of a run its own process just completed (SQLite only; never raises).

    ``stream``: the run's streamed copy (:mod:`simlab.columnar_stream`), whose
    tables :func:`write_copy` keeps. A failure is logged, not raised: the run
    is complete either way, and the next :func:`current_copies` writes the
    missing copy.
    """
    path = database_path(engine)
    try:
        if path is not None:
            write_copy(path, run_id, stream)
    except Exception as exc:  # noqa: BLE001  (derived data: rebuilt on demand)
        log.warning("columnar: no copy of run %s yet (%s); it is made on next read", run_id, exc)
    finally:
        if stream is not None:
            stream.discard()


def run_states(source: sqlite3.Connection) -> dict[str, str]:
    """Every run's lifecycle state (:func:`simlab.lifecycle.state`) through ``sqlite3``."""
    fields = ("run_id", "status", "pid", "host", "heartbeat_at", "lease_expires_at", "released_at")
    rows = source.execute(lifecycle._STATE_SQL).fetchall()
    leases = [SimpleNamespace(**dict(zip(fields, row, strict=True))) for row in rows]
    return {lease.run_id: lifecycle.state(lease.status, lease) for lease in leases}


def _file_fingerprint(path: Path) -> list:
    """Size and mtime of the SQLite file and its WAL: any commit changes one of them."""
    parts = []
    for file in (path, Path(f"{path}-wal")):
        stat = file.stat() if file.exists() else None
        parts.append([stat.st_size, stat.st_mtime_ns] if stat and stat.st_size else None)
    return parts


def current_copies(path: Path) -> tuple[dict[str, dict], list[str]]:
    """Up-to-date copies of every run that is not running, writing those missing or stale.

    Returns:
        The manifests by run id, and the ids of the runs being written (read
        through the attach, not copied).
    """
    folder = columnar_dir(path)
    fingerprint = _file_fingerprint(path)
    source = open_read_only(path)
    try:
        states = run_states(source)
        finished = sorted(r for r, s in states.items() if s != "running")
        live = sorted(r for r, s in states.items() if s == "running")
        checked = _read_checked(folder)
        manifests = {r: read_manifest(run_dir(path, r)) for r in finished}
        if checked.get("fingerprint") == fingerprint and all(
            m is not None and checked["checksums"].get(r) == m["checksum"]
            for r, m in manifests.items()
        ):
            return manifests, live
        source.execute("BEGIN")
        schemas = run_tables(source)
        counts, tables = all_run_counts(source, schemas, checked.get("tables", {}))
        source.execute("COMMIT")
    finally:
        source.close()
    try:
        _remove_orphans(path, set(states))
        for run in finished:
            manifest = manifests[run]
            if manifest is None or manifest["checksum"] != checksum(schemas, counts.get(run, {})):
                manifests[run] = write_copy(path, run)
        if finished or folder.exists():
            folder.mkdir(exist_ok=True)
            sums = {r: m["checksum"] for r, m in manifests.items()}
            record = {"fingerprint": fingerprint, "checksums": sums, "tables": tables}
            _write_json(folder / CHECKED, record)
    except OSError as exc:  # e.g. a read-only folder: what is not up to date is read live
        log.warning("columnar: cannot write copies beside %s (%s); reading the file", path, exc)
        wanted = {r: checksum(schemas, counts.get(r, {})) for r in finished}
        current = {r: m for r, m in manifests.items() if m and m["checksum"] == wanted[r]}
        return current, sorted(set(states) - set(current))
    return manifests, live


def _remove_orphans(path: Path, known: set[str]) -> None:
    """Delete copies of runs that are not in the database (removed, or a replaced file's)."""
    folder = columnar_dir(path)
    if not folder.exists():
        return
    for copy in folder.iterdir():
        manifest = read_manifest(copy) if copy.is_dir() else None
        if manifest is None or manifest["run_id"] in known:
            continue
        with file_lock(_lock_path(copy)):
            source = open_read_only(path)
            try:  # asked again under the lock: a run completing now writes its row first
                exists = source.execute(
                    "SELECT 1 FROM runs WHERE run_id = ?", (manifest["run_id"],)
                ).fetchone()
            finally:
                source.close()
            if exists is None:
                shutil.rmtree(copy, ignore_errors=True)


def _read_checked(folder: Path) -> dict:
    try:
        checked = json.loads((folder / CHECKED).read_text())
    except (OSError, ValueError):
        return {}
    return checked if isinstance(checked, dict) and "checksums" in checked else {}


def remove_copies(path: Path, run_ids) -> None:
    """Delete the copies of ``run_ids`` (after ``simlab rm`` deleted their rows)."""
    folder = columnar_dir(path)
    if not folder.exists():
        return
    for run in run_ids:
        copy = run_dir(path, run)
        lock = _lock_path(copy)
        with file_lock(lock):
            shutil.rmtree(copy, ignore_errors=True)
        lock.unlink(missing_ok=True)


def adopt_copy(copy: Path, path: Path, run_id: str) -> bool:
    """Move a finished copy written beside another file (a sweep shard) to ``path``'s.

    Used when run ``run_id``'s rows were merged into ``path`` unchanged, so the copy
    and its manifest still describe them. Returns False when ``path`` already has a
    copy of the run (kept) or the move failed (a copy is derived data: it is written
    from the database when first read).
    """
    target = run_dir(path, run_id)
    try:
        target.parent.mkdir(exist_ok=True)
        with file_lock(_lock_path(target)):
            if target.exists():
                return False
            shutil.move(copy, target)
    except OSError:
        return False
    return True


def _lock_path(copy: Path) -> Path:
    """The lock file that writers, movers and removers of one run's copy serialise on."""
    return copy.parent / f".{copy.name}.lock"
