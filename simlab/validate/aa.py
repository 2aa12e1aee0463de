"""A/A coverage: how often the comparison's paired 95% CI covers 0 when both arms are the same.

Each A/A comparison has two arms that run the same feed with every setting at
its default, ``R`` replicates each, on independent seeds (arm A replicate r and
arm B replicate r never share a seed, so the true difference is exactly 0 and
the pairs are independent). The per-run metric is the run's engagement rate,
(likes + comments) / impressions. The comparison's interval is
:func:`simlab.stats.paired_difference_ci` (the one ``simlab compare`` reports),
and coverage is the share of ``C`` comparisons whose interval contains 0. The
check passes when the nominal 0.95 lies inside the Clopper–Pearson 95% interval
of that share [Clopper1934].
"""

from __future__ import annotations

import math

from scipy.special import betaincinv

from simlab.stats import paired_difference_ci
from simlab.validate.population import replicate_seed, simulation
from simlab.world import Population


def engagement_rate(pop: Population, feed: str, seed: int, turns: int) -> float:
    """(likes + comments) / impressions over a whole in-memory run."""
    sim = simulation(pop, feed, seed, turns)
    for turn in range(turns):
        sim.step(turn)
    totals = sim.totals
    return (totals.likes + totals.comments) / totals.impressions if totals.impressions else math.nan


def clopper_pearson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Exact binomial interval: Beta(α/2; k, n−k+1) and Beta(1−α/2; k+1, n−k) quantiles."""
    alpha = 1 - level
    low = betaincinv(successes, trials - successes + 1, alpha / 2) if successes > 0 else 0.0
    high = (
        betaincinv(successes + 1, trials - successes, 1 - alpha / 2) if successes < trials else 1.0
    )
    return float(low), float(high)


def aa_arms(
    pop: Population, feed: str, comparisons: int, replicates: int, turns: int
) -> list[tuple[list[float], list[float]]]:
    """(arm A values, arm B values) of ``comparisons`` A/A comparisons, independent seeds."""
    arms = []
    for c in range(comparisons):
        a = [engagement_rate(pop, feed, replicate_seed(c, 0, r), turns) for r in range(replicates)]
        b = [engagement_rate(pop, feed, replicate_seed(c, 1, r), turns) for r in range(replicates)]
        arms.append((a, b))
    return arms


def coverage(arms: list[tuple[list[float], list[float]]]) -> tuple[int, int]:
    """(comparisons whose paired 95% CI covers 0, comparisons).

    MERGE POINT (W1): this is the single call site to switch to
    ``simlab.compare.aa_coverage`` once that function is merged.
    """
    intervals = [paired_difference_ci(a, b) for a, b in arms]
    covered = sum(low <= 0.0 <= high for _, low, high in intervals)
    return int(covered), len(intervals)


def aa_coverage_check(pop: Population, feed: str, comparisons: int, replicates: int, turns: int):
    """(coverage, Clopper–Pearson interval, comparisons) of A/A comparisons of ``feed``."""
    covered, total = coverage(aa_arms(pop, feed, comparisons, replicates, turns))
    return covered / total, clopper_pearson(covered, total), total
