"""Removing runs and comparisons atomically, and finding what needs attention.

A run's rows live in every table with a ``run_id`` column (the run row, its
config, turns, feeds, scores, actions, leanings, metrics, failures, lifecycle
and comparison membership). :func:`remove_runs` deletes them all in one
transaction, children before parents, and refuses a run whose writer is still
alive; :func:`remove_comparison` removes a comparison with its runs. Both then
delete the removed runs' columnar copies (:mod:`simlab.columnar`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, text
from sqlalchemy.engine import Connection, Engine

from simlab import columnar, lifecycle
from simlab.db import sqlite_path
from simlab.errors import InputError
from simlab.schema import metadata


def _run_tables() -> list[Table]:
    """Tables holding per-run rows, in an order that deletes children first."""
    ordered = reversed(metadata.sorted_tables)
    return [t for t in ordered if "run_id" in t.columns and t.name != "runs"] + [
        metadata.tables["runs"]
    ]


def _delete_runs(connection: Connection, run_ids: Sequence[str]) -> None:
    states = lifecycle.run_states(connection)
    missing = [r for r in run_ids if r not in states]
    if missing:
        raise InputError(f"rm: no run {missing[0]!r} in this database; see `simlab runs`")
    live = [r for r in run_ids if states[r] == "running"]
    if live:
        raise InputError(f"rm: run {live[0]} is still being written; stop it first")
    for table in _run_tables():
        connection.execute(table.delete().where(table.c.run_id.in_(run_ids)))


def _remove_copies(engine: Engine, run_ids: Sequence[str]) -> None:
    """Delete the columnar copies of runs whose rows were just deleted (SQLite only)."""
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is not None:
        columnar.remove_copies(path, run_ids)


def remove_runs(engine: Engine, run_ids: Sequence[str]) -> int:
    """Delete ``run_ids`` and every row that belongs to them, all or nothing.

    Returns:
        The number of runs removed.

    Raises:
        InputError: a run does not exist or is still being written (nothing is deleted).
    """
    unique = list(dict.fromkeys(run_ids))
    if not unique:
        raise InputError("rm: give RUN_ID... or --comparison ID")
    with engine.begin() as connection:
        _delete_runs(connection, unique)
    _remove_copies(engine, unique)
    return len(unique)


def remove_comparison(engine: Engine, comparison_id: str) -> int:
    """Delete comparison ``comparison_id`` and all its runs, all or nothing.

    Returns:
        The number of runs removed with it.

    Raises:
        InputError: no such comparison, or one of its runs is still being written.
    """
    with engine.begin() as connection:
        found = connection.execute(
            text("SELECT 1 FROM comparisons WHERE comparison_id = :c"), {"c": comparison_id}
        ).first()
        if found is None:
            raise InputError(f"rm: no comparison {comparison_id!r} in this database")
        run_ids = connection.execute(
            text("SELECT run_id FROM comparison_runs WHERE comparison_id = :c ORDER BY run_id"),
            {"c": comparison_id},
        ).scalars()
        run_ids = list(run_ids)
        if run_ids:
            _delete_runs(connection, run_ids)
        connection.execute(
            text("DELETE FROM comparisons WHERE comparison_id = :c"), {"c": comparison_id}
        )
    _remove_copies(engine, run_ids)
    return len(run_ids)


def stale_runs(connection: Connection) -> list[str]:
    """Runs marked running whose writer is gone (see :mod:`simlab.lifecycle`)."""
    return sorted(r for r, s in lifecycle.run_states(connection).items() if s == "stale")


def empty_comparisons(connection: Connection) -> list[str]:
    """Comparisons that hold no run (e.g. stopped before their first run started)."""
    return list(
        connection.execute(
            text(
                "SELECT comparison_id FROM comparisons c WHERE NOT EXISTS "
                "(SELECT 1 FROM comparison_runs m WHERE m.comparison_id = c.comparison_id) "
                "ORDER BY created_at"
            )
        ).scalars()
    )
