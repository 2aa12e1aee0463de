"""Point-in-time stance queries over the append-only ``agent_stances`` history.

An agent's stance on a topic at turn ``t`` is the newest row it recorded on that
topic at or before ``t`` (ties on the turn: the larger ``stance_id``, i.e. the
later append). Rows are never rewritten, so the answer for a past turn never
changes once that turn is committed; ``status`` only marks which row is newest
overall.
"""

from __future__ import annotations

import duckdb
import pandas as pd

STANCE_COLUMNS = ["topic", "stance", "confidence", "leaning", "rationale", "turn_number"]


def stance_at(
    con: duckdb.DuckDBPyConnection, *, run_id: str, agent: str, turn: int
) -> pd.DataFrame:
    """The agent's stance per topic as it stood at the end of ``turn`` (module docstring).

    Returns:
        One row per topic the agent had taken a stance on by then, sorted by
        topic: ``topic, stance, confidence, leaning, rationale, turn_number``
        (the turn it was stated). Empty when it had none.
    """
    return con.execute(
        f"""
        SELECT {", ".join(STANCE_COLUMNS)} FROM sim.agent_stances
        WHERE run_id = $r AND agent_handle = $a AND turn_number <= $t
        QUALIFY row_number() OVER (
            PARTITION BY topic ORDER BY turn_number DESC, stance_id DESC) = 1
        ORDER BY topic
        """,
        {"r": run_id, "a": agent, "t": turn},
    ).df()
