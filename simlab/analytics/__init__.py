"""DuckDB over the simlab SQLite file: views and tidy pandas frames for notebooks and reports.

Three lines to a chart's data::

    con = simlab.analytics.connect("data/simlab.db")
    cid = simlab.analytics.latest_comparison(con)
    simlab.analytics.metric_bands(con, "turn.engagement.rate", comparison_id=cid)

Every function takes the connection from :func:`connect` and returns a long
pandas frame whose columns its docstring names. Filters are DuckDB query
parameters, never SQL text. Large tables are aggregated in DuckDB; frames are
small. Power users can query the views (``actions``, ``turn_metrics_long``,
``run_metrics_long``, ``exposures``, ``runs_overview``) and the raw tables
(``sim.<table>``) with ``con.sql(...)``.

``arm`` is a run's comparison arm (its feed algorithm outside comparisons);
``replicate`` is its replicate index (0 outside comparisons). Comparison frames
list arms in the comparison's order (:func:`arm_order`).
"""

from simlab.analytics._query import arm_order
from simlab.analytics.actions import (
    action_counts,
    action_mix,
    comments,
    follow_edges,
    follow_growth,
    top_posts,
)
from simlab.analytics.agents import agent_activity, agent_feed, leaning_distribution
from simlab.analytics.connection import access_method, connect, snapshot_path
from simlab.analytics.evaluations import (  # noqa: F401 (the lead adds these to __all__)
    agent_state_at,
    dimension_trends,
    evaluated_dimensions,
    evaluation_metrics,
    evaluation_turn_metrics,
    fill_run_scalars,
    leaderboard,
    top_items,
)
from simlab.analytics.metrics import (
    HEADLINE_METRICS,
    comparison_summary,
    exposure_diversity,
    metric_bands,
    run_scalars,
    turn_metrics,
)
from simlab.analytics.runs import comparisons, latest_comparison, runs

__all__ = [
    "HEADLINE_METRICS",
    "access_method",
    "action_counts",
    "action_mix",
    "agent_activity",
    "agent_feed",
    "arm_order",
    "comments",
    "comparison_summary",
    "comparisons",
    "connect",
    "exposure_diversity",
    "follow_edges",
    "follow_growth",
    "latest_comparison",
    "leaning_distribution",
    "metric_bands",
    "run_scalars",
    "snapshot_path",
    "runs",
    "top_posts",
    "turn_metrics",
]
