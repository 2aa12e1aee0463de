"""Inference for comparisons: intervals over populations, Holm's correction, A/A coverage.

A comparison has P populations (``simlab compare --populations P``), each with
R replicates paired across arms (replicate ``r`` of population ``p`` has the
same seed in every arm). Stored replicate index ``i = p·R + r``.

**Estimator (cluster-level paired t on population means).** For arm A against
the baseline B and a metric with per-run values ``y``:

    d_pr = y_A,pr − y_B,pr                      paired by replicate
    D_p  = mean_r d_pr                          one mean difference per population
    D̄ ± t_{1−α/2, P−1} · s_D / √P              over the P population means (df = P − 1)

so the interval covers the variation between populations as well as between
replicates (a two-stage cluster estimator, t with P − 1 df on cluster aggregates
[CameronMiller2015]). With P = 1
it is the paired t over the R replicates (df = R − 1), which covers replicate
noise for that one population only. Arm means use the same construction on
``y`` itself. Pairs with a missing side are dropped; a population without a
complete pair is left out.

**Multiplicity.** Each (metric, arm) difference gets a two-sided t p-value
with the same df; Holm's step-down procedure ([Holm1979]) adjusts them over all
m comparisons of a summary: sort p_(1) ≤ … ≤ p_(m), then
p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j)).

**A/A coverage** (:func:`aa_coverage`): K comparisons of a feed against itself
with independent seeds; the share of 95% intervals that cover 0 should be
about 95%, with a Clopper–Pearson interval ([ClopperPearson1934]).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import betaincinv, stdtr, stdtrit


@dataclass(frozen=True)
class Estimate:
    """A mean with its t interval and p-value against 0; ``units`` = populations or replicates."""

    mean: float
    low: float
    high: float
    p_value: float
    units: int
    sd: float


NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan, math.nan, 0, math.nan)


def t_estimate(values: Sequence[float], level: float = 0.95) -> Estimate:
    """Mean of ``values`` (NaN dropped), x̄ ± t_{1−α/2, n−1}·s/√n and the two-sided p for mean 0.

    One value: the mean, NaN bounds. A zero spread gives a zero-width interval and
    p = 0 (or 1 when the mean is 0).
    """
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return NAN_ESTIMATE
    mean = float(x.mean())
    if len(x) == 1:
        return Estimate(mean, math.nan, math.nan, math.nan, 1, math.nan)
    sd = float(x.std(ddof=1))
    se = sd / math.sqrt(len(x))
    half = float(stdtrit(len(x) - 1, 0.5 + level / 2)) * se
    if se == 0:
        p = 1.0 if mean == 0 else 0.0
    else:
        p = float(2 * stdtr(len(x) - 1, -abs(mean) / se))
    return Estimate(mean, mean - half, mean + half, p, len(x), sd)


def cluster_estimate(
    values: Sequence[float], clusters: Sequence[int], level: float = 0.95
) -> Estimate:
    """Cluster-level t (module docstring): t over cluster means, or over values for one cluster.

    Args:
        values: one value per replicate (a difference or a level), NaN = missing.
        clusters: the population of each replicate.
        level: confidence level.
    """
    frame = pd.DataFrame({"v": np.asarray(values, dtype=float), "c": np.asarray(clusters)})
    frame = frame.dropna()
    if frame["c"].nunique() <= 1:
        return t_estimate(frame["v"].to_numpy(), level)
    return t_estimate(frame.groupby("c")["v"].mean().to_numpy(), level)


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values; NaN stays NaN and does not count in m."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(len(p), math.nan)
    present = np.flatnonzero(~np.isnan(p))
    m = len(present)
    order = present[np.argsort(p[present], kind="stable")]
    running = 0.0
    for j, index in enumerate(order):
        running = max(running, min(1.0, (m - j) * p[index]))
        adjusted[index] = running
    return adjusted


def clopper_pearson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval: Beta(α/2; x, n−x+1) to Beta(1−α/2; x+1, n−x) quantiles."""
    alpha = 1 - level
    low = 0.0 if successes == 0 else float(betaincinv(successes, trials - successes + 1, alpha / 2))
    high = (
        1.0
        if successes == trials
        else float(betaincinv(successes + 1, trials - successes, 1 - alpha / 2))
    )
    return low, high


def replicates_per_population(config_json: str | None) -> int:
    """R, the replicates per population, from a stored comparison config.

    With one population (or no config) every replicate belongs to population 0.
    """
    import json

    try:
        stored = json.loads(config_json or "{}")
    except ValueError:
        stored = {}
    if int(stored.get("populations") or 1) <= 1:
        return 1 << 62
    return max(1, int(stored.get("replicates") or 1))


def arm_summary(
    scalars: pd.DataFrame,
    arms: Sequence[str],
    keys: Sequence[str],
    replicates_per_population: int,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per metric and arm: mean and difference to the first arm, with cluster-level intervals.

    Args:
        scalars: columns arm, replicate, key, value (one row per run and key).
        arms: arm order; the first is the baseline.
        keys: metric keys, in output order.
        replicates_per_population: R; population of replicate ``i`` is ``i // R``.
        level: confidence level.

    Returns:
        Columns key, arm, n, mean, ci_low, ci_high, diff, diff_low, diff_high,
        p_value, p_holm (over every non-baseline row), units (populations, or
        replicates when P = 1), populations.
    """
    replicates = sorted(scalars["replicate"].unique())
    clusters = np.asarray(replicates, dtype=np.int64) // max(1, replicates_per_population)
    populations = len(set(clusters.tolist()))
    rows = []
    for key in keys:
        wide = (
            scalars[scalars["key"] == key]
            .pivot(index="replicate", columns="arm", values="value")
            .reindex(index=replicates, columns=list(arms))
            .astype(float)
        )
        base = wide[arms[0]].to_numpy() if len(arms) else None
        for position, arm in enumerate(arms):
            values = wide[arm].to_numpy()
            n = int(np.count_nonzero(~np.isnan(values)))
            level_estimate = cluster_estimate(values, clusters, level)
            if position == 0:
                diff = Estimate(0.0 if n else math.nan, math.nan, math.nan, math.nan, 0, math.nan)
            else:
                diff = cluster_estimate(values - base, clusters, level)
            rows.append((key, arm, n, level_estimate.mean, level_estimate.low,
                         level_estimate.high, diff.mean, diff.low, diff.high, diff.p_value,
                         diff.units, populations))  # fmt: skip
    columns = ["key", "arm", "n", "mean", "ci_low", "ci_high", "diff", "diff_low", "diff_high",
               "p_value", "units", "populations"]  # fmt: skip
    frame = pd.DataFrame(rows, columns=columns).astype({"n": np.int64, "units": np.int64})
    frame.insert(len(columns) - 2, "p_holm", holm(frame["p_value"].to_numpy()))
    return frame


@dataclass(frozen=True)
class Coverage:
    """A/A coverage: how many of ``trials`` intervals covered 0, with a binomial interval."""

    key: str
    covered: int
    trials: int
    share: float
    low: float
    high: float
    comparison_id: str


def aa_coverage(
    db: str,
    *,
    repetitions: int = 40,
    replicates: int = 3,
    feed: str = "random",
    key: str = "turn.exposure.cross_cutting_share",
    turns: int = 3,
    agents: int | None = None,
    seed: int = 0,
    jobs: int | None = None,
    level: float = 0.95,
) -> Coverage:
    """Run K = ``repetitions`` A/A comparisons and return the share of intervals covering 0.

    One comparison runs ``feed`` as arm ``A`` and again as arm ``B`` with an
    independent seed stream (``seed_stream=1``), ``K·R`` replicates each; block
    ``k`` (replicates ``kR .. kR+R−1``) is one A/A comparison with R paired
    replicates, so the K intervals of ``key`` (paired t, df = R − 1) are
    independent. If the intervals are right about ``level`` of them cover 0;
    the Clopper–Pearson interval says how far from ``level`` the share may be
    by chance. The runs compute only ``key`` (run config ``metrics = [key]``):
    the one value read back. Each interval is a one-population interval (run-seed
    noise), so the share checks the paired t of ``--populations 1``.

    Raises:
        InputError: a bad feed, key or size (nothing is run).
    """
    from simlab import analytics
    from simlab.compare import Arm, CompareConfig, compare
    from simlab.errors import InputError

    if repetitions < 1 or replicates < 2:
        raise InputError("aa_coverage: needs repetitions >= 1 and replicates >= 2")
    config = CompareConfig(
        arms=[Arm(name="A", feed=feed), Arm(name="B", feed=feed, seed_stream=1)],
        replicates=repetitions * replicates,
        seed=seed,
        run={"turns": turns, "agents": agents, "metrics": [key]},  # the one key read back
    )
    result = compare(config, db, jobs=jobs)
    con = analytics.connect(db)
    try:
        scalars = analytics.run_scalars(con, comparison_id=result.comparison_id, keys=[key])
    finally:
        con.close()
    wide = scalars.pivot(index="replicate", columns="arm", values="value").astype(float)
    differences = (wide["B"] - wide["A"]).to_numpy()
    estimates = [
        t_estimate(differences[k * replicates : (k + 1) * replicates], level)
        for k in range(repetitions)
    ]
    usable = [e for e in estimates if not math.isnan(e.low)]
    covered = sum(e.low <= 0 <= e.high for e in usable)
    low, high = clopper_pearson(covered, len(usable)) if usable else (math.nan, math.nan)
    share = covered / len(usable) if usable else math.nan
    return Coverage(key, covered, len(usable), share, low, high, result.comparison_id)
