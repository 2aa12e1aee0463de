"""The follow network drawn: edges as lines, agents as dots coloured by leaning."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from simlab.charts.encoding import MAX_ROWS, require_columns, titled

LEANING_SCALE = alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True)  # left blue, right red


def follow_network(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    title: str | None = None,
    focus: str | None = None,
    size: int = 520,
) -> alt.LayerChart:
    """A node-link drawing of positioned nodes and edges (``simlab.network.drawing_frames``).

    Dots are coloured by leaning (blue left, red right, grey for accounts without
    one) and sized by followers; ``focus`` is drawn larger with a black ring.
    With more than :data:`MAX_ROWS` edges, every k-th edge is drawn and the
    subtitle says how many.

    Raises:
        ValueError: missing columns, or more than :data:`MAX_ROWS` nodes.
    """
    require_columns(nodes, ("handle", "x", "y", "leaning", "followers"), "follow_network")
    require_columns(edges, ("x", "y", "x2", "y2"), "follow_network")
    if len(nodes) > MAX_ROWS:
        raise ValueError(f"follow_network: {len(nodes)} nodes; at most {MAX_ROWS} can be drawn")
    note = None
    if len(edges) > MAX_ROWS:
        step = -(-len(edges) // MAX_ROWS)
        note = f"1 in {step} of {len(edges)} follow edges drawn"
        edges = edges.iloc[::step]
    plain = alt.Axis(title=None, labels=False, ticks=False, grid=False, domain=False)
    x, y = alt.X("x:Q", axis=plain), alt.Y("y:Q", axis=plain)
    lines = (
        alt.Chart(edges[["x", "y", "x2", "y2"]])
        .mark_rule(color="#9a9a9a", opacity=0.35, strokeWidth=0.6)
        .encode(x=x, y=y, x2=alt.X2("x2:Q"), y2=alt.Y2("y2:Q"))
    )
    data = nodes.assign(focus=nodes["handle"] == focus)
    dots = (
        alt.Chart(data)
        .mark_circle(opacity=0.9, stroke="black")
        .encode(
            x=x,
            y=y,
            color=alt.condition(
                "isValid(datum.leaning)",
                alt.Color("leaning:Q", title="Leaning", scale=LEANING_SCALE),
                alt.value("#b0b0b0"),  # accounts outside the population
            ),
            size=alt.Size("followers:Q", title="Followers", scale=alt.Scale(range=[20, 260])),
            strokeWidth=alt.condition("datum.focus", alt.value(2), alt.value(0)),
            tooltip=[
                alt.Tooltip("handle:N"),
                alt.Tooltip("leaning:Q", format=".2f"),
                alt.Tooltip("followers:Q"),
            ],
        )
    )
    chart = alt.layer(lines, dots).properties(width=size, height=size)
    return titled(chart, title or "Follow network", note)


def leaning_histogram(leanings: pd.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Agents per leaning bin (20 bins over [-1, 1]), bars coloured by leaning.

    Args:
        leanings: one row per agent with a column leaning.
        title: chart title; default "Leaning distribution".
    """
    require_columns(leanings, ("leaning",), "leaning_histogram")
    values = leanings["leaning"].dropna().clip(-1, 1).to_numpy()
    counts, edges = np.histogram(values, bins=20, range=(-1, 1))  # last bin closed on the right
    frame = pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:], "agents": counts})
    frame["middle"] = (frame["bin_low"] + frame["bin_high"]) / 2
    chart = (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("bin_low:Q", title="Leaning (scale −1 to 1)", scale=alt.Scale(domain=[-1, 1])),
            x2=alt.X2("bin_high:Q"),
            y=alt.Y("agents:Q", title="Agents"),
            color=alt.Color("middle:Q", scale=LEANING_SCALE, legend=None),
            tooltip=[alt.Tooltip("bin_low:Q"), alt.Tooltip("bin_high:Q"), alt.Tooltip("agents:Q")],
        )
    )
    return titled(chart, title or "Leaning distribution")
