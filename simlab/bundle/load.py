"""``simlab import bundle``: verify a bundle, then merge its rows into a database, idempotently.

Procedure:

1. :func:`simlab.bundle.manifest.verify` checks every file against the
   manifest (sha256, size, row count, columns, schema revision); a bundle
   that fails is refused before the database is opened.
2. The target is migrated to head, then every table is merged in
   foreign-key order inside ONE transaction:

   - a row whose primary key is already there must be identical (else the
     bundle does not fit this database: refused, nothing written) and is
     skipped;
   - tables keyed by a database-local autoincrement id
     (:func:`simlab.bundle.scope.surrogate_key`) are matched on every other
     column instead, as a multiset: a row already present as many times as
     the bundle holds it is skipped; a new row keeps its id when that id is
     free, else the database assigns one.

Importing the same bundle twice therefore adds nothing the second time.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import insert, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from simlab.bundle.manifest import Manifest, verify
from simlab.bundle.scope import Selection, row_filter, surrogate_key
from simlab.db import known_revisions, make_engine, migrate
from simlab.errors import InputError
from simlab.postgres import reset_sequences
from simlab.schema import metadata

BATCH_ROWS = 500


@dataclass(frozen=True)
class Imported:
    """Per table: rows added and rows that were already in the database."""

    manifest: Manifest
    added: dict[str, int]
    present: dict[str, int]


def _differs(existing: dict, row: dict) -> bool:
    return any(existing[name] != value for name, value in row.items())


def _key_in(key: list, keys: list[tuple]):
    if len(key) == 1:
        return key[0].in_([k[0] for k in keys])
    return tuple_(*key).in_(keys)


def _merge_keyed(connection: Connection, table, parquet: pq.ParquetFile) -> tuple[int, int]:
    key = list(table.primary_key.columns)
    added = present = 0
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS):
        rows = batch.to_pylist()
        keys = [tuple(row[c.name] for c in key) for row in rows]
        existing = {
            tuple(found[c.name] for c in key): found
            for found in connection.execute(select(table).where(_key_in(key, keys))).mappings()
        }
        new = []
        for row_key, row in zip(keys, rows, strict=True):
            if row_key not in existing:
                new.append(row)
            elif _differs(existing[row_key], row):
                raise InputError(
                    f"bundle: {table.name} row {row_key} differs from the one in the database; "
                    "the bundle does not fit this database"
                )
        if new:
            connection.execute(insert(table), new)
        added, present = added + len(new), present + len(rows) - len(new)
    return added, present


def _merge_surrogate(
    connection: Connection, table, parquet: pq.ParquetFile, selection: Selection
) -> tuple[int, int]:
    surrogate = surrogate_key(table)
    rows = parquet.read().to_pylist()
    content = [c for c in rows[0] if c != surrogate.name] if rows else []
    already = Counter(
        tuple(found[c] for c in content)
        for found in connection.execute(
            select(table).where(row_filter(table, selection))
        ).mappings()
    )
    taken = set(connection.execute(select(surrogate)).scalars())
    keep_id, new_id = [], []
    for row in rows:
        signature = tuple(row[c] for c in content)
        if already[signature] > 0:
            already[signature] -= 1
        elif row[surrogate.name] not in taken:
            taken.add(row[surrogate.name])
            keep_id.append(row)
        else:
            new_id.append({c: row[c] for c in content})
    if keep_id:
        connection.execute(insert(table), keep_id)
    if new_id:
        reset_sequences(connection)
        connection.execute(insert(table), new_id)
    added = len(keep_id) + len(new_id)
    return added, len(rows) - added


def import_bundle(folder: str | os.PathLike, db: str | os.PathLike | None = None) -> Imported:
    """Verify the bundle in ``folder`` and merge it into ``db`` (see the module docstring).

    Raises:
        InputError: the bundle breaks its manifest, or its rows clash with the
            database's; nothing is written either way.
    """
    manifest = verify(Path(folder), metadata, set(known_revisions()))
    selection = Selection(manifest.run_ids, manifest.comparison_id)
    engine = make_engine(db)
    added: dict[str, int] = {}
    present: dict[str, int] = {}
    try:
        migrate(engine)
        with engine.begin() as connection:
            for table in metadata.sorted_tables:
                if table.name not in manifest.tables:
                    continue
                parquet = pq.ParquetFile(manifest.tables[table.name])
                if surrogate_key(table) is not None:
                    merged = _merge_surrogate(connection, table, parquet, selection)
                else:
                    merged = _merge_keyed(connection, table, parquet)
                added[table.name], present[table.name] = merged
            reset_sequences(connection)
    except IntegrityError as exc:
        first = str(exc.orig).splitlines()[0]
        raise InputError(f"bundle: rows clash with the database ({first})") from None
    finally:
        engine.dispose()
    return Imported(manifest, added, present)
