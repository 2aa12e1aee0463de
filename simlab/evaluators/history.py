"""Agent score histories: per (run, turn, agent, evaluator version), what the agent's texts scored.

From the ``ok`` evaluations of the texts an agent wrote in one turn (failed
evaluations are not counted), with m_d the mean of dimension d over those
``items`` texts and r_d = (m_d - low_d) / (high_d - low_d) its share of the
dimension's range:

    dimension_means = {d: m_d}
    overall_mean    = mean over d of r_d                       in [0, 1]
    top_dimension   = argmax_d r_d (ties: first declared)      top_score = m_top
    high_flags      = {"has_high_<d>": m_d >= threshold_d}     (thresholds: each evaluator's doc)

The table is append-only: a key whose newest row already has the same items
and means gets nothing; a key whose texts changed (more were evaluated) gets
a new row, and readers take the newest row per key (highest ``history_id``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Engine

from simlab.evaluators.base import Evaluator
from simlab.recorder import utc_now
from simlab.schema import agent_score_history

KEY = ["run_id", "turn_number", "agent_handle"]

_SCORED = text(
    "SELECT run_id, turn_number, agent_handle, scores FROM evaluations "
    "WHERE evaluator = :evaluator AND evaluator_version = :version AND status = 'ok' "
    "AND run_id IN :run_ids AND turn_number IS NOT NULL AND agent_handle IS NOT NULL"
).bindparams(bindparam("run_ids", expanding=True))

_NEWEST = text(
    "SELECT h.run_id, h.turn_number, h.agent_handle, h.items, h.dimension_means "
    "FROM agent_score_history AS h JOIN (SELECT max(history_id) AS history_id "
    "FROM agent_score_history WHERE evaluator = :evaluator AND evaluator_version = :version "
    "AND run_id IN :run_ids GROUP BY run_id, turn_number, agent_handle) AS n "
    "ON n.history_id = h.history_id"
).bindparams(bindparam("run_ids", expanding=True))


def summarise(entry: Evaluator, scored: pd.DataFrame) -> Iterator[dict]:
    """History values for each (run, turn, agent) group of ``scored`` (KEY columns + dimensions).

    Yields:
        Dicts with the KEY columns, items, dimension_means (JSON), overall_mean,
        top_dimension, top_score and high_flags (JSON), in key order.
    """
    names = entry.dimension_names
    grouped = scored.groupby(KEY, sort=True)
    means, counts = grouped[names].mean(), grouped.size()
    for key, row in means.iterrows():
        shares = [entry.dimension(d).rescale(float(row[d])) for d in names]
        top = names[max(range(len(names)), key=lambda i: (shares[i], -i))]
        yield {
            **dict(zip(KEY, key, strict=True)),
            "items": int(counts[key]),
            "dimension_means": json.dumps({d: float(row[d]) for d in names}, sort_keys=True),
            "overall_mean": sum(shares) / len(shares),
            "top_dimension": top,
            "top_score": float(row[top]),
            "high_flags": json.dumps(
                {f"has_high_{d}": bool(row[d] >= entry.dimension(d).threshold) for d in names},
                sort_keys=True,
            ),
        }


def update_history(engine: Engine, entry: Evaluator, version: str, run_ids: list[str]) -> int:
    """Append history rows for every (run, turn, agent) whose scores changed; return how many."""
    params = {"evaluator": entry.name, "version": version, "run_ids": list(run_ids)}
    with engine.connect() as connection:
        raw = connection.execute(_SCORED, params).all()
        newest = {
            (r.run_id, r.turn_number, r.agent_handle): (r.items, r.dimension_means)
            for r in connection.execute(_NEWEST, params)
        }
    if not raw:
        return 0
    scores = pd.DataFrame([json.loads(r.scores) for r in raw], columns=entry.dimension_names)
    scored = pd.concat([pd.DataFrame(raw, columns=[*KEY, "scores"])[KEY], scores], axis=1)
    now = utc_now()
    rows = [
        {**row, "evaluator": entry.name, "evaluator_version": version, "created_at": now}
        for row in summarise(entry, scored)
        if newest.get(tuple(row[k] for k in KEY)) != (row["items"], row["dimension_means"])
    ]
    if rows:
        with engine.begin() as connection:
            connection.execute(agent_score_history.insert(), rows)
    return len(rows)
