"""Packs: the columnar copies of many finished runs in one Parquet file per table.

A query over a comparison or a sweep reads every run's copy
(:mod:`simlab.columnar`). With one file per run and table, a 64-run sweep
is 64 files per table, and DuckDB's per-file cost (open, footer, a scan
of its own) comes to dominate queries that are cheap on the rows
(``bench_analytics.py --runs 64``). A pack writes the copies of a set of
runs once more, one file per table with a row group per run::

    <db>.columnar/+packs/<id>/<table>.parquet   the runs' rows, run by run
    <db>.columnar/+packs/<id>/+feed_items.parquet
    <db>.columnar/+packs/<id>/manifest.json     format, the runs with the
                                                checksum of the copy packed,
                                                and the file of each table

A pack holds exactly the rows of its runs' copies, so it is current for a
run while that run's copy has the checksum the pack recorded; analytics
reads a run from a pack only then (:func:`current_packs`), otherwise from its
own copy or through the attach, as before. The per-run copies stay: they
are what staleness is checked against and what a stale run is rewritten
from, and they keep analytics correct if a pack is lost. A pack none of
whose runs is current any more is deleted by the next :func:`current_packs`;
as with a run's copy deleted by ``simlab rm``, a connection opened before
then fails on the files it named and is reopened to see the change.

:func:`simlab.compare.compare` and the sweep runner pack their runs when
they finish (:func:`pack_after`); a pack is derived data, so a failure to
write one is logged and never fails the comparison. The pack is written in
a temporary folder and renamed into place whole.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from simlab import columnar
from simlab.db import sqlite_path
from simlab.ids import new_id

log = logging.getLogger("simlab.columnar")

PACK_FORMAT = 1
PACKS = "+packs"  # "+" is never in a run's folder name (percent-encoded)
ITEMS = "+feed_items"  # the pack's key for the runs' feed items
MIN_RUNS = 2  # one run's pack would only duplicate its copy
ROW_GROUP_ROWS = 250_000


def packs_dir(path: Path) -> Path:
    """Where the packs of the SQLite file ``path`` live: ``<db>.columnar/+packs/``."""
    return columnar.columnar_dir(path) / PACKS


def _sources(path: Path, manifest: dict) -> dict[str, Path]:
    """A run copy's data files by table (feed items under :data:`ITEMS`)."""
    folder = columnar.run_dir(path, manifest["run_id"])
    files = {t: folder / e["file"] for t, e in manifest["tables"].items() if e["file"]}
    if manifest["feed_items"]["file"]:
        files[ITEMS] = folder / manifest["feed_items"]["file"]
    return files


@dataclass(frozen=True)
class Pack:
    """A pack on disk and the runs analytics may read from it."""

    folder: Path
    tables: dict[str, str]  # table (or ITEMS) -> file name in the folder
    runs: list[str]  # the runs it is current for
    complete: bool  # current for every run it holds (no filter needed)

    def file(self, table: str) -> Path | None:
        """The pack's file of ``table`` (:data:`ITEMS` for the feed items), or None."""
        name = self.tables.get(table)
        return self.folder / name if name else None


def _read_pack(folder: Path) -> dict | None:
    try:
        manifest = json.loads((folder / columnar.MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(manifest, dict) and manifest.get("format") == PACK_FORMAT
    return manifest if ok else None


def pack_runs(path: Path, run_ids) -> Path | None:
    """Write one pack of the current copies of ``run_ids``; return its folder.

    Runs without a copy, runs already in a current pack, runs whose
    table's columns differ from the first run's in that table (copies
    written before a migration) and runs whose feed items are not stored
    (feeds that are not arrays of strings) are left out. Returns None (nothing written)
    when fewer than :data:`MIN_RUNS` runs remain.
    """
    manifests, _ = columnar.current_copies(path)
    packed = {run for pack in current_packs(path, manifests) for run in pack.runs}
    chosen = [manifests[r] for r in sorted(set(run_ids)) if manifests.get(r) and r not in packed]
    sources = {m["run_id"]: _sources(path, m) for m in chosen}
    found = {
        run: {t: pq.read_schema(f) for t, f in files.items()} for run, files in sources.items()
    }
    schemas: dict[str, pa.Schema] = {}
    for run_schemas in found.values():
        for table, schema in run_schemas.items():
            schemas.setdefault(table, schema)
    misfits = {
        run
        for run, run_schemas in found.items()
        for table, schema in run_schemas.items()
        if not schema.equals(schemas[table])
    } | {m["run_id"] for m in chosen if m["feed_items"]["rows"] is None}  # items not stored
    chosen = [m for m in chosen if m["run_id"] not in misfits]
    if len(chosen) < MIN_RUNS:
        return None
    root = packs_dir(path)
    root.mkdir(parents=True, exist_ok=True)
    pack_id = new_id()
    scratch = root / f".{pack_id}.{os.getpid()}.tmp"
    scratch.mkdir()
    try:
        tables = _write_tables(scratch, schemas, [sources[m["run_id"]] for m in chosen])
        manifest = {
            "format": PACK_FORMAT,
            "runs": {m["run_id"]: m["checksum"] for m in chosen},
            "tables": tables,
        }
        (scratch / columnar.MANIFEST).write_text(json.dumps(manifest, indent=1))
        os.replace(scratch, root / pack_id)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    log.debug("columnar: packed %d runs into %s", len(chosen), pack_id)
    return root / pack_id


def _write_tables(folder: Path, schemas: dict, runs: list[dict[str, Path]]) -> dict[str, str]:
    """Each table's runs' files, in run order, into ``folder``; table -> file name.

    Runs are gathered into row groups of at least :data:`ROW_GROUP_ROWS` rows
    (small runs would otherwise make small row groups, each with its own
    per-group cost in every scan), so at most about that many rows are in
    memory at once. Each run's dictionary columns (run id, agent handles)
    come with their own dictionary; a row group's are unified first, or the
    Parquet writer falls back to plain strings for the whole column chunk
    (2.7 MB instead of 1 kB for 294,000 run ids), and DuckDB then groups by
    decoded strings: 2.2x slower on the feed items of 64 runs.
    """
    tables = {}
    for table, schema in sorted(schemas.items()):
        name = Path(next(files[table] for files in runs if table in files)).name
        with pq.ParquetWriter(folder / name, schema, compression="snappy") as writer:
            waiting, rows = [], 0
            for files in runs:
                if table not in files:
                    continue
                waiting.append(pq.read_table(files[table]))
                rows += waiting[-1].num_rows
                if rows >= ROW_GROUP_ROWS:
                    writer.write_table(_row_group(waiting), row_group_size=rows)
                    waiting, rows = [], 0
            if waiting:
                writer.write_table(_row_group(waiting), row_group_size=max(rows, 1))
        tables[table] = name
    return tables


def _row_group(tables: list[pa.Table]) -> pa.Table:
    """Runs' tables as one, every dictionary column sharing one dictionary (see above)."""
    return pa.concat_tables(tables).unify_dictionaries()


def current_packs(path: Path, manifests: dict[str, dict]) -> list[Pack]:
    """Each pack with the runs it is current for (their copy's checksum is the packed one).

    A run in two packs is served by the first (packs in name order); a pack
    that is current for no run is deleted.

    Args:
        path: the SQLite file.
        manifests: the current copies by run id (:func:`simlab.columnar.current_copies`).

    Returns:
        Every pack current for at least one run.
    """
    root = packs_dir(path)
    if not root.exists():
        return []
    found, served = [], set()
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        manifest = _read_pack(folder) or {}
        runs = [
            run
            for run, checksum in sorted(manifest.get("runs", {}).items())
            if run not in served and (manifests.get(run) or {}).get("checksum") == checksum
        ]
        if not runs:
            shutil.rmtree(folder, ignore_errors=True)
            continue
        served.update(runs)
        found.append(Pack(folder, manifest["tables"], runs, len(runs) == len(manifest["runs"])))
    return found


def pack_after(url: str, run_ids) -> None:
    """Pack the finished runs of a comparison or sweep at ``url`` (SQLite only; never raises)."""
    path = sqlite_path(url)
    if path is None:
        return
    try:
        pack_runs(path, run_ids)
    except Exception as exc:  # noqa: BLE001  (derived data: the per-run copies still serve)
        log.warning("columnar: runs not packed (%s); their own copies are read", exc)
