"""Altair charts for evaluation frames (:mod:`simlab.analytics.evaluations`); no I/O.

Arm colours and the theme come from :mod:`simlab.charts`, so a feed has the
same colour here as in every other chart.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from simlab import charts

FLAG_COLORS = alt.Scale(domain=[False, True], range=["#9e9e9e", "#d55e00"])


def _require(frame: pd.DataFrame, columns: tuple[str, ...], builder: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing or frame.empty:
        raise ValueError(
            f"{builder}: needs a non-empty frame with columns {', '.join(columns)}"
            + (f" (missing {', '.join(missing)})" if missing else " (got no rows)")
        )


def dimension_trend(
    trends: pd.DataFrame, evaluator: str, dimension: str, *, title: str | None = None
) -> alt.LayerChart:
    """A dimension's mean per turn, one line per feed on its 95% CI band over replicates.

    Args:
        trends: ``analytics.dimension_trends`` (arm, turn, n, mean, ci_low, ci_high).
        evaluator: the evaluator, for the axis title.
        dimension: the dimension, for the axis title.
        title: chart title.
    """
    _require(trends, ("arm", "turn", "mean", "ci_low", "ci_high"), "dimension_trend")
    return charts.metric_over_turns(
        trends, title=title, y_title=f"{evaluator}: mean {dimension} per text"
    )


def leaderboard_bars(
    board: pd.DataFrame, dimension: str, *, top: int = 15, title: str | None = None
) -> alt.Chart:
    """The ``top`` agents of a leaderboard: bars of their mean, orange when flagged.

    Args:
        board: ``analytics.leaderboard`` (rank, agent_handle, items, mean, high_turns, flagged).
        dimension: the ranked dimension, for the axis title.
        top: how many agents to draw.
        title: chart title.
    """
    _require(board, ("rank", "agent_handle", "items", "mean", "flagged"), "leaderboard_bars")
    data = board.nsmallest(top, "rank")
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("mean:Q", title=f"mean {dimension}"),
            y=alt.Y("agent_handle:N", sort=alt.SortField("rank"), title=None),
            color=alt.Color("flagged:N", scale=FLAG_COLORS, title=f"has_high_{dimension}"),
            tooltip=[
                "rank:Q",
                "agent_handle:N",
                "items:Q",
                alt.Tooltip("mean:Q", format=".3f"),
                *(["high_turns:Q"] if "high_turns" in data.columns else []),
            ],
        )  # fmt: skip
    )
    return chart.properties(title=title) if title else chart


def arm_means(metrics: pd.DataFrame, key: str, *, title: str | None = None) -> alt.LayerChart:
    """One evaluation metric per run as dots by feed, with each feed's mean as a tick.

    Args:
        metrics: ``analytics.evaluation_metrics`` (run_id, arm, replicate, key, value).
        key: the metric to draw, e.g. ``run.evaluation.offensive.offensive``.
        title: chart title.
    """
    _require(metrics, ("run_id", "arm", "replicate", "key", "value"), "arm_means")
    data = metrics[metrics["key"] == key]
    if data.empty:
        raise ValueError(f"arm_means: no rows for key {key!r}")
    arms = list(dict.fromkeys(data["arm"].astype(str)))
    color = alt.Color("arm:N", scale=charts.color_scale(arms), legend=None)
    x = alt.X("arm:N", sort=arms, title=None)
    base = alt.Chart(data.assign(arm=data["arm"].astype(str)))
    dots = base.mark_circle(size=70, opacity=0.7).encode(
        x=x, y=alt.Y("value:Q", title=key), color=color,
        tooltip=["arm:N", "replicate:Q", "run_id:N", alt.Tooltip("value:Q", format=".4f")],
    )  # fmt: skip
    means = base.mark_tick(size=30, thickness=3).encode(x=x, y="mean(value):Q", color=color)
    layered = alt.layer(dots, means)
    return layered.properties(title=title) if title else layered
