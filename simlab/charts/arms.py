"""Charts that compare arms side by side: the action mix and the forest plot of differences."""

from __future__ import annotations

import altair as alt
import pandas as pd

from simlab.charts.encoding import (
    action_order,
    arm_color,
    arm_order,
    check_size,
    metric_label,
    num_tooltip,
    require_columns,
    titled,
    with_str_arm,
)
from simlab.charts.theme import PANEL_WIDTH, WIDTH

TWO_LINE_HEADER = alt.Header(
    labelAnchor="start", labelFontWeight="bold", labelExpr="split(datum.value, '|')"
)


def action_mix(frame: pd.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Grouped bars: actions per agent-turn for each action, one bar per arm.

    Args:
        frame: columns arm, action, per_agent_turn (``analytics.action_mix``);
            repeated arm × action rows are averaged.
        title: chart title.
    """
    require_columns(frame, ("arm", "action", "per_agent_turn"), "action_mix")
    arms, actions = arm_order(frame), action_order(frame)
    data = (
        with_str_arm(frame)
        .groupby(["arm", "action"], sort=False, as_index=False)["per_agent_turn"]
        .mean()
    )
    check_size(data, "action_mix")
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("action:N", sort=actions, title="Action", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("arm:N", sort=arms),
            y=alt.Y("per_agent_turn:Q", title="Actions per agent-turn (count)"),
            color=arm_color(arms),
            tooltip=[alt.Tooltip("arm:N"), alt.Tooltip("action:N"), num_tooltip("per_agent_turn")],
        )
        .properties(width=WIDTH)
    )
    return titled(chart, title)


def difference_dots(
    summary: pd.DataFrame, *, baseline: str | None = None, title: str | None = None
) -> alt.FacetChart:
    """Forest plot: each arm's difference to the baseline arm with its 95% CI, a panel per key.

    Panels go in two columns, so six metrics fit on a paper figure.

    Args:
        summary: columns key, arm, diff, diff_low, diff_high (mean, ci_low, ci_high, n
            go to the tooltip if present), as ``analytics.comparison_summary`` returns.
        baseline: the arm the differences are taken to; its rows are dropped.
            Default: the first arm in the frame.
        title: chart title.

    Raises:
        ValueError: missing columns, an empty frame, or nothing but the baseline.
    """
    require_columns(summary, ("key", "arm", "diff", "diff_low", "diff_high"), "difference_dots")
    baseline = baseline or arm_order(summary)[0]
    data = with_str_arm(summary)
    # "Label (unit)" as two header lines, so a column is as wide as its panel, not its title.
    data = data[data["arm"] != baseline].assign(
        metric=lambda d: d["key"].map(metric_label).str.replace(" (", "|(", n=1, regex=False)
    )
    if data.empty:
        raise ValueError(f"difference_dots: no arm besides the baseline {baseline!r}")
    check_size(data, "difference_dots")
    arms, metrics = arm_order(data), list(pd.unique(data["metric"]))
    extra = [num_tooltip(c) for c in ("mean", "ci_low", "ci_high") if c in data.columns]
    extra += [alt.Tooltip("n:Q")] if "n" in data.columns else []
    y = alt.Y("arm:N", sort=arms, title=None)
    has_interval = data["diff_low"].notna().any()  # loose unpaired runs have none
    x_title = "Difference (95% CI)" if has_interval else "Difference (no interval)"
    base = alt.Chart().encode(y=y, color=arm_color(arms))
    zero = alt.Chart().mark_rule(color="#666666", strokeDash=[4, 3]).encode(x=alt.XDatum(0))
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("diff_low:Q", title=x_title), x2=alt.X2("diff_high:Q")
    )
    dots = base.mark_circle(size=80, opacity=1).encode(
        x=alt.X("diff:Q"),
        tooltip=[
            alt.Tooltip("key:N"),
            alt.Tooltip("arm:N"),
            num_tooltip("diff"),
            num_tooltip("diff_low"),
            num_tooltip("diff_high"),
            *extra,
        ],
    )
    chart = (
        alt.layer(zero, bars, dots, data=data)
        .properties(width=PANEL_WIDTH - 40)
        .facet(
            facet=alt.Facet("metric:N", sort=metrics, title=None, header=TWO_LINE_HEADER), columns=2
        )
        .resolve_scale(x="independent")
    )
    return titled(chart, title or f"Difference to {baseline}")
