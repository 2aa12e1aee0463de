"""The figures the notebooks and the report show: analytics frames drawn by :mod:`simlab.charts`.

Each function takes an analytics connection and the selector keywords of
:mod:`simlab.analytics` (``**selection.kwargs``), so the compare_feeds notebook
and ``simlab report`` draw the same figures from the same calls.
"""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import duckdb

from simlab import analytics, charts


def metric_charts(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    keys: Iterable[str],
) -> list[alt.LayerChart]:
    """One mean-over-turns chart with 95% CI bands per ``turn.*`` metric key."""
    selected = {"run_ids": run_ids, "comparison_id": comparison_id}
    return [
        charts.metric_over_turns(
            analytics.metric_bands(con, key=key, **selected), key, title=charts.metric_label(key)
        )
        for key in keys
    ]


def default_figures(
    con: duckdb.DuckDBPyConnection, chosen: analytics.Selection
) -> dict[str, alt.TopLevelMixin]:
    """The compare_feeds notebook's charts in its default state, by file name."""
    selected = chosen.kwargs
    options = analytics.metric_options(con, **selected)
    keys = [options[label] for label in analytics.default_metrics(options)]
    figures: dict[str, alt.TopLevelMixin] = {
        "difference": charts.difference_dots(analytics.summary(con, **selected)),
    }
    for key, chart in zip(keys, metric_charts(con, keys=keys, **selected), strict=True):
        figures[f"metric_{key.removeprefix('turn.').replace('.', '_')}"] = chart
    figures["action_mix"] = charts.action_mix(analytics.action_mix(con, **selected))
    figures["actions_over_turns"] = charts.actions_over_turns(
        analytics.action_counts(con, **selected)
    )
    figures["exposure_diversity"] = charts.exposure_diversity(
        analytics.exposure_diversity(con, **selected)
    )
    figures["polarization"] = charts.polarization(analytics.leaning_distribution(con, **selected))
    figures["follow_growth"] = charts.follow_growth(analytics.follow_growth(con, **selected))
    return figures
