"""Charts of evaluation frames (:mod:`simlab.analytics.evaluations`): trends, leaderboards, runs.

Every builder uses the shared encodings of :mod:`simlab.charts.encoding` (feed
colours from the registry palette, the "Feed" legend, the turn axis), sets a
title and a panel width, and so gets the theme and the paper fit
(:mod:`simlab.charts.paper`) like every other chart of a report.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from simlab.charts.encoding import (
    arm_color,
    arm_order,
    num_tooltip,
    require_columns,
    titled,
    with_str_arm,
)
from simlab.charts.over_turns import metric_over_turns
from simlab.charts.theme import PANEL_WIDTH, WIDTH

FLAG_COLORS = alt.Scale(domain=[False, True], range=["#9e9e9e", "#d55e00"])


def dimension_label(evaluator: str, dimension: str) -> str:
    """How titles name a dimension: ``offensive``, or ``sentiment compound``."""
    return dimension if dimension == evaluator else f"{evaluator} {dimension}"


def dimension_trend(
    trends: pd.DataFrame, evaluator: str, dimension: str, *, title: str | None = None
) -> alt.LayerChart:
    """A dimension's mean per turn, one line per feed on its 95% CI band over replicates.

    Args:
        trends: ``analytics.dimension_trends`` (arm, turn, n, mean, ci_low, ci_high).
        evaluator: the evaluator, for the axis title.
        dimension: the dimension, for the axis title.
        title: chart title; default "<evaluator> <dimension> per turn".

    Raises:
        ValueError: missing columns or an empty frame.
    """
    require_columns(trends, ("arm", "turn", "mean", "ci_low", "ci_high"), "dimension_trend")
    return metric_over_turns(
        trends,
        title=title or f"{dimension_label(evaluator, dimension)} of what agents wrote, per turn",
        y_title=f"Mean {dimension} per text ({evaluator})",
    )


def leaderboard_bars(
    board: pd.DataFrame, dimension: str, *, top: int = 15, title: str | None = None
) -> alt.Chart:
    """The ``top`` agents of a leaderboard: bars of their mean, orange when flagged.

    Args:
        board: ``analytics.leaderboard`` (rank, agent_handle, items, mean, high_turns, flagged).
        dimension: the ranked dimension, for the axis title.
        top: how many agents to draw.
        title: chart title; default "Top <top> agents by mean <dimension>".

    Raises:
        ValueError: missing columns or an empty frame.
    """
    require_columns(board, ("rank", "agent_handle", "items", "mean", "flagged"), "leaderboard_bars")
    data = board.nsmallest(top, "rank")
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("mean:Q", title=f"Mean {dimension} of the agent's texts"),
            y=alt.Y("agent_handle:N", sort=alt.SortField("rank"), title="Agent"),
            color=alt.Color("flagged:N", scale=FLAG_COLORS, title=f"has_high_{dimension}"),
            tooltip=[
                alt.Tooltip("rank:Q"),
                alt.Tooltip("agent_handle:N"),
                alt.Tooltip("items:Q"),
                num_tooltip("mean"),
                *([alt.Tooltip("high_turns:Q")] if "high_turns" in data.columns else []),
            ],
        )
        .properties(width=WIDTH)
    )
    return titled(chart, title or f"Top {len(data)} agents by mean {dimension}")


def arm_means(
    metrics: pd.DataFrame, key: str, *, title: str | None = None, y_title: str | None = None
) -> alt.LayerChart:
    """One evaluation metric per run as dots by feed, with each feed's mean as a tick.

    Args:
        metrics: ``analytics.evaluation_metrics`` (run_id, arm, replicate, key, value).
        key: the metric to draw, e.g. ``run.evaluation.offensive.offensive``.
        title: chart title; default "<key>: one dot per run".
        y_title: y-axis title; default the key.

    Raises:
        ValueError: missing columns, an empty frame, or no rows for ``key``.
    """
    require_columns(metrics, ("run_id", "arm", "replicate", "key", "value"), "arm_means")
    data = metrics[metrics["key"] == key]
    if data.empty:
        raise ValueError(f"arm_means: no rows for key {key!r}")
    arms = arm_order(data)
    x = alt.X("arm:N", sort=arms, title="Feed", axis=alt.Axis(labelAngle=0))
    base = alt.Chart(with_str_arm(data)).encode(x=x, color=arm_color(arms))
    dots = base.mark_circle(size=70, opacity=0.7).encode(
        y=alt.Y("value:Q", title=y_title or key),
        tooltip=[
            alt.Tooltip("arm:N"),
            alt.Tooltip("replicate:Q"),
            alt.Tooltip("run_id:N"),
            alt.Tooltip("value:Q", format=".4f"),
        ],
    )
    means = base.mark_tick(size=30, thickness=3).encode(y=alt.Y("mean(value):Q"))
    chart = alt.layer(dots, means).properties(width=PANEL_WIDTH)
    return titled(chart, title or f"{key}: one dot per run, tick at the feed's mean")
