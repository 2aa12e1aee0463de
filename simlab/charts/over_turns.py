"""Charts of metrics over turns: one metric with its CI band, actions, exposure, leanings, follows.

Each builder averages replicates to one row per arm x turn (or cell) and thins
long series to at most ``MAX_ROWS`` rows, saying so in the subtitle.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from simlab.charts.encoding import (
    action_order,
    arm_color,
    arm_order,
    metric_label,
    num_tooltip,
    require_columns,
    thin_turns,
    titled,
    turn_axis,
    with_str_arm,
)
from simlab.charts.theme import PANEL_WIDTH, WIDTH

ENTROPY = "turn.exposure.topic_entropy_per_agent"
CROSS_CUTTING = "turn.exposure.cross_cutting_share"


def metric_over_turns(
    bands: pd.DataFrame,
    key: str | None = None,
    *,
    title: str | None = None,
    y_title: str | None = None,
) -> alt.LayerChart:
    """One metric over turns: a line per arm (mean over replicates) on its 95% CI band.

    Args:
        bands: columns arm, turn, mean, ci_low, ci_high (n is shown if present); one
            row per arm × turn of one metric, as ``analytics.metric_bands`` returns.
        key: the metric key, for the y-axis title; default: the frame's single
            ``key`` column value or ``bands.attrs["key"]``.
        title: chart title.
        y_title: y-axis title; default: ``metric_label(key)``.

    Raises:
        ValueError: missing columns, an empty frame, or more than one metric key.
    """
    require_columns(bands, ("arm", "turn", "mean", "ci_low", "ci_high"), "metric_over_turns")
    keys = list(pd.unique(bands["key"])) if "key" in bands.columns else []
    if len(keys) > 1:
        raise ValueError(f"metric_over_turns: one metric expected, got keys {keys}")
    key = key or (keys[0] if keys else bands.attrs.get("key"))
    arms = arm_order(bands)
    data, note = thin_turns(with_str_arm(bands))
    tooltip = [
        alt.Tooltip("arm:N"),
        alt.Tooltip("turn:Q"),
        num_tooltip("mean"),
        num_tooltip("ci_low"),
        num_tooltip("ci_high"),
    ]
    tooltip += [alt.Tooltip("n:Q")] if "n" in data.columns else []
    base = alt.Chart(data).encode(x=turn_axis(), color=arm_color(arms))
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("ci_low:Q"), y2=alt.Y2("ci_high:Q"))
    axis_title = y_title or (metric_label(key) if key else "Mean over replicates")
    line = base.mark_line().encode(y=alt.Y("mean:Q", title=axis_title), tooltip=tooltip)
    return titled(alt.layer(band, line), title, note)


def actions_over_turns(action_counts: pd.DataFrame, *, title: str | None = None) -> alt.FacetChart:
    """Actions per turn, one panel per action, a line per arm (mean over replicates).

    Args:
        action_counts: columns arm, turn, action, count, one row per run × turn ×
            action (``analytics.action_counts``; run_id and replicate are ignored).
        title: chart title.
    """
    require_columns(action_counts, ("arm", "turn", "action", "count"), "actions_over_turns")
    arms, actions = arm_order(action_counts), action_order(action_counts)
    means = (
        with_str_arm(action_counts)
        .groupby(["arm", "turn", "action"], sort=False, as_index=False)["count"]
        .mean()
    )
    data, note = thin_turns(means)
    chart = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=turn_axis(),
            y=alt.Y("count:Q", title="Actions (count per turn)"),
            color=arm_color(arms),
            tooltip=[
                alt.Tooltip("arm:N"),
                alt.Tooltip("turn:Q"),
                alt.Tooltip("action:N"),
                num_tooltip("count"),
            ],
        )
        .properties(width=WIDTH // len(actions) - 20, height=220)
        .facet(column=alt.Column("action:N", sort=actions, title=None))
    )
    return titled(chart, title or "Actions per turn, mean over replicates", note)


def exposure_diversity(frame: pd.DataFrame, *, title: str | None = None) -> alt.HConcatChart:
    """Two panels over turns: topic entropy per agent and cross-cutting share, per arm.

    Args:
        frame: columns arm, turn, topic_entropy_per_agent, cross_cutting_share, one row
            per replicate × turn (``analytics.exposure_diversity``); lines show
            the mean over replicates.
        title: chart title.
    """
    measures = {"topic_entropy_per_agent": ENTROPY, "cross_cutting_share": CROSS_CUTTING}
    require_columns(frame, ("arm", "turn", *measures), "exposure_diversity")
    arms = arm_order(frame)
    means = (
        with_str_arm(frame)
        .groupby(["arm", "turn"], sort=False, as_index=False)[list(measures)]
        .mean()
    )
    data, note = thin_turns(means)
    base = alt.Chart().encode(x=turn_axis(), color=arm_color(arms))
    panels = [
        base.mark_line()
        .encode(
            y=alt.Y(f"{column}:Q", title=metric_label(key)),
            tooltip=[alt.Tooltip("arm:N"), alt.Tooltip("turn:Q"), num_tooltip(column)],
        )
        .properties(width=PANEL_WIDTH)
        for column, key in measures.items()
    ]
    return titled(alt.hconcat(*panels, data=data), title or "Exposure diversity", note)


def polarization(leaning_distribution: pd.DataFrame, *, title: str | None = None) -> alt.FacetChart:
    """Heatmap of the agents' leaning distribution: turn × leaning bin, one panel per arm.

    Args:
        leaning_distribution: columns arm, turn, bin_low, bin_high, share, one row per
            arm × turn × leaning bin (``analytics.leaning_distribution``).
        title: chart title.
    """
    columns = ("arm", "turn", "bin_low", "bin_high", "share")
    require_columns(leaning_distribution, columns, "polarization")
    arms = arm_order(leaning_distribution)
    # Each cell spans the turns up to the next shown one, so thinned columns stay contiguous.
    data, note = thin_turns(with_str_arm(leaning_distribution)[list(columns)], span=True)
    chart = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("turn_start:Q", title="Turn", scale=alt.Scale(zero=False, nice=False)),
            x2=alt.X2("turn_end:Q"),
            y=alt.Y("bin_low:Q", title="Leaning (scale −1 to 1)"),
            y2=alt.Y2("bin_high:Q"),
            color=alt.Color(
                "share:Q",
                title="Share of agents",
                scale=alt.Scale(scheme="viridis", zero=True),
                legend=alt.Legend(format="%"),
            ),
            tooltip=[
                alt.Tooltip("arm:N"),
                alt.Tooltip("turn:Q"),
                alt.Tooltip("bin_low:Q"),
                alt.Tooltip("bin_high:Q"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(width=PANEL_WIDTH, height=200)
        .facet(facet=alt.Facet("arm:N", sort=arms, title=None), columns=2)
    )
    return titled(chart, title or "Leaning distribution over turns", note)


def follow_growth(frame: pd.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Cumulative new follows over turns: mean over replicates per arm, replicate range shaded.

    Args:
        frame: columns arm, turn, cumulative, one row per run × turn
            (``analytics.follow_growth``; run_id, replicate, new_follows are ignored).
        title: chart title.
    """
    require_columns(frame, ("arm", "turn", "cumulative"), "follow_growth")
    arms = arm_order(frame)
    grouped = with_str_arm(frame).groupby(["arm", "turn"], sort=False)["cumulative"]
    stats = grouped.agg(mean="mean", low="min", high="max").reset_index()
    data, note = thin_turns(stats)
    base = alt.Chart(data).encode(x=turn_axis(), color=arm_color(arms))
    band = base.mark_area(opacity=0.15).encode(y=alt.Y("low:Q"), y2=alt.Y2("high:Q"))
    line = base.mark_line().encode(
        y=alt.Y("mean:Q", title="Cumulative new follows (count)"),
        tooltip=[
            alt.Tooltip("arm:N"),
            alt.Tooltip("turn:Q"),
            num_tooltip("mean"),
            alt.Tooltip("low:Q"),
            alt.Tooltip("high:Q"),
        ],
    )
    default = "Follow growth: mean over replicates, shaded from min to max"
    return titled(alt.layer(band, line), title or default, note)
