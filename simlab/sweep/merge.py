"""``simlab merge``: the completed runs of per-cell SQLite shards into the sweep's database.

A shard (:mod:`simlab.sweep.shards`) holds a copy of the database's population
and the runs of one cell. Merging it, in one transaction per shard:

1. The shard's population must be the database's: their population
   fingerprints (:mod:`simlab.sweep.fingerprint`) must be equal, else the
   shard is refused whole. The database's fingerprint is computed once per
   merge of many shards; a sweep's own merge also takes each shard's to be
   its template's (a page copy of it, and runs write no population table).
   Population rows are never copied.
2. Each completed run of the shard whose id the database has already must be
   the same run: its ``runs`` and ``run_configs`` rows (config, status,
   timestamps) must be identical. Then it was merged before and is skipped,
   so merging twice adds nothing; otherwise the id belongs to another run
   and the shard is refused whole, naming the row.
3. The other completed runs are copied table by table, parents first: the
   rows of every run-scoped table (:mod:`simlab.bundle.scope`) that belong
   to them, plus the ``llm_cache`` entries their calls name and the database
   lacks (an entry already there is kept). Database-local autoincrement ids
   (``run_failures.failure_id``, ...) are assigned by the database; nothing
   refers to them. A SQLite database attaches the shard and copies with
   ``INSERT ... SELECT``; PostgreSQL takes the rows by ``COPY``
   (:func:`simlab.postgres.bulk_insert`).

Runs of a shard that are not completed are left out and counted.

4. After the commit, with a SQLite database, the columnar copy each merged
   run got in its shard when it completed (:mod:`simlab.columnar`) moves
   beside the database, so analytics does not write it again; at the next
   read only its ``sweep_cells`` file is brought up to date. A run with rows
   in a table whose ids the database renumbered keeps no copy (its files
   would hold the shard's ids); it is written from the database when read.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from simlab import columnar
from simlab.bundle.scope import REFERENCED_BY_RUNS, scope_of, surrogate_key
from simlab.db import existing_sqlite_file, make_engine, sqlite_path
from simlab.errors import InputError
from simlab.postgres import bulk_insert
from simlab.schema import metadata, run_configs, runs, sweep_cells, sweeps
from simlab.sqlite_arrow import open_read_only
from simlab.sweep.fingerprint import population_rows_fingerprint
from simlab.sweep.shards import completed_runs, shard_files

BATCH_ROWS = 20_000
KEYS_PER_QUERY = 500
IDENTITY_TABLES = (runs, run_configs)
SHARD = "shard"  # the schema name of the attached shard
UNSHARDED = {sweeps.name, sweep_cells.name}  # the sweep's own record stays in the database


@dataclass(frozen=True)
class Merged:
    """What merging one shard did: runs merged, runs left out (not completed), rows added."""

    shard: Path
    runs: tuple[str, ...]
    left_out: int
    added: int


def run_tables() -> list[Table]:
    """The tables a merge copies rows of, parents first (the sweep tables excepted)."""
    return [
        t for t in metadata.sorted_tables if scope_of(t).kind == "run" and t.name not in UNSHARDED
    ]


def _quoted(names: Sequence[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _where(table: Table, schema: str, run_ids: Sequence[str]) -> tuple[str, list[str]]:
    """SQLite WHERE clause (and its parameters) for ``table``'s rows of ``run_ids`` in ``schema``.

    Rows of no run (a NULL ``run_id``) are left out.
    """
    if "run_id" in table.c:
        return f'"run_id" IN ({", ".join("?" * len(run_ids))})', list(run_ids)
    scope = scope_of(table)
    if scope.referenced_by is not None:
        referrer, column = scope.referenced_by
        inner, params = _where(metadata.tables[referrer], schema, run_ids)
        subquery = f'SELECT "{column}" FROM {schema}."{referrer}" WHERE {inner}'
        return f'"{column}" IN ({subquery})', params
    fk = next(f for f in table.foreign_key_constraints if f.name == scope.via)
    inner, params = _where(fk.referred_table, schema, run_ids)
    referred = _quoted([e.column.name for e in fk.elements])
    subquery = f'SELECT {referred} FROM {schema}."{fk.referred_table.name}" WHERE {inner}'
    return f"({_quoted([c.name for c in fk.columns])}) IN ({subquery})", params


def _copied_columns(table: Table) -> list[str]:
    surrogate = surrogate_key(table)
    return [c.name for c in table.columns if c is not surrogate]


def _identity(rows_of, run_ids: Sequence[str]) -> dict[tuple[str, str], tuple]:
    """(table, run id) -> the run's row, for the tables that identify a run."""
    found = {}
    for table in IDENTITY_TABLES:
        names = [c.name for c in table.columns]
        for row in rows_of(table, names, run_ids):
            found[table.name, row[names.index("run_id")]] = tuple(row)
    return found


def _new_runs(shard: sqlite3.Connection, target: Connection, path: Path, run_ids) -> list[str]:
    """The runs of ``run_ids`` the target lacks; refuse a run id the target uses for another run."""

    def in_shard(table: Table, names: list[str], ids):
        where, params = _where(table, "main", ids)
        return shard.execute(f'SELECT {_quoted(names)} FROM "{table.name}" WHERE {where}', params)

    def in_target(table: Table, names: list[str], ids):
        return target.execute(select(*table.columns).where(table.c.run_id.in_(list(ids))))

    theirs, ours = _identity(in_shard, run_ids), _identity(in_target, run_ids)
    present = {run for _, run in ours}
    for (table, run), row in sorted(theirs.items()):
        if run in present and ours.get((table, run)) != row:
            raise InputError(
                f"merge: shard {path}: {table} row ({run!r},) differs from the one in the "
                "database (a conflicting id); nothing of this shard merged"
            )
    return [run for run in run_ids if run not in present]


def _copy_sqlite(target: Connection, run_ids: list[str]) -> int:
    """``INSERT ... SELECT`` every run table's rows of ``run_ids`` from the attached shard."""
    added = 0
    for table in run_tables():
        columns = _quoted(_copied_columns(table))
        where, params = _where(table, SHARD, run_ids)
        if table.name in REFERENCED_BY_RUNS:  # entries runs share: the database's are kept
            (key,) = [c.name for c in table.primary_key.columns]
            where += f' AND "{key}" NOT IN (SELECT "{key}" FROM main."{table.name}")'
        result = target.exec_driver_sql(
            f'INSERT INTO main."{table.name}" ({columns}) '
            f'SELECT {columns} FROM {SHARD}."{table.name}" WHERE {where}',
            tuple(params),
        )
        added += result.rowcount
    return added


def _present_keys(target: Connection, table: Table, keys: list) -> set:
    (key,) = table.primary_key.columns
    found: set = set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        found |= set(target.execute(select(key).where(key.in_(chunk))).scalars())
    return found


def _batches(cursor: sqlite3.Cursor):
    while batch := cursor.fetchmany(BATCH_ROWS):
        yield batch


def _copy_postgres(shard: sqlite3.Connection, target: Connection, run_ids: list[str]) -> int:
    """Read every run table's rows of ``run_ids`` from the shard; ``COPY`` them into PostgreSQL."""
    added = 0
    for table in run_tables():
        columns = _copied_columns(table)
        where, params = _where(table, "main", run_ids)
        cursor = shard.execute(
            f'SELECT {_quoted(columns)} FROM "{table.name}" WHERE {where}', params
        )
        batches = _batches(cursor)
        if table.name in REFERENCED_BY_RUNS:  # entries runs share: the database's are kept
            rows = cursor.fetchall()
            index = columns.index(table.primary_key.columns.values()[0].name)
            have = _present_keys(target, table, [row[index] for row in rows])
            batches = [[row for row in rows if row[index] not in have]]
        for batch in batches:
            bulk_insert(target, table.name, columns, batch)
            added += len(batch)
    return added


def merge_shard(
    shard: str | os.PathLike,
    db: str | os.PathLike | None,
    population: str | None = None,
    shard_population: str | None = None,
) -> Merged:
    """Merge the completed runs of ``shard`` into ``db`` (module docstring).

    Args:
        shard: the shard file.
        db: the database (SQLite or PostgreSQL) at head.
        population: ``db``'s population fingerprint when the caller has it.
        shard_population: the shard's, when the caller knows it (its template's).

    Raises:
        InputError: ``shard`` is not a simlab SQLite file, its population is not
            the database's, or one of its run ids names another run in ``db``
            (nothing of the shard is written then).
    """
    path = existing_sqlite_file(shard, reader="merge")
    run_ids, left_out = completed_runs(path)
    if not run_ids:
        return Merged(path, (), left_out, 0)
    engine = make_engine(db, must_exist=True)
    source = open_read_only(path)
    try:
        with engine.connect() as target:
            new, added = _merge(source, target, path, run_ids, population, shard_population)
    except IntegrityError as exc:
        first = str(exc.orig).splitlines()[0]
        raise InputError(
            f"merge: shard {path}: rows clash with the database ({first}); "
            "nothing of this shard merged"
        ) from None
    finally:
        source.close()
        engine.dispose()
    database = sqlite_path(engine.url.render_as_string(hide_password=False))
    if database is not None:
        _adopt_copies(path, database, new)
    return Merged(path, tuple(run_ids), left_out, added)


def _adopt_copies(shard: Path, database: Path, run_ids: list[str]) -> None:
    """Move the merged runs' columnar copies from beside the shard to beside the database."""
    renumbered = [t.name for t in run_tables() if surrogate_key(t) is not None]
    for run in run_ids:
        copy = columnar.run_dir(shard, run)
        manifest = columnar.read_manifest(copy)
        if manifest is None or any(manifest["tables"].get(t, {}).get("rows") for t in renumbered):
            continue
        columnar.adopt_copy(copy, database, run)


def _merge(source, target: Connection, path: Path, run_ids, population, shard_population):
    """Check and copy in one transaction (module docstring); the runs copied and rows added."""
    sqlite = target.dialect.name == "sqlite"
    if sqlite:  # before the transaction: SQLite cannot attach inside one
        target.exec_driver_sql(f"ATTACH DATABASE ? AS {SHARD}", (str(path),))
        target.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        theirs = shard_population or population_rows_fingerprint(source)
        ours = population or population_rows_fingerprint(target.connection)
        if theirs != ours:
            raise InputError(
                f"merge: shard {path}: its population (fingerprint {theirs[:12]}) is not the "
                f"database's ({ours[:12]}); merge shards into the database their sweep ran on"
            )
        new = _new_runs(source, target, path, run_ids)
        added = 0
        if new:
            added = _copy_sqlite(target, new) if sqlite else _copy_postgres(source, target, new)
        target.commit()
    except BaseException:
        target.rollback()
        raise
    finally:
        if sqlite:
            target.exec_driver_sql(f"DETACH DATABASE {SHARD}")
    return new, added


def file_fingerprint(path: Path) -> str:
    """The population fingerprint of the SQLite file ``path`` (a shard or a template)."""
    connection = open_read_only(path)
    try:
        return population_rows_fingerprint(connection)
    finally:
        connection.close()


def database_fingerprint(db: str | os.PathLike | None) -> str:
    """The population fingerprint of ``db`` (an existing database at head)."""
    engine = make_engine(db, must_exist=True)
    try:
        with engine.connect() as connection:
            return population_rows_fingerprint(connection.connection)
    finally:
        engine.dispose()


def merge_shards(paths: list[Path], db: str | os.PathLike | None) -> list[Merged]:
    """Merge every shard named by ``paths`` into ``db``, one transaction per shard.

    Raises:
        InputError: as :func:`simlab.sweep.shards.shard_files` and :func:`merge_shard`;
            shards merged before the failing one stay merged.
    """
    found = shard_files(paths)
    population = database_fingerprint(db)
    return [merge_shard(shard, db, population) for shard in found]


def runs_present(db: str | os.PathLike | None, run_ids: list[str]) -> set[str]:
    """Which of ``run_ids`` are completed in ``db`` already (merged before)."""
    engine = make_engine(db, must_exist=True)
    try:
        with engine.connect() as connection:
            query = select(runs.c.run_id).where(runs.c.status == "completed")
            return set(connection.execute(query).scalars()) & set(run_ids)
    finally:
        engine.dispose()
