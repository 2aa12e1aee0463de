"""``simlab export``: runs (or one comparison) as Parquet per table, configs as JSON, a manifest.

The folder written::

    manifest.json                 revision, simlab version, selection, sha256 + rows per file
    tables/<table>.parquet        the rows of every table in the bundle's scope
    configs/runs/<run_id>.json    each run's stored config
    configs/comparison.json       the comparison's config (``--comparison`` only)

Rows are read in one snapshot (a read transaction on SQLite, REPEATABLE READ
on PostgreSQL) and sorted by primary key, so the same database gives a
byte-identical bundle. The folder appears only when complete: everything is
written to a hidden sibling folder first and renamed at the end.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, Engine

import simlab
from simlab.bundle.manifest import arrow_schema, file_entry, write_manifest
from simlab.bundle.scope import Selection, bundle_tables, row_filter
from simlab.db import current_revision, make_engine
from simlab.errors import InputError
from simlab.schema import comparison_runs, comparisons, metadata, run_configs, runs

BATCH_ROWS = 50_000


@dataclass(frozen=True)
class Exported:
    """What one export wrote."""

    folder: Path
    selection: Selection
    rows: dict[str, int]  # table -> rows written
    bytes: int


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one consistent state of the database."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN")  # pysqlite would not begin for SELECTs
        try:
            yield connection
        finally:
            connection.rollback()


def _selection(connection: Connection, run_ids: Sequence[str], comparison_id: str | None):
    if comparison_id is not None:
        if (
            connection.execute(
                select(comparisons.c.comparison_id).where(
                    comparisons.c.comparison_id == comparison_id
                )
            ).first()
            is None
        ):
            raise InputError(
                f"--comparison: unknown comparison {comparison_id!r}; `simlab report` lists "
                "the latest, `simlab runs` the runs"
            )
        members = connection.execute(
            select(comparison_runs.c.run_id)
            .where(comparison_runs.c.comparison_id == comparison_id)
            .order_by(comparison_runs.c.arm, comparison_runs.c.replicate)
        ).scalars()
        return Selection(tuple(members), comparison_id)
    wanted = tuple(dict.fromkeys(run_ids))
    found = set(
        connection.execute(select(runs.c.run_id).where(runs.c.run_id.in_(wanted))).scalars()
    )
    missing = [r for r in wanted if r not in found]
    if missing:
        raise InputError(f"unknown run id {missing[0]!r}; `simlab runs` lists the runs")
    return Selection(wanted)


def _write_table(connection: Connection, table, selection: Selection, path: Path) -> int:
    schema = arrow_schema(table)
    order = list(table.primary_key.columns) or list(table.columns)
    query = select(table).where(row_filter(table, selection)).order_by(*order)
    result = connection.execution_options(yield_per=BATCH_ROWS).execute(query)
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for partition in result.partitions():
            columns = zip(*partition, strict=True)
            arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)]
            writer.write_batch(pa.record_batch(arrays, schema=schema))
            rows += len(partition)
    return rows


def _write_json(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n", "utf-8")


def _write_configs(connection: Connection, selection: Selection, folder: Path) -> list[Path]:
    written = []
    stored = connection.execute(
        select(run_configs.c.run_id, run_configs.c.config_json).where(
            run_configs.c.run_id.in_(selection.run_ids)
        )
    )
    for run_id, config_json in stored:
        path = folder / "configs" / "runs" / f"{run_id}.json"
        _write_json(path, config_json)
        written.append(path)
    if selection.comparison_id is not None:
        config_json = connection.execute(
            select(comparisons.c.config_json).where(
                comparisons.c.comparison_id == selection.comparison_id
            )
        ).scalar_one()
        path = folder / "configs" / "comparison.json"
        _write_json(path, config_json)
        written.append(path)
    return written


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"--out: {out} exists and is not an empty folder; give a new folder")
    if not out.parent.is_dir():
        raise InputError(f"--out: folder {out.parent} does not exist")
    if not os.access(out.parent, os.W_OK | os.X_OK):
        raise InputError(f"--out: folder {out.parent} is not writable")


def export_bundle(
    db: str | os.PathLike | None,
    out: str | os.PathLike,
    run_ids: Sequence[str] = (),
    comparison_id: str | None = None,
) -> Exported:
    """Write the bundle of ``run_ids`` (or of comparison ``comparison_id``) into folder ``out``.

    Raises:
        InputError: both or neither of runs and comparison given, an unknown id,
            a database without the simlab schema, or ``out`` not a new folder.
    """
    if bool(run_ids) == (comparison_id is not None):
        raise InputError("give RUN_ID... or --comparison ID (one of them)")
    out = Path(out)
    _check_out(out)
    engine = make_engine(db, must_exist=True)
    try:
        revision = current_revision(engine)
        if revision is None:
            raise InputError("--db: the database has no simlab schema; nothing to export")
        present = set(inspect(engine).get_table_names())
        with snapshot(engine) as connection:
            selection = _selection(connection, run_ids, comparison_id)
            partial = out.parent / f".{out.name}.partial-{os.getpid()}"
            try:
                return _write(connection, selection, present, revision, partial, out)
            finally:
                shutil.rmtree(partial, ignore_errors=True)
    finally:
        engine.dispose()


def _write(connection, selection, present, revision, partial: Path, out: Path) -> Exported:
    (partial / "tables").mkdir(parents=True)
    entries, rows = [], {}
    for table in bundle_tables(metadata, selection):
        if table.name not in present:
            continue  # a table of a newer revision than the database's
        path = partial / "tables" / f"{table.name}.parquet"
        rows[table.name] = _write_table(connection, table, selection, path)
        entries.append(file_entry(partial, path, table.name, rows[table.name]))
    for path in _write_configs(connection, selection, partial):
        entries.append(file_entry(partial, path, None, None))
    write_manifest(partial, revision, simlab.__version__, selection, entries)
    if out.exists():
        out.rmdir()  # the empty folder the user named
    partial.rename(out)
    return Exported(out, selection, rows, sum(e["bytes"] for e in entries))
