"""A database's population fingerprint: SHA-256 over the rows of its population tables, in any order.

Procedure: for each population table (:func:`population_tables`, parents
first), every row's values in column order, database-local autoincrement ids
left out (:func:`simlab.bundle.scope.surrogate_key`; a bundle import matches
such rows on their other columns too), are encoded as the ``repr`` of the
tuple; the encodings are sorted (as text, so SQLite and PostgreSQL agree
whatever order or collation they return rows in) and fed to SHA-256, one per
line (``repr`` escapes newlines), after a line with the table's name,
columns and row count.

Two databases with the same population rows have the same fingerprint; a row
added, removed or changed in any population table changes it.
"""

from __future__ import annotations

import hashlib
import json

from simlab.bundle.scope import scope_of, surrogate_key
from simlab.schema import metadata


def population_tables() -> list[str]:
    """The population tables (bundle scope ``population``), parents first."""
    return [t.name for t in metadata.sorted_tables if scope_of(t).kind == "population"]


def population_rows_fingerprint(dbapi_connection) -> str:
    """The population fingerprint of the database behind a DB-API connection (module docstring).

    Args:
        dbapi_connection: a driver connection (``sqlite3``, psycopg) or SQLAlchemy's
            ``Connection.connection``; the rows are read in its current transaction.
    """
    digest = hashlib.sha256()
    cursor = dbapi_connection.cursor()  # the driver's rows: no per-row SQLAlchemy work
    try:
        for name in population_tables():
            table = metadata.tables[name]
            surrogate = surrogate_key(table)
            columns = [c.name for c in table.columns if c is not surrogate]
            listed = ", ".join(f'"{c}"' for c in columns)
            cursor.execute(f'SELECT {listed} FROM "{name}"')
            rows = sorted(map(repr, cursor.fetchall()))
            digest.update(json.dumps([name, columns, len(rows)]).encode() + b"\n")
            digest.update("\n".join(rows).encode())
    finally:
        cursor.close()
    return digest.hexdigest()
