"""What the report and the comparison table take from evaluations, when there are any.

Three hooks for :mod:`simlab.report` and :mod:`simlab.analytics.metrics`:

- :func:`summary_keys` (from :mod:`simlab.analytics.evaluations`): the
  ``run.evaluation.<evaluator>.<dimension>`` keys to add to a comparison summary (``offensive`` first: "does the bridging feed lower the
  mean offensiveness of what agents write?");
- :func:`simlab.analytics.evaluations.fill_run_scalars`: fills those keys' values
  into a ``run_scalars`` frame (whose SQL only knows ``run_metrics`` and
  ``turn_metrics``); it lives in analytics so ``run_scalars`` can call it;
- :func:`report_charts`: the report's evaluation charts, by file name (none when
  nothing was evaluated).
"""

from __future__ import annotations

from collections.abc import Iterable

import altair as alt
import duckdb

from simlab import charts_evaluations
from simlab.analytics import evaluations

PREFIX = evaluations.RUN_PREFIX
summary_keys = evaluations.summary_keys  # lives in analytics, so run_scalars can use it


def report_charts(
    con: duckdb.DuckDBPyConnection,
    comparison_id: str | None = None,
    run_ids: Iterable[str] | None = None,
) -> dict[str, alt.TopLevelMixin]:
    """Per preferred evaluation dimension: its trend by feed and the per-run means by feed."""
    figures: dict[str, alt.TopLevelMixin] = {}
    selected = {"comparison_id": comparison_id, "run_ids": run_ids}
    metrics = evaluations.evaluation_metrics(con, **selected)
    for key in summary_keys(con):
        evaluator, dimension = key.removeprefix(PREFIX).split(".")
        trends = evaluations.dimension_trends(
            con, evaluator=evaluator, dimension=dimension, **selected
        )
        if trends.empty or metrics[metrics["key"] == key].empty:
            continue  # evaluated, but not in these runs
        name = f"evaluation_{evaluator}_{dimension}"
        figures[f"{name}_trend"] = charts_evaluations.dimension_trend(trends, evaluator, dimension)
        figures[f"{name}_by_feed"] = charts_evaluations.arm_means(metrics, key)
    return figures
