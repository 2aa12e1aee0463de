"""Recorded metrics: per-turn series, bands over replicates, run scalars, arm comparisons."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import duckdb
import numpy as np
import pandas as pd

from simlab.analytics._query import ARM_ORDER, SELECTION, arm_order, fetch, selection
from simlab.analytics.evaluations import fill_run_scalars, summary_keys
from simlab.errors import InputError

HEADLINE_METRICS = (
    "run.engagement.rate",
    "turn.exposure.cross_cutting_share",
    "turn.exposure.topic_entropy_per_agent",
    "run.attention.like_gini_posts",
    "run.opinion.variance_change",
    "run.network.ei_index_change",
)


def summary_metric_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The comparison table's default keys: the headline metrics, then evaluation dimensions.

    Evaluation keys (``run.evaluation.<evaluator>.<dimension>``) appear only when
    something was evaluated (:func:`simlab.analytics.evaluations.summary_keys`).
    """
    return [*HEADLINE_METRICS, *summary_keys(con)]


def _keys(keys: Iterable[str] | str | None) -> list[str] | None:
    if keys is None:
        return None
    return [keys] if isinstance(keys, str) else [str(k) for k in keys]


def turn_metrics(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    keys: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Per-turn metric values of the selected runs (all runs if neither filter is given).

    Returns:
        Columns run_id, arm, replicate, turn, key, value. ``arm`` is the comparison
        arm for runs in a comparison, else the run's feed algorithm; ``replicate``
        is 0 outside comparisons. ``value`` is NaN where the metric was undefined.
    """
    params = {**selection(con, run_ids=run_ids, comparison_id=comparison_id), "keys": _keys(keys)}
    return fetch(
        con,
        f"""
        WITH {SELECTION}
        SELECT s.run_id, s.arm, s.replicate, t.turn_number AS turn, t.key, t.value
        FROM turn_metrics_long AS t JOIN sel AS s ON s.run_id = t.run_id
        WHERE $keys IS NULL OR list_contains(CAST($keys AS VARCHAR[]), t.key)
        ORDER BY {ARM_ORDER}, replicate, run_id, turn, key
        """,
        params,
    )


def metric_bands(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    key: str,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean of one ``turn.*`` metric over the runs of each arm, per turn, with a t interval.

    Values are gathered per (arm, turn) in DuckDB; the interval is
    :func:`simlab.stats.mean_ci` over the replicates (NaN bounds with one run).

    Returns:
        Columns arm, turn, n (runs with a defined value), mean, ci_low, ci_high.

    Raises:
        InputError: ``key`` is not a ``turn.*`` key.
    """
    if not key.startswith("turn."):
        raise InputError(f"key: metric_bands needs a turn.* key, not {key!r} (see run_scalars)")
    params = {**selection(con, run_ids=run_ids, comparison_id=comparison_id), "key": key}
    grouped = fetch(
        con,
        f"""
        WITH {SELECTION}
        SELECT s.arm, t.turn_number AS turn,
               list(t.value) FILTER (WHERE t.value IS NOT NULL) AS vals
        FROM turn_metrics_long AS t JOIN sel AS s ON s.run_id = t.run_id
        WHERE t.key = $key
        GROUP BY s.arm, t.turn_number
        ORDER BY {ARM_ORDER}, turn
        """,
        params,
    )
    from simlab.stats import mean_ci  # scipy loads on first use: keeps the import cheap

    # an (arm, turn) whose values are all undefined has a NULL list: no values, NaN mean
    values = [[] if v is None or v is pd.NA else list(v) for v in grouped["vals"]]
    bands = [mean_ci(v, level) for v in values]
    return pd.DataFrame(
        {
            "arm": grouped["arm"],
            "turn": grouped["turn"],
            "n": np.array([len(v) for v in values], dtype=np.int64),
            "mean": [b[0] for b in bands],
            "ci_low": [b[1] for b in bands],
            "ci_high": [b[2] for b in bands],
        }
    )


def run_scalars(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One number per run and metric key (default keys: :func:`summary_metric_keys`).

    ``run.*`` keys are read from ``run_metrics``; a ``turn.*`` key becomes the mean
    of its defined per-turn values over the run's turns; a ``run.evaluation.*`` key
    is the run's mean score over its evaluated texts
    (:func:`simlab.analytics.evaluations.evaluation_metrics`).

    Returns:
        Columns run_id, arm, replicate, key, value: one row per selected run and
        key (in ``keys`` order), value NaN where the run has no (defined) value.
    """
    keys = summary_metric_keys(con) if keys is None else keys
    params = {**selection(con, run_ids=run_ids, comparison_id=comparison_id), "keys": _keys(keys)}
    frame = fetch(
        con,
        f"""
        WITH {SELECTION},
        wanted AS (SELECT unnest(CAST($keys AS VARCHAR[])) AS key),
        scalars AS (
            SELECT run_id, key, value FROM run_metrics_long
            WHERE starts_with(key, 'run.') AND list_contains(CAST($keys AS VARCHAR[]), key)
            UNION ALL
            SELECT run_id, key, avg(value) FROM turn_metrics_long
            WHERE starts_with(key, 'turn.') AND list_contains(CAST($keys AS VARCHAR[]), key)
            GROUP BY run_id, key
        )
        SELECT s.run_id, s.arm, s.replicate, w.key, v.value
        FROM sel AS s CROSS JOIN wanted AS w
        LEFT JOIN scalars AS v ON v.run_id = s.run_id AND v.key = w.key
        ORDER BY {ARM_ORDER}, replicate, run_id,
                 list_position(CAST($keys AS VARCHAR[]), w.key)
        """,
        params,
    )
    return fill_run_scalars(con, run_ids=run_ids, comparison_id=comparison_id, scalars=frame)


def comparison_summary(
    con: duckdb.DuckDBPyConnection,
    *,
    comparison_id: str,
    keys: Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Each arm's mean per metric, and its difference to the first arm, with t intervals.

    Default keys: :func:`summary_metric_keys` (headline metrics and evaluation dimensions).

    Per-run values come from :func:`run_scalars`; the estimates are
    :func:`simlab.inference.arm_summary`: paired by replicate index (common random
    numbers), intervals over populations (cluster-level t on population means,
    df = P - 1; over replicates when P = 1), Holm-adjusted p-values over every
    metric x arm difference; pairs with a missing side are dropped. The first arm (see
    :func:`arm_order`) is the reference: its diff is 0 with NaN bounds (NaN if
    it has no values).

    Returns:
        Columns key, arm, n, mean, ci_low, ci_high, diff, diff_low, diff_high,
        p_value, p_holm, units, populations, by key (in ``keys`` order) then arm order.
    """
    from simlab.inference import arm_summary, replicates_per_population  # scipy loads here

    keys = summary_metric_keys(con) if keys is None else keys
    scalars = run_scalars(con, comparison_id=comparison_id, keys=keys)
    arms = arm_order(con, comparison_id=comparison_id)
    stored = con.execute(
        "SELECT config_json FROM sim.comparisons WHERE comparison_id = $c", {"c": comparison_id}
    ).fetchone()
    per_population = replicates_per_population(stored[0] if stored else None)
    return arm_summary(scalars, arms, _keys(keys), per_population, level)


def exposure_diversity(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
) -> pd.DataFrame:
    """The two exposure-diversity series side by side (wide, for scatter and line charts).

    For the same numbers in long form use
    ``turn_metrics(con, keys=["turn.exposure.topic_entropy_per_agent", ...])``.

    Returns:
        Columns run_id, arm, replicate, turn, topic_entropy_per_agent,
        cross_cutting_share (NaN where undefined or not recorded).
    """
    return fetch(
        con,
        f"""
        WITH {SELECTION}
        SELECT s.run_id, s.arm, s.replicate, t.turn_number AS turn,
               max(t.value) FILTER (WHERE t.key = 'turn.exposure.topic_entropy_per_agent')
                   AS topic_entropy_per_agent,
               max(t.value) FILTER (WHERE t.key = 'turn.exposure.cross_cutting_share')
                   AS cross_cutting_share
        FROM turn_metrics_long AS t JOIN sel AS s ON s.run_id = t.run_id
        GROUP BY s.run_id, s.arm, s.replicate, t.turn_number
        ORDER BY {ARM_ORDER}, replicate, run_id, turn
        """,
        selection(con, run_ids=run_ids, comparison_id=comparison_id),
    )
