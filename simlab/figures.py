"""The figures the notebooks and the report show: analytics frames drawn by :mod:`simlab.charts`.

Each function takes an analytics connection and the selector keywords of
:mod:`simlab.analytics` (``**selection.kwargs``), so the compare_feeds notebook
and ``simlab report`` draw the same figures from the same calls.

A figure with nothing to draw (no run or no completed turn yet, one arm only,
a metric without a single defined value) is a :func:`note`: a small chart
holding one sentence, shown and saved in place of the chart. So a notebook
cell or a report never fails on a thin selection.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterable, Sequence

import altair as alt
import duckdb
import pandas as pd

from simlab import analytics, charts

NOTE_HEIGHT = 40
SUBTITLE_CHARS = 70  # a subtitle line longer than this wraps


def note(text: str, *, title: str | None = None) -> alt.Chart:
    """A short note drawn where a chart would be (it has nothing to draw)."""
    mark = alt.Chart(pd.DataFrame({"note": [text]})).mark_text(
        align="left", baseline="middle", x=0, y=NOTE_HEIGHT / 2, fontSize=13, color="#555555"
    )
    chart = mark.encode(text=alt.Text("note:N")).properties(width=charts.WIDTH, height=NOTE_HEIGHT)
    return chart.properties(title=title) if title else chart


def _drawn(
    frame: pd.DataFrame,
    draw: Callable[[pd.DataFrame], alt.TopLevelMixin],
    what: str,
    values: Sequence[str] = (),
    title: str | None = None,
) -> alt.TopLevelMixin:
    """``draw(frame)``, or a note when ``frame`` is empty or all its ``values`` are missing."""
    if frame.empty:
        return note(f"No {what} recorded for this selection yet.", title=title)
    if values and frame[list(values)].isna().all(axis=None):
        return note(f"No {what}: every value is undefined for this selection.", title=title)
    return draw(frame)


def difference(summary: pd.DataFrame) -> alt.TopLevelMixin:
    """Each arm's difference to the first arm with its 95% CI (a note with fewer than two arms).

    Args:
        summary: :func:`simlab.analytics.summary` (metrics without a difference are left out).
    """
    if summary.empty:
        return note("No runs with metrics in this selection yet: no difference to draw.")
    arms = list(dict.fromkeys(summary["arm"].astype(str)))
    if len(arms) < 2:
        return note(f"Only one arm ({arms[0]}): there is no difference to draw.")
    shown = summary[(summary["arm"].astype(str) == arms[0]) | summary["diff"].notna()]
    if (shown["arm"].astype(str) == arms[0]).all():
        return note("No metric has values in two arms yet: no difference to draw.")
    chart = charts.difference_dots(shown, baseline=arms[0])
    drawn = set(shown.loc[shown["arm"].astype(str) != arms[0], "key"])
    missing = [key for key in pd.unique(summary["key"]) if key not in drawn]
    if not missing:
        return chart
    left_out = ", ".join(charts.metric_label(key) for key in missing)
    title = f"Difference to {arms[0]}"
    subtitle = textwrap.wrap(f"No difference for: {left_out}", SUBTITLE_CHARS)  # lines: no
    return chart.properties(title=alt.Title(title, subtitle=subtitle))  # wider than the panels


def metric_caption(key: str) -> str:
    """What a metric measures, in one sentence: its label, unit and formula line from the registry."""
    from simlab.metrics import METRICS

    if key not in METRICS:
        return f"{key}."
    entry = METRICS.get(key)
    summary = entry.summary.rstrip(".")
    return f"{entry.label} ({entry.unit}): {summary}." if summary else f"{entry.axis_title}."


def metric_charts(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    keys: Iterable[str],
) -> list[alt.TopLevelMixin]:
    """One mean-over-turns chart with 95% CI bands per ``turn.*`` metric key."""
    selected = {"run_ids": run_ids, "comparison_id": comparison_id}
    drawn = []
    for key in keys:
        label = charts.metric_label(key)
        drawn.append(
            _drawn(
                analytics.metric_bands(con, key=key, **selected),
                lambda bands, key=key, label=label: charts.metric_over_turns(
                    bands, key, title=label
                ),
                f"values of {label[0].lower()}{label[1:]}",
                values=["mean"],
                title=label,
            )
        )
    return drawn


ACTION_MIX_TITLE = "Actions per agent-turn by feed"


def action_mix(con: duckdb.DuckDBPyConnection, **selected) -> alt.TopLevelMixin:
    """Actions per agent-turn by arm (selectors as in :func:`simlab.analytics.action_mix`)."""
    return _drawn(
        analytics.action_mix(con, **selected),
        lambda frame: charts.action_mix(frame, title=ACTION_MIX_TITLE),
        "completed turns",
        title=ACTION_MIX_TITLE,
    )


def actions_over_turns(con: duckdb.DuckDBPyConnection, **selected) -> alt.TopLevelMixin:
    """Likes, comments and follows per turn (selectors as in :func:`simlab.analytics.action_counts`)."""
    return _drawn(
        analytics.action_counts(con, **selected), charts.actions_over_turns, "completed turns"
    )


def exposure_diversity(con: duckdb.DuckDBPyConnection, **selected) -> alt.TopLevelMixin:
    """Topic entropy and cross-cutting exposure per turn (selectors as in analytics)."""
    return _drawn(
        analytics.exposure_diversity(con, **selected),
        charts.exposure_diversity,
        "exposure-diversity values",
        values=["topic_entropy_per_agent", "cross_cutting_share"],
    )


def polarization(con: duckdb.DuckDBPyConnection, **selected) -> alt.TopLevelMixin:
    """The distribution of leanings over turns (selectors as in analytics)."""
    return _drawn(analytics.leaning_distribution(con, **selected), charts.polarization, "leanings")


def follow_growth(
    con: duckdb.DuckDBPyConnection, *, title: str | None = None, **selected
) -> alt.TopLevelMixin:
    """New follows per turn and their running total (selectors as in analytics)."""
    return _drawn(
        analytics.follow_growth(con, **selected),
        lambda frame: charts.follow_growth(frame, title=title),
        "completed turns",
        title=title,
    )
