"""DuckDB over the simlab SQLite file: views and tidy pandas frames for notebooks and reports.

Three lines to a chart's data::

    con = simlab.analytics.connect("data/simlab.db")
    cid = simlab.analytics.latest_comparison(con)
    simlab.analytics.metric_bands(con, comparison_id=cid, key="turn.engagement.rate")

Every function takes the connection from :func:`connect` as its only
positional argument; everything else is keyword-only, in one order: the
selectors first (``run_id`` for one run, or ``run_ids`` then
``comparison_id``), then what to compute (``key``, ``keys``, ...), then
options. A :class:`Selection`'s ``kwargs`` are those selectors. Frames are
long pandas frames whose columns each docstring names. Filters are DuckDB
query parameters, never SQL text. Large tables are aggregated in DuckDB;
frames are small. Power users can query the views (``actions``,
``turn_metrics_long``, ``run_metrics_long``, ``exposures``, ``feed_items``,
``runs_overview``)
and the raw tables (``sim.<table>``) with ``con.sql(...)``.

``arm`` is a run's comparison arm (its feed algorithm outside comparisons);
``replicate`` is its replicate index (0 outside comparisons). Comparison frames
list arms in the comparison's order (:func:`arm_order`).

Modules: :mod:`~simlab.analytics.connection` (connecting),
:mod:`~simlab.analytics.runs`, :mod:`~simlab.analytics.metrics`,
:mod:`~simlab.analytics.actions`, :mod:`~simlab.analytics.agents` (frames),
:mod:`~simlab.analytics.selection` (what a notebook shows, its pickers) and
:mod:`~simlab.analytics.summary` (tables and prose for reading).
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
from simlab.analytics.agents import (
    agent_activity,
    agent_count,
    agent_feed,
    leaning_distribution,
    served_turns,
)
from simlab.analytics.connection import access_method, connect, snapshot_path
from simlab.analytics.evaluations import (
    AgentState,
    agent_state_at,
    dimension_trends,
    evaluated_dimensions,
    evaluation_metrics,
    evaluation_turn_metrics,
    fill_run_scalars,
    leaderboard,
    top_items,
)
from simlab.analytics.llm import (
    llm_usage,
    stance_at,
    stance_history,
)
from simlab.analytics.metrics import (
    HEADLINE_METRICS,
    comparison_summary,
    exposure_diversity,
    metric_bands,
    run_scalars,
    summary_metric_keys,
    turn_metrics,
)
from simlab.analytics.runs import comparisons, completed_turns, latest_comparison, runs
from simlab.analytics.selection import (
    DEFAULT_METRICS,
    Selection,
    busiest_agent,
    comparison_options,
    default_metrics,
    initial_run,
    initial_selection,
    label_of,
    labels_of,
    metric_options,
    run_options,
)
from simlab.analytics.summary import degree_table, headline, run_facts, summary, summary_table

__all__ = [
    "AgentState",
    "Selection",
    "DEFAULT_METRICS",
    "HEADLINE_METRICS",
    "access_method",
    "action_counts",
    "action_mix",
    "agent_activity",
    "agent_count",
    "agent_feed",
    "agent_state_at",
    "arm_order",
    "busiest_agent",
    "comments",
    "comparison_options",
    "comparison_summary",
    "comparisons",
    "completed_turns",
    "connect",
    "default_metrics",
    "degree_table",
    "dimension_trends",
    "evaluated_dimensions",
    "evaluation_metrics",
    "evaluation_turn_metrics",
    "exposure_diversity",
    "fill_run_scalars",
    "follow_edges",
    "follow_growth",
    "headline",
    "initial_run",
    "initial_selection",
    "label_of",
    "labels_of",
    "latest_comparison",
    "leaderboard",
    "leaning_distribution",
    "llm_usage",
    "metric_bands",
    "metric_options",
    "run_facts",
    "run_options",
    "run_scalars",
    "runs",
    "served_turns",
    "snapshot_path",
    "stance_at",
    "stance_history",
    "summary",
    "summary_metric_keys",
    "summary_table",
    "top_items",
    "top_posts",
    "turn_metrics",
]
