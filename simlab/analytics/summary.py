"""Summaries for reading: per arm and metric a mean and a difference, in a table and in words.

:func:`summary` is the frame (one comparison: paired by replicate; loose runs:
not paired); :func:`summary_table` rounds it and names metrics; :func:`headline`
says its clearest differences in Markdown. :func:`run_facts` and
:func:`degree_table` summarise one run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import duckdb
import pandas as pd

from simlab.analytics.metrics import comparison_summary, run_scalars
from simlab.analytics.runs import runs


def _label(key: str) -> str:
    from simlab.charts import metric_label  # altair loads only when words are asked for

    return metric_label(key)


def summary(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    keys: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per arm and metric: mean with 95% CI and difference to the first arm.

    Default keys: :func:`simlab.analytics.summary_metric_keys` (evaluations included).

    For a comparison this is :func:`simlab.analytics.comparison_summary` (paired by
    replicate). Loose runs are not paired: ``diff`` is the difference of means and
    its bounds are NaN.

    Returns:
        Columns key, arm, n, mean, ci_low, ci_high, diff, diff_low, diff_high.
    """
    if comparison_id is not None:
        return comparison_summary(con, comparison_id=comparison_id, keys=keys)
    from simlab.stats import mean_ci  # scipy loads on first use

    scalars = run_scalars(con, run_ids=run_ids, keys=keys)
    rows = []
    for (key, arm), group in scalars.groupby(["key", "arm"], sort=False):
        values = group["value"].astype(float).to_numpy()
        rows.append((key, arm, int((~pd.isna(values)).sum()), *mean_ci(values)))
    frame = pd.DataFrame(rows, columns=["key", "arm", "n", "mean", "ci_low", "ci_high"])
    base = frame.groupby("key", sort=False)["mean"].transform("first")
    return frame.assign(diff=frame["mean"] - base, diff_low=math.nan, diff_high=math.nan)


def summary_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The summary for reading: metric labels, rounded numbers, intervals as "low to high".

    Where an interval cannot be computed a short note stands in its place: "no
    values", "needs 2+ runs", "baseline" (the first arm's difference), or "not
    paired" (loose runs, or fewer than two complete replicate pairs).
    """
    firsts = frame.groupby("key", sort=False)["arm"].transform("first")
    means = [
        _interval(low, high) or ("no values" if not n else "needs 2+ runs")
        for n, low, high in zip(frame["n"], frame["ci_low"], frame["ci_high"], strict=True)
    ]
    diffs = [
        _interval(low, high)
        or ("baseline" if arm == first else "no values" if pd.isna(diff) else "not paired")
        for arm, first, diff, low, high in zip(
            frame["arm"], firsts, frame["diff"], frame["diff_low"], frame["diff_high"], strict=True
        )
    ]
    return pd.DataFrame(
        {
            "Metric": frame["key"].map(_label),
            "Feed": frame["arm"],
            "Runs": frame["n"],
            "Mean": frame["mean"].round(4),
            "95% CI": means,
            "Difference": frame["diff"].round(4),
            "Difference 95% CI": diffs,
        }
    )


def _interval(low: float, high: float) -> str:
    return "" if pd.isna(low) or pd.isna(high) else f"{low:.3g} to {high:.3g}"


def headline(frame: pd.DataFrame, per_arm: int = 2) -> str:
    """Markdown naming, for each arm, its clearest differences to the first arm, in words.

    Differences whose 95% interval excludes zero come first, ranked by |diff| over
    the interval's half-width (how many half-widths from zero); without intervals
    (loose runs), by |diff| relative to the baseline mean.
    """
    if frame.empty:
        return "No metrics recorded for this selection yet."
    baseline = frame["arm"].iloc[0]
    rows = frame[(frame["arm"] != baseline) & frame["diff"].notna()].copy()
    if rows.empty and frame["arm"].nunique() < 2:
        return f"Only **{baseline}** is selected: there is nothing to compare it with."
    if rows.empty:
        return (
            f"No metric has values under **{baseline}** and another feed yet: nothing to compare."
        )
    base_mean = rows["key"].map(frame[frame["arm"] == baseline].set_index("key")["mean"])
    levels = (base_mean > 0) & ~rows["key"].str.contains("change")
    rows["relative"] = (rows["diff"] / base_mean).where(levels)
    half = (rows["diff_high"] - rows["diff_low"]) / 2
    rows["clear"] = (rows["diff_low"] > 0) | (rows["diff_high"] < 0)
    rows["size"] = (rows["diff"].abs() / half.where(half > 0)).fillna(rows["relative"].abs())
    rows = rows.sort_values(["clear", "size"], ascending=False, na_position="last")
    picked = rows.groupby("arm", sort=False).head(per_arm)
    lines = [f"**Clearest differences to {baseline}** (95% confidence intervals):", ""]
    lines += [f"- {_sentence(row)}" for row in picked.itertuples()]
    return "\n".join(lines)


def _sentence(row) -> str:
    label = _label(row.key)
    change = (
        f"{abs(row.diff):.3g} {'higher' if row.diff > 0 else 'lower'}" if row.diff else "the same"
    )
    relative = "" if pd.isna(row.relative) or not row.diff else f" ({row.relative:+.0%})"
    text = f"under **{row.arm}**, {label[0].lower()}{label[1:]} is {change}{relative}"
    if pd.isna(row.diff_low):
        return text + "; no interval (runs are not paired replicates)."
    verdict = "excludes zero" if row.clear else "includes zero, so chance cannot be ruled out"
    return text + f"; CI {row.diff_low:.3g} to {row.diff_high:.3g} {verdict}."


# --- one run ----------------------------------------------------------------------


def run_facts(con: duckdb.DuckDBPyConnection, *, run_id: str) -> str:
    """Markdown: one run's feed, size, status and comparison arm."""
    row = runs(con).drop_duplicates("run_id").set_index("run_id").loc[run_id]
    arm = (
        ""
        if pd.isna(row["comparison_id"])
        else f" It is replicate {row['replicate']} of arm **{row['arm']}** in comparison "
        f"`{row['comparison_id']}`."
    )
    return (
        f"Run `{run_id}`: feed **{row['feed_algorithm']}**, policy {row['policy']}, "
        f"{row['total_agents']} agents, {row['total_turns']} turns, seed {row['seed']}, "
        f"status **{row['status']}**.{arm}"
    )


def degree_table(edges: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """Followers and followings per account, before the run and at its end, most followed first.

    Args:
        edges: columns source, target, turn (``analytics.follow_edges``; turn -1 is
            an initial follow).
        top: rows kept.

    Returns:
        Columns handle, followers_start, followers_end, following_end, new_followers.
    """
    start = edges[edges["turn"] < 0]
    table = pd.DataFrame(
        {
            "followers_start": start.groupby("target").size(),
            "followers_end": edges.groupby("target").size(),
            "following_end": edges.groupby("source").size(),
        }
    ).fillna(0)
    table = table.astype("int64").rename_axis("handle").reset_index()
    table["new_followers"] = table["followers_end"] - table["followers_start"]
    table = table.sort_values(["followers_end", "handle"], ascending=[False, True])
    return table.head(top).reset_index(drop=True)
