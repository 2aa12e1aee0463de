"""Rows straight from the DB-API driver under a SQLAlchemy connection, and bulk JSON parsing.

For bulk reads (a population load) where SQLAlchemy's per-row work costs more
than the query: the rows are the driver's tuples, read in the connection's
transaction, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


READ_CHUNK = 10_000  # rows fetched from the driver at a time


def driver_chunks(connection: Connection, sql: str, size: int) -> Iterator[list[tuple]]:
    """The rows of ``sql`` as the DB-API driver returns them, ``size`` at a time.

    Reading through the driver cursor (in the connection's transaction) skips
    SQLAlchemy's per-row work, which costs more than the query on the tables
    a population load reads.
    """
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(size):
            yield rows
    finally:
        cursor.close()


def driver_rows(connection: Connection, sql: str) -> list[tuple]:
    """Every row of ``sql`` as the DB-API driver returns them (:func:`driver_chunks`)."""
    return [row for rows in driver_chunks(connection, sql, READ_CHUNK) for row in rows]


def json_values(texts: Sequence[str]) -> list:
    """The JSON value of each of ``texts``, parsed in one call (one value per text).

    ``json.loads`` of the texts joined into one JSON array gives the values
    ``map(json.loads, texts)`` gives, without a Python call per text.

    Raises:
        ValueError: a text is not exactly one JSON value.
    """
    values = json.loads("[" + ",".join(texts) + "]") if texts else []
    if len(values) != len(texts):
        raise ValueError(f"{len(texts)} JSON texts hold {len(values)} values")
    return values
