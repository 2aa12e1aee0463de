"""Summaries for reading: per arm and metric a mean and a difference, in a table and in words.

:func:`summary` is the frame (one comparison, or loose runs with shared seeds:
paired by replicate; other loose runs: not paired); :func:`summary_table` rounds it and names metrics; :func:`headline`
says its clearest differences in Markdown. :func:`run_facts` and
:func:`degree_table` summarise one run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import duckdb
import pandas as pd

from simlab.analytics.metrics import comparison_summary, run_scalars
from simlab.analytics.pairing import paired_replicates
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
    replicate). Loose runs that form paired replicates (shared seeds and population,
    :func:`simlab.analytics.pairing.paired_replicates`) are paired by seed the same
    way; other loose runs are not paired: ``diff`` is the difference of means and
    its bounds are NaN.

    Returns:
        Columns key, arm, n, mean, ci_low, ci_high, diff, diff_low, diff_high.
    """
    if comparison_id is not None:
        return comparison_summary(con, comparison_id=comparison_id, keys=keys)
    from simlab.stats import mean_ci  # scipy loads on first use

    scalars = run_scalars(con, run_ids=run_ids, keys=keys)
    paired = None if run_ids is None else paired_replicates(con, run_ids=run_ids)
    if paired is not None:
        from simlab.inference import arm_summary, replicates_per_population  # scipy loads here

        replicate = paired.set_index("run_id")["replicate"]
        scalars = scalars.assign(replicate=scalars["run_id"].map(replicate))
        arms = list(pd.unique(scalars["arm"]))
        keys = list(pd.unique(scalars["key"]))
        return arm_summary(scalars, arms, keys, replicates_per_population(None))
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


ALPHA = 0.05


def estimator_note(frame: pd.DataFrame) -> str:
    """One sentence: what the difference intervals cover (populations or replicates)."""
    if frame.empty or "populations" not in frame:
        return "Intervals: Student t over runs (not paired)."
    populations = int(frame["populations"].max())
    if populations > 1:
        return (
            f"Intervals: cluster-level paired t over {populations} populations "
            f"(per population the mean replicate difference; t over the population means, "
            f"df = {populations - 1}), so they cover differences between populations."
        )
    units = int(frame["units"].max()) if "units" in frame else 0
    return (
        f"Intervals: paired t over {units} replicates of one population (df = {max(units - 1, 0)}): "
        "they cover replicate noise for this population only (use --populations P for more)."
    )


def headline(frame: pd.DataFrame, per_arm: int = 2) -> str:
    """Markdown naming, for each arm, its largest differences to the first arm that hold up.

    Selection: every (metric, arm) difference with a p-value is one of the m
    comparisons Holm's procedure corrects for (``p_holm``, [Holm1979]); claims
    with p_holm < 0.05 are ranked by relative effect size |diff| / |baseline
    mean| (level metrics with a positive baseline; others after them, by
    standardised size |diff| / interval half-width). The text says so, names m,
    and notes the largest effect left out when it is not significant. Without
    p-values (loose runs), the largest relative differences are shown, marked
    as not tested.
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
    rows["standardised"] = rows["diff"].abs() / half.where(half > 0)
    rows["has_relative"] = rows["relative"].notna()
    rows["size"] = rows["relative"].abs().fillna(rows["standardised"])
    tested = "p_holm" in rows and rows["p_holm"].notna().any()
    rows["clear"] = (rows["p_holm"] < ALPHA) if tested else False
    if "p_holm" not in rows:
        rows["p_holm"] = math.nan
    ranked = rows.sort_values(["has_relative", "size"], ascending=False, na_position="last")
    m = int(rows["p_holm"].notna().sum())
    if not tested:
        picked = ranked.groupby("arm", sort=False).head(per_arm)
        lines = [f"**Clearest differences to {baseline}** (largest relative size; not tested):", ""]
        lines += [f"- {_sentence(row)}" for row in picked.itertuples()]
        return "\n".join(lines)
    picked = ranked[ranked["clear"]].groupby("arm", sort=False).head(per_arm)
    lines = [
        f"**Clearest differences to {baseline}**: of m = {m} metric x arm "
        f"comparisons, those with Holm-adjusted p < {ALPHA} (Holm 1979), ranked by relative "
        "effect size |difference| / |baseline mean| (metrics without a positive baseline "
        "level after them, by |difference| / CI half-width).",
        "",
    ]
    lines += [f"- {_sentence(row)}" for row in picked.itertuples()] or [
        f"- None: no difference is significant after Holm's correction over {m} comparisons."
    ]
    left_out = ranked[~ranked["clear"]].head(1)
    same_scale = picked[picked["has_relative"] == left_out["has_relative"].any()]["size"]
    if not left_out.empty and (same_scale.empty or left_out["size"].iloc[0] > same_scale.max()):
        row = next(left_out.itertuples())
        lines += ["", f"Largest effect left out (Holm-adjusted p = {row.p_holm:.2g}): "
                  f"{_sentence(row)}"]  # fmt: skip
    lines += ["", estimator_note(frame)]
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
    if pd.isna(row.p_holm):
        verdict = "(not tested)"
    elif row.clear:
        verdict = f"(Holm-adjusted p = {row.p_holm:.2g})"
    else:
        verdict = f"(Holm-adjusted p = {row.p_holm:.2g}: chance cannot be ruled out)"
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
