"""Charts of LLM usage: tokens per turn by arm, and how decisions ended per arm.

Both take frames of :func:`simlab.analytics.llm.llm_usage` (``by="turn"`` and ``by="arm"``).
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
    turn_axis,
    with_str_arm,
)
from simlab.charts.theme import WIDTH

OUTCOMES = ("succeeded", "failed", "blocked")


def llm_tokens_over_turns(usage: pd.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Tokens spent per turn, a line per arm (summed over the arm's runs).

    Args:
        usage: columns arm, turn, tokens (``llm_usage(con, ..., by="turn")``).
        title: chart title.

    Raises:
        ValueError: missing columns or an empty frame.
    """
    require_columns(usage, ("arm", "turn", "tokens"), "llm_tokens_over_turns")
    arms = arm_order(usage)
    data = with_str_arm(usage).groupby(["arm", "turn"], as_index=False, sort=False)["tokens"].sum()
    chart = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=turn_axis(),
            y=alt.Y("tokens:Q", title="Tokens spent (prompt + completion)"),
            color=arm_color(arms),
            tooltip=[alt.Tooltip("arm:N"), alt.Tooltip("turn:Q"), alt.Tooltip("tokens:Q")],
        )
        .properties(width=WIDTH)
    )
    return titled(chart, title)


def llm_decision_outcomes(usage: pd.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Decisions per arm split into succeeded (ok / retried), failed and budget-blocked.

    Args:
        usage: columns arm, decisions, failed, blocked (``llm_usage(con, ..., by="arm")``).
        title: chart title.

    Raises:
        ValueError: missing columns or an empty frame.
    """
    require_columns(usage, ("arm", "decisions", "failed", "blocked"), "llm_decision_outcomes")
    arms = arm_order(usage)
    wide = with_str_arm(usage).assign(
        succeeded=lambda f: f["decisions"] - f["failed"] - f["blocked"]
    )
    data = wide.melt(id_vars="arm", value_vars=list(OUTCOMES), var_name="outcome", value_name="n")
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("arm:N", sort=arms, title="Feed"),
            x=alt.X("n:Q", title="Decisions"),
            color=alt.Color("outcome:N", sort=list(OUTCOMES), title="Outcome"),
            order=alt.Order("outcome_order:Q"),
            tooltip=[alt.Tooltip("arm:N"), alt.Tooltip("outcome:N"), num_tooltip("n")],
        )
        .transform_calculate(outcome_order=f"indexof({list(OUTCOMES)}, datum.outcome)")
        .properties(width=WIDTH)
    )
    return titled(chart, title)
