"""Views over the attached database (catalog ``sim``), created in every analytics connection.

=====================  ==================================================================
view                   columns
=====================  ==================================================================
``actions``            run_id, turn_number, agent_handle, action (like / comment / follow),
                       target (post_id, or the followed account's handle), text (comments
                       only), explanation and model_used (rebuilt for compact
                       rule-based rows, :mod:`simlab.compact_rows`), created_at
``agent_leanings``     run_id, turn_number, agent_handle, leaning: every agent of the run at
                       every recorded turn, forward-filled from ``agent_leaning_changes``
``turn_metrics_long``  run_id, turn_number, key, value (DOUBLE; NULL where undefined)
``run_metrics_long``   run_id, key, value
``exposures``          run_id, turn_number, agent_handle, rank (1 = top), post_id, score:
                       ``generated_feeds.post_ids`` unnested alongside ``feed_scores.scores``
``feed_items``         run_id, turn_number, agent_handle, rank (1 = top), post_id: every
                       feed's ``post_ids`` unnested (finished runs read the items their
                       columnar copy keeps, :mod:`simlab.feed_items`; others parse the JSON)
``posts``              run_id, post_id, origin ('corpus' / 'agent'), author_handle, text,
                       topic, leaning, created_at, turn_number (agent posts only): every
                       run's candidate posts, the population's and its agents' own
``runs_overview``      run_id, feed_algorithm, status, seed, policy, total_agents,
                       total_turns, created_at, completed_at, config_json, comparison_id,
                       arm, replicate (one row per comparison a run belongs to; NULLs for
                       runs in none)
=====================  ==================================================================
"""

from __future__ import annotations

import duckdb

from simlab.compact_rows import lean_columns


def _rebuilt(kind: str) -> str:
    """SQL for the explanation and model_used of ``kind`` rows of alias ``t``, rebuilt."""
    columns = lean_columns(kind, "duckdb", "t")
    return f"{columns['explanation']} AS explanation, {columns['model_used']} AS model_used"


VIEWS = {
    "actions": f"""
        SELECT run_id, turn_number, agent_handle, 'like' AS action, post_id AS target,
               CAST(NULL AS VARCHAR) AS text, {_rebuilt("like")}, created_at
        FROM sim.likes AS t
        UNION ALL
        SELECT run_id, turn_number, agent_handle, 'comment', post_id,
               text, {_rebuilt("comment")}, created_at
        FROM sim.comments AS t
        UNION ALL
        SELECT run_id, turn_number, agent_handle, 'follow', user_id,
               NULL, {_rebuilt("follow")}, created_at
        FROM sim.follows AS t""",
    # Each change holds from its turn up to the agent's next change: a range join with
    # the recorded turns (3-4x faster than an ASOF join of the turns x agents panel).
    "agent_leanings": """
        SELECT c.run_id, m.turn_number, c.agent_handle, c.leaning
        FROM (
            SELECT run_id, agent_handle, turn_number, leaning,
                   lead(turn_number, 1, 9223372036854775807) OVER (
                       PARTITION BY run_id, agent_handle ORDER BY turn_number
                   ) AS until
            FROM sim.agent_leaning_changes
            WHERE (run_id, agent_handle) IN (
                SELECT run_id, agent_handle FROM sim.agent_leaning_changes WHERE turn_number = 0
            )
        ) AS c
        JOIN sim.turn_metadata AS m
            ON m.run_id = c.run_id AND m.turn_number >= c.turn_number AND m.turn_number < c.until""",
    "turn_metrics_long": """
        SELECT run_id, turn_number, unnest(map_keys(m)) AS key, unnest(map_values(m)) AS value
        FROM (
            SELECT run_id, turn_number,
                   CAST(CAST(metrics AS JSON) AS MAP(VARCHAR, DOUBLE)) AS m
            FROM sim.turn_metrics
        )""",
    "run_metrics_long": """
        SELECT run_id, unnest(map_keys(m)) AS key, unnest(map_values(m)) AS value
        FROM (
            SELECT run_id, CAST(CAST(metrics AS JSON) AS MAP(VARCHAR, DOUBLE)) AS m
            FROM sim.run_metrics
        )""",
    "exposures": """
        SELECT run_id, turn_number, agent_handle,
               unnest(range(1, len(p) + 1)) AS rank, unnest(p) AS post_id, unnest(s) AS score
        FROM (
            SELECT g.run_id, g.turn_number, g.agent_handle,
                   from_json(g.post_ids, '["VARCHAR"]') AS p,
                   from_json(f.scores, '["DOUBLE"]') AS s
            FROM sim.generated_feeds AS g
            LEFT JOIN sim.feed_scores AS f USING (run_id, turn_number, agent_handle)
        )""",
    "posts": """
        SELECT r.run_id, p.post_id, 'corpus' AS origin, p.author_handle, p.text,
               n.topic, n.leaning, p.created_at, CAST(NULL AS BIGINT) AS turn_number
        FROM sim.runs AS r
        CROSS JOIN sim.feed_posts AS p
        JOIN sim.post_annotations AS n ON n.post_id = p.post_id
        WHERE NOT EXISTS (
            SELECT 1 FROM sim.post_details AS d WHERE d.post_id = p.post_id AND d.served = 0
        )
        UNION ALL
        SELECT run_id, post_id, 'agent', agent_handle, text, topic, leaning, created_at,
               turn_number
        FROM sim.agent_posts""",
    "runs_overview": """
        SELECT r.run_id, r.feed_algorithm, r.status, c.seed, c.policy, r.total_agents,
               r.total_turns, r.created_at, r.completed_at, c.config_json,
               m.comparison_id, m.arm, m.replicate
        FROM sim.runs AS r
        LEFT JOIN sim.run_configs AS c ON c.run_id = r.run_id
        LEFT JOIN sim.comparison_runs AS m ON m.run_id = r.run_id""",
}


def feed_items_from_json(where: str = "") -> str:
    """The ``feed_items`` rows of ``sim.generated_feeds`` (filtered by ``where``), from the JSON."""
    return f"""
        SELECT run_id, turn_number, agent_handle,
               unnest(range(1, len(p) + 1)) AS rank, unnest(p) AS post_id
        FROM (
            SELECT run_id, turn_number, agent_handle, from_json(post_ids, '["VARCHAR"]') AS p
            FROM sim.generated_feeds{where}
        )"""


def create_views(con: duckdb.DuckDBPyConnection, feed_items: str | None = None) -> None:
    """Create (or replace) every view of :data:`VIEWS` in ``con``.

    Args:
        con: the analytics connection.
        feed_items: the SQL of the ``feed_items`` view where it reads stored
            items (:func:`simlab.analytics.catalog.create_catalog`); None parses
            every feed's JSON (:func:`feed_items_from_json`).
    """
    views = {**VIEWS, "feed_items": feed_items or feed_items_from_json()}
    for name, sql in views.items():
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
