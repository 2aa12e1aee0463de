"""PostgreSQL specifics: SQLite's storage classes in PostgreSQL DDL, URLs, sequences.

SQLite stores every INTEGER in up to 8 bytes and every REAL as an 8-byte IEEE
float; PostgreSQL's ``integer`` and ``real`` are 4 bytes. Replicate seeds are
unsigned 32-bit words and leanings are float64, so a literal translation would
overflow or round. Importing this module makes SQLAlchemy spell, for the
PostgreSQL dialect only:

    Integer -> BIGINT              REAL -> DOUBLE PRECISION         Text -> TEXT

in table columns (an autoincrement integer primary key stays ``SERIAL``).
``migrations/env.py`` imports it, so every Alembic revision, present and
future, creates the same column widths on PostgreSQL as on SQLite. Casts in
queries keep their usual spelling (SQLAlchemy's own reflection queries need
``integer``); the tables of :mod:`simlab.schema` use :data:`INT8` and
:data:`FLOAT8`, so the parameters bound to their columns are cast to the wide
types. The full mapping is in ``docs/postgresql.md``.

Bulk writes (:func:`bulk_insert`) use PostgreSQL's ``COPY ... FROM STDIN``
through psycopg 3, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import REAL, BigInteger, Column, Integer, inspect, text
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.compiler import compiles

DRIVER = "psycopg"

INT8 = Integer().with_variant(BigInteger(), "postgresql")
"""The column type of simlab's integers: INTEGER on SQLite, BIGINT on PostgreSQL.

Bound parameters carry their column's type on PostgreSQL (``%(seed)s::BIGINT``),
so the tables in :mod:`simlab.schema` use this, not plain ``Integer``.
"""

FLOAT8 = REAL().with_variant(DOUBLE_PRECISION(), "postgresql")
"""The column type of simlab's floats: REAL on SQLite, DOUBLE PRECISION on PostgreSQL."""


def _in_ddl(kwargs: dict) -> bool:
    """True when a type is being spelled for a table column (CREATE/ALTER), not a cast."""
    return isinstance(kwargs.get("type_expression"), Column)


@compiles(Integer, "postgresql")
def _integer_as_bigint(type_, compiler, **kwargs) -> str:
    return "BIGINT" if _in_ddl(kwargs) else compiler.visit_integer(type_, **kwargs)


@compiles(REAL, "postgresql")
def _real_as_double(type_, compiler, **kwargs) -> str:
    return "DOUBLE PRECISION" if _in_ddl(kwargs) else compiler.visit_REAL(type_, **kwargs)


def with_driver(url: str) -> str:
    """``url`` with the psycopg 3 driver when it names none (``postgresql://`` means psycopg2)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or "+" in parsed.drivername:
        return url
    return parsed.set(drivername=f"postgresql+{DRIVER}").render_as_string(hide_password=False)


def reset_sequences(connection: Connection) -> list[str]:
    """Move every serial column's sequence past the column's largest value.

    Rows copied in with explicit ids (a bundle import, a shard merge) leave
    the sequence behind, and the next default id would collide.

    Returns:
        The ``table.column`` names whose sequence was set.

    """
    if connection.dialect.name != "postgresql":
        return []
    done = []
    inspector = inspect(connection)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            if "nextval(" not in str(column.get("default") or ""):
                continue
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f'COALESCE((SELECT max("{column["name"]}") FROM "{table}"), 0) + 1, false)'
                ),
                {"table": table, "column": column["name"]},
            )
            done.append(f"{table}.{column['name']}")
    return done


def bulk_insert(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple]
) -> None:
    """Write ``rows`` into ``table`` with ``COPY table (columns) FROM STDIN`` (psycopg 3).

    The rows go through the driver connection under ``connection``, so they
    belong to its open transaction: a failed turn rolls back whole, exactly as
    with ``executemany``. Values are adapted as psycopg adapts query
    parameters (text COPY; floats as their shortest round-tripping repr, so a
    float64 comes back bit-for-bit); ``None`` is NULL. Check constraints,
    foreign keys and triggers apply as for ``INSERT``. One ``COPY`` streams a
    turn's rows in one round trip where ``executemany`` sends one statement
    per row (pipelined).

    Args:
        connection: a SQLAlchemy connection on PostgreSQL with the psycopg driver.
        table: the table name.
        columns: the columns ``rows`` hold, in order.
        rows: tuples of Python values (int, float, str, None).
    """
    if not rows:
        return
    from psycopg import sql

    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def json_array_length(connection: Connection, column: str) -> str:
    """SQL for the length of the JSON array held as TEXT in ``column``, in the connection's dialect.

    SQLite's ``json_array_length`` takes text; PostgreSQL's takes ``json``, so
    there the text is cast first (seed JSON columns stay TEXT on both).
    """
    if connection.dialect.name == "postgresql":
        return f"json_array_length(CAST({column} AS json))"
    return f"json_array_length({column})"
