"""Metrics by agent group: left / centre / right leaning, high / low activity.

Groups come from the stored population's traits (``agent_traits``), before
turn 0:

- leaning: ``left`` if leaning < -1/3, ``right`` if leaning > 1/3, else ``centre``
  (thirds of the [-1, 1] scale);
- activity: ``high`` if the agent's activity rate is at least the population's
  median rate, else ``low``.

Per run and group (agents with a recorded leaning in the run), with ``A`` the
group's agents, ``I`` the feed items served to them and ``L, C, F`` their
likes, comments and follows:

- ``actions_per_agent`` = (L + C + F) / |A|
- ``engagement_rate`` = (L + C + F) / I (NaN when I = 0)
- ``leaning_shift`` = mean over A of (leaning after the last turn − starting leaning)

:func:`group_summary` averages each over an arm's runs. A run of a drawn
population (``population`` in its config) is grouped by the stored traits too.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from simlab.analytics._query import ARM_ORDER, SELECTION, fetch, selection

LEANING_CUT = 1 / 3
GROUP_METRICS = {
    "actions_per_agent": "Actions per agent (likes, comments, follows)",
    "engagement_rate": "Engagement rate (actions per impression)",
    "leaning_shift": "Mean leaning shift (scale −1 to 1)",
}
GROUP_ORDER = {"leaning": ["left", "centre", "right"], "activity": ["low", "high"]}


def group_metrics(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
) -> pd.DataFrame:
    """Per run, grouping and group: agents, impressions, actions and the group metrics.

    Returns:
        Columns run_id, arm, replicate, grouping (``leaning`` or ``activity``), group,
        agents, impressions, likes, comments, follows, actions_per_agent,
        engagement_rate, leaning_shift; by arm order, replicate, grouping, group order.
    """
    params = {**selection(con, run_ids=run_ids, comparison_id=comparison_id), "cut": LEANING_CUT}
    return fetch(con, _GROUP_METRICS.format(SELECTION=SELECTION, ARM_ORDER=ARM_ORDER), params)


_GROUP_METRICS = """
    WITH {SELECTION},
    traits AS (
        SELECT a.handle AS agent_handle, t.leaning AS leaning_start, t.activity_rate
        FROM sim.agent AS a JOIN sim.agent_traits AS t ON t.agent_id = a.agent_id
    ),
    typed AS (
        SELECT agent_handle, leaning_start,
               CASE WHEN leaning_start < -$cut THEN 'left'
                    WHEN leaning_start > $cut THEN 'right' ELSE 'centre' END AS leaning,
               CASE WHEN activity_rate >= (SELECT median(activity_rate) FROM traits)
                    THEN 'high' ELSE 'low' END AS activity
        FROM traits
    ),
    ended AS (
        SELECT l.run_id, l.agent_handle, arg_max(l.leaning, l.turn_number) AS leaning_end
        FROM agent_leanings AS l JOIN sel USING (run_id) GROUP BY ALL
    ),
    served AS (
        SELECT f.run_id, f.agent_handle, count(*) AS impressions
        FROM feed_items AS f JOIN sel USING (run_id) GROUP BY ALL
    ),
    acted AS (
        SELECT x.run_id, x.agent_handle,
               count(*) FILTER (WHERE x.action = 'like') AS likes,
               count(*) FILTER (WHERE x.action = 'comment') AS comments,
               count(*) FILTER (WHERE x.action = 'follow') AS follows
        FROM actions AS x JOIN sel USING (run_id) GROUP BY ALL
    ),
    agents AS (
        SELECT e.run_id, e.agent_handle, y.leaning, y.activity,
               e.leaning_end - y.leaning_start AS shift,
               coalesce(s.impressions, 0) AS impressions, coalesce(x.likes, 0) AS likes,
               coalesce(x.comments, 0) AS comments, coalesce(x.follows, 0) AS follows
        FROM ended AS e JOIN typed AS y USING (agent_handle)
        LEFT JOIN served AS s USING (run_id, agent_handle)
        LEFT JOIN acted AS x USING (run_id, agent_handle)
    ),
    grouped AS (
        SELECT run_id, 'leaning' AS grouping, leaning AS "group", * EXCLUDE (run_id, leaning, activity)
        FROM agents
        UNION ALL
        SELECT run_id, 'activity', activity, * EXCLUDE (run_id, leaning, activity) FROM agents
    ),
    totals AS (
        SELECT run_id, grouping, "group", count(*) AS agents,
               CAST(sum(impressions) AS BIGINT) AS impressions,
               CAST(sum(likes) AS BIGINT) AS likes, CAST(sum(comments) AS BIGINT) AS comments,
               CAST(sum(follows) AS BIGINT) AS follows, avg(shift) AS leaning_shift
        FROM grouped GROUP BY ALL
    )
    SELECT s.run_id, s.arm, s.replicate, t.grouping, t."group", t.agents, t.impressions,
           t.likes, t.comments, t.follows,
           (t.likes + t.comments + t.follows) / t.agents AS actions_per_agent,
           CASE WHEN t.impressions > 0
                THEN (t.likes + t.comments + t.follows) / t.impressions END AS engagement_rate,
           t.leaning_shift
    FROM totals AS t JOIN sel AS s USING (run_id)
    ORDER BY {ARM_ORDER}, s.replicate, s.run_id, t.grouping DESC,
             CASE t."group" WHEN 'left' THEN 0 WHEN 'centre' THEN 1 WHEN 'right' THEN 2
                            WHEN 'low' THEN 0 ELSE 1 END
"""


def group_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Each group metric's mean over an arm's runs, long: one row per arm, grouping, group, metric.

    Args:
        frame: :func:`group_metrics`.

    Returns:
        Columns arm, grouping, group, metric (a :data:`GROUP_METRICS` key), mean,
        runs (runs with a defined value); arms in the frame's order.
    """
    long = frame.melt(
        id_vars=["arm", "grouping", "group"],
        value_vars=list(GROUP_METRICS),
        var_name="metric",
        value_name="value",
    )
    summary = long.groupby(["arm", "grouping", "group", "metric"], sort=False)["value"].agg(
        mean="mean", runs="count"
    )
    return summary.reset_index()
