"""Metrics by agent group: a bar per arm within each group, a panel per metric and grouping."""

from __future__ import annotations

import altair as alt
import pandas as pd

from simlab.analytics.groups import GROUP_METRICS, GROUP_ORDER
from simlab.charts.encoding import arm_color, arm_order, num_tooltip, require_columns, titled
from simlab.charts.theme import PANEL_WIDTH


def group_bars(summary: pd.DataFrame, *, title: str | None = None) -> alt.VConcatChart:
    """Each arm's mean of each group metric, by leaning group and by activity group.

    Args:
        summary: columns arm, grouping, group, metric, mean, runs
            (``analytics.groups.group_summary``).
        title: chart title; default "Metrics by agent group".

    Raises:
        ValueError: missing columns or an empty frame.
    """
    require_columns(summary, ("arm", "grouping", "group", "metric", "mean"), "group_bars")
    if summary.empty:
        raise ValueError("group_bars: no rows")
    arms = arm_order(summary)
    rows = []
    for grouping, order in GROUP_ORDER.items():
        panels = []
        for metric, label in GROUP_METRICS.items():
            data = summary[(summary["grouping"] == grouping) & (summary["metric"] == metric)]
            panels.append(
                alt.Chart(data)
                .mark_bar()
                .encode(
                    x=alt.X(
                        "group:N",
                        sort=order,
                        title=f"{grouping.capitalize()} group",
                        axis=alt.Axis(labelAngle=0),
                    ),  # fmt: skip
                    xOffset=alt.XOffset("arm:N", sort=arms),
                    y=alt.Y("mean:Q", title="Mean over runs"),
                    color=arm_color(arms),
                    tooltip=[
                        alt.Tooltip("arm:N"),
                        alt.Tooltip("group:N"),
                        num_tooltip("mean"),
                        alt.Tooltip("runs:Q"),
                    ],
                )
                .properties(width=PANEL_WIDTH * 2 // 3, height=180, title=label)
            )
        rows.append(alt.hconcat(*panels))
    return titled(alt.vconcat(*rows), title or "Metrics by agent group")
