"""Usage summaries over ``llm_calls``: per agent, model, day or run.

For each group:

- ``calls``: rows (one per request attempt, cache hits included);
- ``decisions``: rows that end a decision (every status but ``invalid``);
- ``success_rate``: decisions with status ``ok`` or ``retried`` / ``decisions``;
- ``mean_latency_ms``, ``p95_latency_ms``: over rows that got a response
  (not ``budget_blocked``); p95 is the linearly interpolated percentile
  (numpy's default, Hyndman & Fan type 7);
- ``prompt_tokens``, ``completion_tokens``, ``cached_tokens``, ``tokens``,
  ``cost_usd``: spent, i.e. over rows that reached the server;
- ``cache_hits``, ``avoided_tokens``, ``avoided_cost_usd``: what the cache saved.

Plain functions of a SQLAlchemy engine or connection, for ``simlab usage``,
the analytics layer, notebooks and reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from simlab.errors import InputError
from simlab.schema import llm_calls

GROUPINGS = {
    "agent": llm_calls.c.agent_handle,
    "model": llm_calls.c.model,
    "day": func.substr(llm_calls.c.started_at, 1, 10),
    "run": llm_calls.c.run_id,
}
COLUMNS = [
    "calls",
    "decisions",
    "success_rate",
    "mean_latency_ms",
    "p95_latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "tokens",
    "cost_usd",
    "cache_hits",
    "avoided_tokens",
    "avoided_cost_usd",
]


def _summarise(calls: pd.DataFrame) -> pd.Series:
    final = calls[calls.status != "invalid"]
    answered = calls[calls.status != "budget_blocked"]
    spent = calls[calls.cache_hit == 0]
    hits = calls[calls.cache_hit == 1]
    latency = answered.latency_ms.to_numpy(dtype=float)
    tokens = spent.prompt_tokens + spent.completion_tokens
    return pd.Series(
        {
            "calls": len(calls),
            "decisions": len(final),
            "success_rate": final.status.isin(["ok", "retried"]).mean() if len(final) else np.nan,
            "mean_latency_ms": latency.mean() if latency.size else np.nan,
            "p95_latency_ms": np.percentile(latency, 95) if latency.size else np.nan,
            "prompt_tokens": int(spent.prompt_tokens.sum()),
            "completion_tokens": int(spent.completion_tokens.sum()),
            "cached_tokens": int(spent.cached_tokens.sum()),
            "tokens": int(tokens.sum()),
            "cost_usd": float(spent.cost_usd.sum()),
            "cache_hits": len(hits),
            "avoided_tokens": int((hits.prompt_tokens + hits.completion_tokens).sum()),
            "avoided_cost_usd": float(hits.cost_usd.sum()),
        }
    )


def usage_summary(
    db: Engine | Connection, by: str = "agent", run_id: str | None = None
) -> pd.DataFrame:
    """One row per group with the columns listed in the module docstring.

    Args:
        db: Engine or connection to a migrated simlab database.
        by: ``agent``, ``model``, ``day`` (UTC date of ``started_at``) or ``run``.
        run_id: Only this run's calls (None: every run).

    Returns:
        A frame with the group column (named ``by``) then the summary columns, sorted by group.

    Raises:
        InputError: ``by`` is not one of the groupings.
    """
    if by not in GROUPINGS:
        raise InputError(f"--by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    query = select(
        GROUPINGS[by].label(by),
        llm_calls.c.status,
        llm_calls.c.cache_hit,
        llm_calls.c.latency_ms,
        llm_calls.c.prompt_tokens,
        llm_calls.c.completion_tokens,
        llm_calls.c.cached_tokens,
        llm_calls.c.cost_usd,
    )
    if run_id is not None:
        query = query.where(llm_calls.c.run_id == run_id)
    if isinstance(db, Engine):
        with db.connect() as connection:
            calls = pd.DataFrame(connection.execute(query).mappings().all())
    else:
        calls = pd.DataFrame(db.execute(query).mappings().all())
    if calls.empty:
        return pd.DataFrame(columns=[by, *COLUMNS])
    groups = [_summarise(group).rename(key) for key, group in calls.groupby(by, sort=True)]
    summary = pd.DataFrame(groups)[COLUMNS].rename_axis(by).reset_index()
    return summary.astype(
        {c: "int64" for c in COLUMNS if c.endswith(("calls", "decisions", "tokens", "hits"))}
    )
