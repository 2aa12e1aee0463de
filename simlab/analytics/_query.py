"""Shared query pieces: which runs a call selects, their arm and replicate, arm order.

Every value reaches DuckDB as a named parameter (``$name``); nothing user-given
is formatted into SQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import duckdb
import pandas as pd
import pyarrow as pa

from simlab.analytics.catalog import TURN_COUNTS as COUNTED
from simlab.analytics.connection import access_method
from simlab.errors import InputError

# ``sel``: the selected runs with arm, replicate and agent count. In a comparison,
# arm and replicate come from comparison_runs; otherwise arm is the feed algorithm
# and replicate 0. A run in several comparisons takes its earliest comparison's arm
# unless $comparison_id names one.
SELECTION = """
sel AS (
    SELECT r.run_id, coalesce(m.arm, r.feed_algorithm) AS arm,
           coalesce(m.replicate, 0) AS replicate, r.total_agents
    FROM sim.runs AS r
    LEFT JOIN (
        SELECT cr.run_id, cr.arm, cr.replicate
        FROM sim.comparison_runs AS cr
        JOIN sim.comparisons AS c ON c.comparison_id = cr.comparison_id
        WHERE $comparison_id IS NULL OR cr.comparison_id = $comparison_id
        QUALIFY row_number() OVER (
            PARTITION BY cr.run_id ORDER BY c.created_at, cr.comparison_id
        ) = 1
    ) AS m ON m.run_id = r.run_id
    WHERE ($comparison_id IS NULL OR m.run_id IS NOT NULL)
      AND ($run_ids IS NULL OR list_contains(CAST($run_ids AS VARCHAR[]), r.run_id))
)"""

# Sort key putting arms in comparison order ($arm_order), others alphabetically after.
ARM_ORDER = "list_position(CAST($arm_order AS VARCHAR[]), arm) NULLS LAST, arm"

PARAMETER = re.compile(r"\$(\w+)")  # a named parameter in SQL: $name


def used(sql: str, params: dict) -> dict:
    """The entries of ``params`` that ``sql`` names as ``$name`` (DuckDB refuses unused ones)."""
    names = set(PARAMETER.findall(sql))
    return {name: value for name, value in params.items() if name in names}


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pd.DataFrame:
    """Run ``sql`` with the named ``params`` it uses and return a pandas frame."""
    return con.execute(sql, used(sql, params)).df()


def selection(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | str | None,
    comparison_id: str | None,
) -> dict:
    """The parameters of :data:`SELECTION` and :data:`ARM_ORDER` for one call."""
    if isinstance(run_ids, str):
        run_ids = [run_ids]
    return {
        "run_ids": None if run_ids is None else [str(r) for r in run_ids],
        "comparison_id": comparison_id,
        "arm_order": None if comparison_id is None else arm_order(con, comparison_id=comparison_id),
    }


def arm_order(con: duckdb.DuckDBPyConnection, *, comparison_id: str) -> list[str]:
    """The arms of a comparison in their stored order.

    The order is that of ``comparisons.config_json["feeds"]`` (entries are arm
    names, or objects with an ``arm`` / ``name`` / ``label``), then any other
    arm alphabetically.

    Raises:
        InputError: no comparison has this id.
    """
    row = con.execute(
        "SELECT config_json FROM sim.comparisons WHERE comparison_id = $c", {"c": comparison_id}
    ).fetchone()
    if row is None:
        raise InputError(f"comparison_id: no comparison {comparison_id!r} in the database")
    arms = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT arm FROM sim.comparison_runs WHERE comparison_id = $c ORDER BY arm",
            {"c": comparison_id},
        ).fetchall()
    ]
    return order_arms(row[0], arms)


def order_arms(config_json: str | None, arms: Sequence[str]) -> list[str]:
    """``arms`` sorted by their position in ``config_json["feeds"]``, unknown ones last (A-Z)."""
    try:
        feeds = json.loads(config_json or "{}").get("feeds") or []
    except (ValueError, AttributeError):
        feeds = []
    listed = []
    for entry in feeds if isinstance(feeds, list) else []:
        if isinstance(entry, dict):
            entry = entry.get("arm") or entry.get("name") or entry.get("label")
        if isinstance(entry, str) and entry in arms and entry not in listed:
            listed.append(entry)
    return listed + sorted(a for a in arms if a not in listed)


# Filters on an attached file run inside SQLite (``sqlite_query``), where the
# run/turn/agent indexes answer them; DuckDB's scanner cannot push filters down.
# Each ``sqlite_query`` runs as a statement of its own: two of them in one
# statement (or one beside a ``sim.*`` scan) may run on two threads over the
# attached database's one SQLite handle, which crashes the scanner (seen with
# duckdb 1.5.5). Their results come back as Arrow tables that the main query
# reads by name (see :func:`staged`).


def _pushed(con: duckdb.DuckDBPyConnection, inner: str, columns: dict, params: dict) -> pa.Table:
    """Run ``inner`` (SQLite SQL with ``$name`` placeholders) inside SQLite; typed Arrow back.

    SQLite hands ``sqlite_query`` results over as text, so each column is cast to
    its DuckDB type (``VARCHAR`` or ``BIGINT`` only: REAL columns would lose digits).
    """
    names = PARAMETER.findall(inner)
    args = ", ".join(
        f"CAST(${n} AS {'BIGINT' if isinstance(params[n], int) else 'VARCHAR'})" for n in names
    )
    sqlite_sql = PARAMETER.sub("?", inner).replace("'", "''")
    typed = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in columns.items())
    call = f"sqlite_query('sim', '{sqlite_sql}'" + (f", params = row({args}))" if names else ")")
    used = {n: params[n] for n in names}
    return con.execute(f"SELECT {typed} FROM {call}", used).to_arrow_table()


def rows(
    con: duckdb.DuckDBPyConnection, sql: str, columns: dict[str, str], params: dict
) -> pa.Table:
    """Rows of ``sql`` as Arrow, computed inside SQLite on an attached file.

    On the Arrow copy the same query runs in DuckDB. Keep ``sql`` to SQL both
    dialects read alike (SELECT, WHERE, GROUP BY, UNION ALL, count).

    Args:
        con: an analytics connection.
        sql: the query, naming tables as ``{sim}likes``; values are only ever
            ``$name`` parameters.
        columns: output column -> DuckDB type (VARCHAR or BIGINT).
        params: the parameter values (int for BIGINT comparisons, else str).
    """
    if access_method(con) in ("wheel", "download"):
        return _pushed(con, sql.format(sim=""), columns, params)
    typed = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in columns.items())
    return con.execute(
        f"SELECT {typed} FROM ({sql.format(sim='sim.')})", used(sql, params)
    ).to_arrow_table()


@contextmanager
def staged(con: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[None]:
    """Make each Arrow table readable by name in ``con`` for the ``with`` body."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield
    finally:
        for name in tables:
            con.unregister(name)


TURN_COUNTS = """
SELECT run_id, turn_number, 'like' AS action, count(*) AS n FROM {sim}likes
GROUP BY run_id, turn_number
UNION ALL
SELECT run_id, turn_number, 'comment', count(*) FROM {sim}comments GROUP BY run_id, turn_number
UNION ALL
SELECT run_id, turn_number, 'follow', count(*) FROM {sim}follows GROUP BY run_id, turn_number
"""


@contextmanager
def turn_counts(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Actions counted per run, turn and kind, readable by the ``with`` body's queries.

    The relation (run_id, turn_number, action, n) is named :data:`COUNTED`. On the
    default path it is the catalog's view of the counts a finished run's copy keeps
    in its manifest (:mod:`simlab.analytics.catalog`), read in place. On an attached
    file SQLite counts them from its ``(run_id, turn_number, ...)`` indexes without
    reading the rows (faster than scanning the rows into DuckDB), staged as Arrow.
    """
    if access_method(con) == "columnar":
        yield
        return
    columns = {"run_id": "VARCHAR", "turn_number": "BIGINT", "action": "VARCHAR", "n": "BIGINT"}
    with staged(con, **{COUNTED: rows(con, TURN_COUNTS, columns, {})}):
        yield
