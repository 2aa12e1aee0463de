"""Agents: what each saw and did, one agent's feed, and the distribution of leanings."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from simlab.analytics._query import ARM_ORDER, SELECTION, fetch, rows, selection, staged
from simlab.errors import InputError

_ACTIONS = """
SELECT agent_handle, 'like' AS action, post_id AS target FROM {sim}likes WHERE {where}
UNION ALL
SELECT agent_handle, 'comment', post_id FROM {sim}comments WHERE {where}
UNION ALL
SELECT agent_handle, 'follow', user_id FROM {sim}follows WHERE {where}
"""
_ACTION_COLUMNS = {"agent_handle": "VARCHAR", "action": "VARCHAR", "target": "VARCHAR"}
_RUN_TURN_AGENT = "run_id = $run_id AND turn_number = $turn AND agent_handle = $agent"


def _actions(where: str) -> str:
    return _ACTIONS.replace("{where}", where)


def agent_activity(con: duckdb.DuckDBPyConnection, *, run_id: str) -> pd.DataFrame:
    """Per agent of a run: feeds received, items seen, actions taken, leaning before and after.

    Returns:
        Columns agent_handle, feeds (turns with a feed), impressions (feed items
        served), likes, comments, follows, leaning_start (``agent_traits``, before
        turn 0), leaning_end (after the last recorded turn). One row per agent
        with a recorded leaning, by handle.
    """
    return fetch(con, _AGENT_ACTIVITY, {"run_id": run_id})


# Whole-run summaries scan in DuckDB (parallel); SQLite's indexes only pay off for
# needles like one agent's feed.
_AGENT_ACTIVITY = """
    WITH agents AS (
        SELECT agent_handle, arg_max(leaning, turn_number) AS leaning_end
        FROM sim.agent_leaning_changes WHERE run_id = $run_id GROUP BY agent_handle
    ),
    served AS (
        SELECT agent_handle, count(*) AS feeds
        FROM sim.generated_feeds WHERE run_id = $run_id GROUP BY agent_handle
    ),
    seen AS (
        SELECT agent_handle, count(*) AS impressions
        FROM feed_items WHERE run_id = $run_id GROUP BY agent_handle
    ),
    acted AS (
        SELECT agent_handle,
               count(*) FILTER (WHERE action = 'like') AS likes,
               count(*) FILTER (WHERE action = 'comment') AS comments,
               count(*) FILTER (WHERE action = 'follow') AS follows
        FROM actions WHERE run_id = $run_id GROUP BY agent_handle
    ),
    start AS (
        SELECT a.handle AS agent_handle, t.leaning AS leaning_start
        FROM sim.agent AS a JOIN sim.agent_traits AS t ON t.agent_id = a.agent_id
    )
    SELECT g.agent_handle,
           coalesce(s.feeds, 0) AS feeds,
           coalesce(i.impressions, 0) AS impressions,
           coalesce(x.likes, 0) AS likes, coalesce(x.comments, 0) AS comments,
           coalesce(x.follows, 0) AS follows,
           b.leaning_start, g.leaning_end
    FROM agents AS g
    LEFT JOIN served AS s ON s.agent_handle = g.agent_handle
    LEFT JOIN seen AS i ON i.agent_handle = g.agent_handle
    LEFT JOIN acted AS x ON x.agent_handle = g.agent_handle
    LEFT JOIN start AS b ON b.agent_handle = g.agent_handle
    ORDER BY g.agent_handle
"""


def agent_feed(
    con: duckdb.DuckDBPyConnection, *, run_id: str, turn: int, agent_handle: str
) -> pd.DataFrame:
    """The feed one agent was served in one turn, and what the agent did with each item.

    Returns:
        Columns rank (1 = top), post_id, score, topic, post_leaning, author_handle,
        text, liked, commented, followed_author (bools, that turn); empty if the
        agent was not served a feed that turn.
    """
    params = {"run_id": run_id, "turn": int(turn), "agent": agent_handle}
    served = rows(
        con,
        "SELECT g.post_ids, f.scores FROM {sim}generated_feeds AS g "
        "LEFT JOIN {sim}feed_scores AS f ON f.run_id = g.run_id "
        "AND f.turn_number = g.turn_number AND f.agent_handle = g.agent_handle "
        "WHERE g.run_id = $run_id AND g.turn_number = $turn AND g.agent_handle = $agent",
        {"post_ids": "VARCHAR", "scores": "VARCHAR"},
        params,
    )
    acted = rows(con, _actions(_RUN_TURN_AGENT), _ACTION_COLUMNS, params)
    with staged(con, _simlab_served=served, _simlab_acted=acted):
        return fetch(con, _AGENT_FEED, {})


_AGENT_FEED = """
    WITH lists AS (
        SELECT CAST(CAST(post_ids AS JSON) AS VARCHAR[]) AS p,
               CAST(CAST(scores AS JSON) AS DOUBLE[]) AS s
        FROM _simlab_served
    ),
    feed AS (
        SELECT unnest(range(1, len(p) + 1)) AS rank, unnest(p) AS post_id, unnest(s) AS score
        FROM lists
    )
    SELECT f.rank, f.post_id, f.score, a.topic, a.leaning AS post_leaning,
           p.author_handle, p.text,
           coalesce(f.post_id IN (SELECT target FROM _simlab_acted WHERE action = 'like'), false)
               AS liked,
           coalesce(f.post_id IN (SELECT target FROM _simlab_acted WHERE action = 'comment'),
                    false) AS commented,
           coalesce(p.author_handle IN
                    (SELECT target FROM _simlab_acted WHERE action = 'follow'), false)
               AS followed_author
    FROM feed AS f
    LEFT JOIN sim.feed_posts AS p ON p.post_id = f.post_id
    LEFT JOIN sim.post_annotations AS a ON a.post_id = f.post_id
    ORDER BY f.rank
"""


def leaning_distribution(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    bins: int = 20,
    turns: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Histogram of agents' leanings after each turn, averaged over each arm's runs.

    [-1, 1] is cut into ``bins`` equal bins, closed on the left (the last also on
    the right). Counting happens in DuckDB; a run's share in a bin is its count
    over its agents, and ``share`` is the mean of that over the arm's runs
    recorded at that turn (zero-filled, so each (arm, turn) sums to 1).

    Returns:
        Columns arm, turn, bin_low, bin_high, share.
    """
    if int(bins) < 1:
        raise InputError(f"bins: must be >= 1, got {bins}")
    params = {
        **selection(con, run_ids=run_ids, comparison_id=comparison_id),
        "bins": int(bins),
        "turns": None if turns is None else [int(t) for t in turns],
    }
    return fetch(
        con,
        f"""
        WITH {SELECTION},
        binned AS (
            SELECT s.run_id, s.arm, l.turn_number AS turn,
                   least(CAST(floor((l.leaning + 1) / 2 * $bins) AS BIGINT), $bins - 1) AS bin
            FROM agent_leanings AS l JOIN sel AS s ON s.run_id = l.run_id
            WHERE $turns IS NULL OR list_contains(CAST($turns AS BIGINT[]), l.turn_number)
        ),
        per_run AS (
            SELECT run_id, arm, turn, bin, count(*) AS n FROM binned GROUP BY ALL
        ),
        run_total AS (
            SELECT run_id, arm, turn, sum(n) AS total FROM per_run GROUP BY ALL
        ),
        runs_at AS (SELECT arm, turn, count(*) AS n_runs FROM run_total GROUP BY ALL),
        shares AS (
            SELECT p.arm, p.turn, p.bin, sum(p.n / r.total) AS share_sum
            FROM per_run AS p JOIN run_total AS r
                ON r.run_id = p.run_id AND r.turn = p.turn
            GROUP BY ALL
        ),
        all_bins AS (SELECT unnest(range($bins)) AS bin),
        result AS (
            SELECT t.arm, t.turn, CAST(b.bin AS DOUBLE) * 2 / $bins - 1 AS bin_low,
                   CAST(b.bin + 1 AS DOUBLE) * 2 / $bins - 1 AS bin_high,
                   coalesce(s.share_sum, 0) / t.n_runs AS share
            FROM runs_at AS t CROSS JOIN all_bins AS b
            LEFT JOIN shares AS s ON s.arm = t.arm AND s.turn = t.turn AND s.bin = b.bin
        )
        SELECT * FROM result ORDER BY {ARM_ORDER}, turn, bin_low
        """,
        params,
    )


def served_turns(
    con: duckdb.DuckDBPyConnection, *, run_id: str, agent_handle: str | None
) -> list[int]:
    """The turns in which the agent was served a feed (``[0]`` if none, so a picker has a value)."""
    found = con.execute(
        "SELECT DISTINCT turn_number FROM sim.generated_feeds "
        "WHERE run_id = $r AND agent_handle = $a ORDER BY turn_number",
        {"r": run_id, "a": agent_handle},
    ).fetchall()
    return [int(t) for (t,) in found] or [0]


def agent_count(con: duckdb.DuckDBPyConnection) -> int:
    """Agents in the database's population (``sim.agent``)."""
    return int(con.execute("SELECT count(*) FROM sim.agent").fetchone()[0])
