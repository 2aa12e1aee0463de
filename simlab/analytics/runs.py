"""Runs and comparisons: what is in the database."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from simlab.analytics._query import ARM_ORDER, SELECTION, arm_order, fetch, order_arms, selection


def runs(con: duckdb.DuckDBPyConnection, *, comparison_id: str | None = None) -> pd.DataFrame:
    """Runs, oldest first (all, or those of one comparison in arm/replicate order).

    Returns:
        Columns run_id, feed_algorithm, status, seed, policy, total_agents,
        total_turns, created_at, completed_at, config_json, comparison_id, arm,
        replicate (the ``runs_overview`` view). Without ``comparison_id``, a run
        that belongs to several comparisons has one row per comparison, and a
        run in none has NULL comparison_id/arm/replicate.
    """
    if comparison_id is None:
        return fetch(con, "SELECT * FROM runs_overview ORDER BY created_at, run_id", {})
    return fetch(
        con,
        f"SELECT * FROM runs_overview WHERE comparison_id = $comparison_id "
        f"ORDER BY {ARM_ORDER}, replicate, run_id",
        {"comparison_id": comparison_id, "arm_order": arm_order(con, comparison_id=comparison_id)},
    )


def comparisons(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every comparison, oldest first.

    Returns:
        Columns comparison_id, created_at, arms (comma-joined, in arm order),
        replicates (distinct replicate indices), turns and agents (the largest
        ``total_turns`` / ``total_agents`` among its runs), n_runs.
    """
    frame = fetch(
        con,
        """
        SELECT c.comparison_id, c.created_at, c.config_json,
               list(DISTINCT m.arm) FILTER (WHERE m.arm IS NOT NULL) AS arm_list,
               count(DISTINCT m.replicate) AS replicates,
               max(r.total_turns) AS turns, max(r.total_agents) AS agents,
               count(m.run_id) AS n_runs
        FROM sim.comparisons AS c
        LEFT JOIN sim.comparison_runs AS m ON m.comparison_id = c.comparison_id
        LEFT JOIN sim.runs AS r ON r.run_id = m.run_id
        GROUP BY c.comparison_id, c.created_at, c.config_json
        ORDER BY c.created_at, c.comparison_id
        """,
        {},
    )
    frame["arms"] = [
        ",".join(order_arms(config, [] if arms is None or arms is pd.NA else list(arms)))
        for config, arms in zip(frame["config_json"], frame["arm_list"], strict=True)
    ]
    columns = ["comparison_id", "created_at", "arms", "replicates", "turns", "agents", "n_runs"]
    return frame[columns]


def latest_comparison(con: duckdb.DuckDBPyConnection) -> str | None:
    """The id of the most recently created comparison, or None if there is none."""
    row = con.execute(
        "SELECT comparison_id FROM sim.comparisons ORDER BY created_at DESC, comparison_id DESC "
        "LIMIT 1"
    ).fetchone()
    return None if row is None else row[0]


def completed_turns(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
) -> int:
    """Completed turns (``turn_metadata`` rows) over the selected runs: 0 means nothing to show."""
    params = selection(con, run_ids=run_ids, comparison_id=comparison_id)
    sql = (
        f"WITH {SELECTION} SELECT count(*) FROM sim.turn_metadata AS m "
        "JOIN sel AS s ON s.run_id = m.run_id"
    )
    return int(con.execute(sql, {k: params[k] for k in ("run_ids", "comparison_id")}).fetchone()[0])
