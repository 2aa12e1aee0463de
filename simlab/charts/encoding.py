"""Shared pieces of the chart builders: input checks, arm order, turn thinning, encodings.

Data size: Altair raises ``MaxRowsError`` when a chart embeds more than 5,000
rows, so each builder first reduces its input to the marks it draws and then,
for series over turns, :func:`thin_turns` keeps every k-th turn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from simlab.charts.palette import color_scale

MAX_ROWS = 5000  # Altair's default max_rows for embedded data
ACTIONS = ("like", "comment", "follow")


def metric_label(key: str) -> str:
    """The axis title "label (unit)" of a metric key, from its registry entry; the key if unknown."""
    from simlab.metrics import METRICS

    return METRICS.get(key).axis_title if key in METRICS else key


def require_columns(frame: pd.DataFrame, columns: Sequence[str], builder: str) -> None:
    """Raise ValueError naming ``builder`` if columns are missing or the frame is empty."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{builder}: missing column(s) {missing}; expected {list(columns)}")
    if frame.empty:
        raise ValueError(f"{builder}: the frame is empty; there is nothing to draw")


def check_size(frame: pd.DataFrame, builder: str) -> None:
    """Raise ValueError if ``frame`` has more rows than a chart may embed."""
    if len(frame) > MAX_ROWS:
        raise ValueError(
            f"{builder}: {len(frame)} rows to draw, more than {MAX_ROWS}; filter the frame first"
        )


def arm_order(frame: pd.DataFrame) -> list[str]:
    """Arms in order of first appearance (the order the analytics frame lists them)."""
    return list(dict.fromkeys(frame["arm"].astype(str)))


def with_str_arm(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with the arm column as strings."""
    return frame.assign(arm=frame["arm"].astype(str))


def action_order(frame: pd.DataFrame) -> list[str]:
    """Actions in the frame, like / comment / follow first, then any others."""
    seen = list(dict.fromkeys(frame["action"].astype(str)))
    return [a for a in ACTIONS if a in seen] + [a for a in seen if a not in ACTIONS]


def thin_turns(frame: pd.DataFrame, span: bool = False) -> tuple[pd.DataFrame, str | None]:
    """Keep every k-th turn (and the last) so that at most MAX_ROWS rows remain.

    Returns the kept rows and a subtitle note (None if nothing was dropped). With
    ``span``, columns turn_start/turn_end stretch each kept turn's cell to the next one.
    """
    turns, step, kept = np.sort(frame["turn"].unique()), 1, frame
    while len(kept) > MAX_ROWS:
        step = max(step + 1, math.ceil(len(frame) / MAX_ROWS))
        if step > len(turns):
            raise ValueError(f"one turn holds over {MAX_ROWS} rows; aggregate the frame first")
        kept = frame[frame["turn"].isin(set(turns[::step]) | {turns[-1]})]
    frame = kept
    if span:
        shown = np.sort(frame["turn"].unique())
        ends = dict(zip(shown, np.append(shown[1:], shown[-1] + 1), strict=True))
        frame = frame.assign(turn_start=frame["turn"] - 0.5, turn_end=frame["turn"].map(ends) - 0.5)
    note = (
        f"1 in {step} turns shown (a chart embeds at most {MAX_ROWS:,} rows)" if step > 1 else None
    )
    return frame, note


def titled(chart, title: str | None, note: str | None = None):
    """Set the title; a note (rows were dropped) goes into the subtitle."""
    if note:
        return chart.properties(title=alt.Title(title or "", subtitle=note))
    return chart.properties(title=title) if title else chart


def turn_axis() -> alt.X:
    """The x encoding of every chart over turns: integer turns, no zero."""
    scale = alt.Scale(zero=False, nice=False)
    return alt.X("turn:Q", title="Turn", scale=scale, axis=alt.Axis(format="d", tickMinStep=1))


def arm_color(arms: list[str]) -> alt.Color:
    """Colour by arm, with the legend titled "Feed".

    Every layer of a chart uses this same encoding (a CI band as well as its line):
    ``legend=None`` on any layer's colour or fill makes Vega-Lite drop the merged
    legend of the whole layer chart.
    """
    return alt.Color("arm:N", scale=color_scale(arms), title="Feed")


def num_tooltip(field: str) -> alt.Tooltip:
    """A numeric tooltip with three decimals."""
    return alt.Tooltip(f"{field}:Q", format=".3f")
