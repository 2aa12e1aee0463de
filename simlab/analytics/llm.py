"""LLM agents in DuckDB: stances at a turn, stance histories, usage per arm / agent / model / turn.

Usage columns (over ``llm_calls``, as :mod:`simlab.llm.usage` defines them):
``calls`` (request attempts, cache hits included), ``decisions`` (rows that end a
decision: every status but ``invalid``), ``success_rate`` (``ok`` or ``retried``
over decisions), ``failed`` (decisions with status ``failed``), ``blocked``
(``budget_blocked``), ``mean_latency_ms`` and ``p95_latency_ms`` (over answered
rows; p95 is the linear interpolation ``quantile_cont``, Hyndman & Fan type 7),
``tokens`` and ``cost_usd`` (spent: rows that reached the server), ``cache_hits``
and ``avoided_tokens`` (what the cache saved).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from simlab.analytics._query import ARM_ORDER, SELECTION, fetch, selection
from simlab.errors import InputError

USAGE_GROUPS = {
    "arm": "s.arm",
    "agent": "c.agent_handle",
    "model": "c.model",
    "turn": "c.turn_number",
}

_AGGREGATES = """
    count(*) AS calls,
    count(*) FILTER (WHERE c.status <> 'invalid') AS decisions,
    count(*) FILTER (WHERE c.status IN ('ok', 'retried'))
        / nullif(count(*) FILTER (WHERE c.status <> 'invalid'), 0) AS success_rate,
    count(*) FILTER (WHERE c.status = 'failed') AS failed,
    count(*) FILTER (WHERE c.status = 'budget_blocked') AS blocked,
    avg(c.latency_ms) FILTER (WHERE c.status <> 'budget_blocked') AS mean_latency_ms,
    quantile_cont(c.latency_ms, 0.95) FILTER (WHERE c.status <> 'budget_blocked')
        AS p95_latency_ms,
    coalesce(sum(c.prompt_tokens + c.completion_tokens) FILTER (WHERE c.cache_hit = 0), 0)
        AS tokens,
    coalesce(sum(c.cost_usd) FILTER (WHERE c.cache_hit = 0), 0) AS cost_usd,
    count(*) FILTER (WHERE c.cache_hit = 1) AS cache_hits,
    coalesce(sum(c.prompt_tokens + c.completion_tokens) FILTER (WHERE c.cache_hit = 1), 0)
        AS avoided_tokens
"""


def stance_at(
    con: duckdb.DuckDBPyConnection, *, run_id: str, agent: str, turn: int
) -> pd.DataFrame:
    """The agent's stance on each topic as of the end of ``turn``.

    Per topic, the newest ``agent_stances`` row with ``turn_number <= turn``
    (ties to the later ``stance_id``), whatever its status today, so the answer
    does not depend on later turns.

    Returns:
        Columns ``topic, stance, confidence, leaning, rationale, turn_number``, by topic.
    """
    return fetch(
        con,
        """
        SELECT topic, stance, confidence, leaning, rationale, turn_number
        FROM sim.agent_stances
        WHERE run_id = $run_id AND agent_handle = $agent AND turn_number <= $turn
        QUALIFY row_number() OVER (
            PARTITION BY topic ORDER BY turn_number DESC, stance_id DESC) = 1
        ORDER BY topic
        """,
        {"run_id": run_id, "agent": agent, "turn": int(turn)},
    )


def stance_history(
    con: duckdb.DuckDBPyConnection, *, run_id: str, agent: str | None = None
) -> pd.DataFrame:
    """Every stance a run's agents stated: ``turn_number, agent_handle, topic, stance, confidence, leaning, rationale, status``."""
    return fetch(
        con,
        """
        SELECT turn_number, agent_handle, topic, stance, confidence, leaning, rationale, status
        FROM sim.agent_stances
        WHERE run_id = $run_id AND ($agent IS NULL OR agent_handle = $agent)
        ORDER BY turn_number, agent_handle, stance_id
        """,
        {"run_id": run_id, "agent": agent},
    )


def llm_usage(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | str | None = None,
    comparison_id: str | None = None,
    by: str = "arm",
) -> pd.DataFrame:
    """LLM usage of the selected runs grouped ``by`` arm, agent, model or turn (module docstring).

    Returns:
        Columns ``arm`` (always), the group column when it is not ``arm``, then the usage columns.

    Raises:
        InputError: ``by`` is not one of ``arm, agent, model, turn``.
    """
    if by not in USAGE_GROUPS:
        raise InputError(f"by must be one of {', '.join(USAGE_GROUPS)}, got {by!r}")
    params = selection(con, run_ids=run_ids, comparison_id=comparison_id)
    group = "" if by == "arm" else f", {USAGE_GROUPS[by]} AS {by}"
    order = ARM_ORDER + ("" if by == "arm" else f", {by}")
    return fetch(
        con,
        f"""
        WITH {SELECTION}
        SELECT * FROM (
            SELECT s.arm AS arm{group}, {_AGGREGATES}
            FROM sim.llm_calls AS c JOIN sel AS s ON s.run_id = c.run_id
            GROUP BY ALL
        ) ORDER BY {order}
        """,
        params,
    )
