"""What agents did: action counts and mix, comments, popular posts, the follow graph."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from simlab.analytics._query import (
    ARM_ORDER,
    COUNTED,
    SELECTION,
    fetch,
    rows,
    selection,
    staged,
    turn_counts,
)
from simlab.errors import InputError

# The three action kinds in display order.
KINDS = (
    "kinds AS (SELECT unnest(['like', 'comment', 'follow']) AS action, unnest([1, 2, 3]) AS pos)"
)


def action_counts(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
) -> pd.DataFrame:
    """Likes, comments and follows per run and completed turn, counted from the action tables.

    Returns:
        Columns run_id, arm, replicate, turn, action (like / comment / follow),
        count; 0 for a completed turn without that action.
    """
    params = selection(con, run_ids=run_ids, comparison_id=comparison_id)
    with turn_counts(con):
        return fetch(con, _ACTION_COUNTS, params)


# The runs are put in order first (a few rows), so the result sorts on integers.
_ACTION_COUNTS = f"""
        WITH {SELECTION}, {KINDS},
        ranked AS (
            SELECT *, row_number() OVER (ORDER BY {ARM_ORDER}, replicate, run_id) AS run_pos
            FROM sel
        ),
        turns AS (
            SELECT s.run_id, s.arm, s.replicate, s.run_pos, m.turn_number AS turn
            FROM sim.turn_metadata AS m JOIN ranked AS s ON s.run_id = m.run_id
        )
        SELECT t.run_id, t.arm, t.replicate, t.turn, k.action, coalesce(c.n, 0) AS count
        FROM turns AS t CROSS JOIN kinds AS k
        LEFT JOIN {COUNTED} AS c
            ON c.run_id = t.run_id AND c.turn_number = t.turn AND c.action = k.action
        ORDER BY t.run_pos, t.turn, k.pos
        """


def action_mix(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
) -> pd.DataFrame:
    """Actions per agent-turn, by arm: the mean over runs of count / (agents x turns).

    ``agents`` is the run's ``total_agents`` and ``turns`` its completed turns;
    runs without a completed turn are left out.

    Returns:
        Columns arm, action (like / comment / follow), per_agent_turn.
    """
    params = selection(con, run_ids=run_ids, comparison_id=comparison_id)
    with turn_counts(con):
        return fetch(con, _ACTION_MIX, params)


_ACTION_MIX = f"""
        WITH {SELECTION}, {KINDS},
        done AS (
            SELECT run_id, count(*) AS turns FROM sim.turn_metadata
            WHERE run_id IN (SELECT run_id FROM sel) GROUP BY run_id
        ),
        counted AS (SELECT run_id, action, sum(n) AS n FROM {COUNTED} GROUP BY ALL)
        SELECT s.arm, k.action,
               avg(coalesce(c.n, 0) / (s.total_agents * d.turns)) AS per_agent_turn
        FROM sel AS s JOIN done AS d ON d.run_id = s.run_id CROSS JOIN kinds AS k
        LEFT JOIN counted AS c ON c.run_id = s.run_id AND c.action = k.action
        GROUP BY s.arm, k.action, k.pos
        ORDER BY {ARM_ORDER}, k.pos
        """


def comments(con: duckdb.DuckDBPyConnection, *, run_id: str, limit: int = 50) -> pd.DataFrame:
    """The first ``limit`` comments of a run (by turn, agent, post).

    Returns:
        Columns turn_number, agent_handle, post_id, text, explanation.
    """
    if limit < 0:
        raise InputError(f"limit: must be >= 0, got {limit}")
    columns = {
        "turn_number": "BIGINT",
        "agent_handle": "VARCHAR",
        "post_id": "VARCHAR",
        "text": "VARCHAR",
        "explanation": "VARCHAR",
    }
    found = rows(  # inside SQLite: its (run_id, turn_number, agent_handle) index serves the order
        con,
        f"SELECT {', '.join(columns)} FROM {{sim}}comments WHERE run_id = $run_id "
        "ORDER BY turn_number, agent_handle, post_id LIMIT $limit",
        columns,
        {"run_id": run_id, "limit": int(limit)},
    )
    with staged(con, _simlab_comments=found):
        return fetch(
            con,
            "SELECT * FROM _simlab_comments ORDER BY turn_number, agent_handle, post_id",
            {},
        )


def top_posts(con: duckdb.DuckDBPyConnection, *, run_id: str, n: int = 10) -> pd.DataFrame:
    """The ``n`` posts with the most likes in a run (ties: more comments, then post id).

    Only posts liked or commented in the run appear.

    Returns:
        Columns post_id, author_handle, topic, leaning, likes, comments, text
        (likes and comments counted within the run).
    """
    if n < 0:
        raise InputError(f"n: must be >= 0, got {n}")
    return fetch(
        con,
        """
        WITH counted AS (
            SELECT target AS post_id,
                   count(*) FILTER (WHERE action = 'like') AS likes,
                   count(*) FILTER (WHERE action = 'comment') AS comments
            FROM actions WHERE run_id = $run_id AND action IN ('like', 'comment')
            GROUP BY target
        )
        SELECT c.post_id, p.author_handle, a.topic, a.leaning, c.likes, c.comments, p.text
        FROM counted AS c
        LEFT JOIN sim.feed_posts AS p ON p.post_id = c.post_id
        LEFT JOIN sim.post_annotations AS a ON a.post_id = c.post_id
        ORDER BY c.likes DESC, c.comments DESC, c.post_id
        LIMIT $n
        """,
        {"run_id": run_id, "n": int(n)},
    )


def follow_edges(
    con: duckdb.DuckDBPyConnection, *, run_id: str, up_to_turn: int | None = None
) -> pd.DataFrame:
    """The follow graph of a run: initial follows (turn -1) of its agents, then its follows.

    The run's agents are those with a recorded leaning (every agent has one at turn 0).

    Returns:
        Columns source, target (handles), turn; in-run follows up to and including
        ``up_to_turn`` when given.
    """
    return fetch(
        con,
        """
        WITH agents AS (
            SELECT agent_handle FROM sim.agent_leaning_changes
            WHERE run_id = $run_id AND turn_number = 0
        )
        SELECT i.agent_handle AS source, i.followed_handle AS target, CAST(-1 AS BIGINT) AS turn
        FROM sim.initial_follows AS i
        WHERE i.agent_handle IN (SELECT agent_handle FROM agents)
        UNION ALL
        SELECT agent_handle, user_id, turn_number FROM sim.follows
        WHERE run_id = $run_id AND ($up_to_turn IS NULL OR turn_number <= $up_to_turn)
        ORDER BY turn, source, target
        """,
        {"run_id": run_id, "up_to_turn": None if up_to_turn is None else int(up_to_turn)},
    )


def follow_growth(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
) -> pd.DataFrame:
    """New follow edges per completed turn and their running total (initial follows excluded).

    Returns:
        Columns run_id, arm, replicate, turn, new_follows, cumulative.
    """
    params = selection(con, run_ids=run_ids, comparison_id=comparison_id)
    with turn_counts(con):
        return fetch(con, _FOLLOW_GROWTH, params)


_FOLLOW_GROWTH = f"""
        WITH {SELECTION},
        turns AS (
            SELECT s.run_id, s.arm, s.replicate, m.turn_number AS turn
            FROM sim.turn_metadata AS m JOIN sel AS s ON s.run_id = m.run_id
        ),
        counted AS (
            SELECT run_id, turn_number AS turn, n FROM {COUNTED} WHERE action = 'follow'
        )
        SELECT t.run_id, t.arm, t.replicate, t.turn, coalesce(c.n, 0) AS new_follows,
               CAST(sum(coalesce(c.n, 0)) OVER (PARTITION BY t.run_id ORDER BY t.turn)
                    AS BIGINT) AS cumulative
        FROM turns AS t LEFT JOIN counted AS c ON c.run_id = t.run_id AND c.turn = t.turn
        ORDER BY {ARM_ORDER}, replicate, run_id, turn
        """
