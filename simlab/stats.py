"""Confidence intervals for comparing feed arms across replicates (tuples, for tables).

Replicate ``r`` of every arm uses the same seed (common random numbers), so
arm differences are computed on replicate-paired runs, which cancels the
population-level noise the arms share. Intervals over populations, p-values
and Holm's correction are in :mod:`simlab.inference`; these are its one-sample
t interval as ``(mean, low, high)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simlab.inference import t_estimate


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval: x̄ ± t_{1−α/2, n−1} · s / √n.

    NaN values are dropped. With one value the mean is that value and both
    bounds are NaN (no spread can be estimated); with none, all three are NaN.
    """
    estimate = t_estimate(values, level)
    return (estimate.mean, estimate.low, estimate.high)


def paired_difference_ci(
    treatment: Sequence[float], baseline: Sequence[float], level: float = 0.95
) -> tuple[float, float, float]:
    """Mean paired difference d = treatment − baseline with its t interval (see :func:`mean_ci`).

    Pairs where either side is NaN are dropped; the sequences are paired by position
    (replicate index).
    """
    a, b = np.asarray(treatment, dtype=float), np.asarray(baseline, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {len(a)} vs {len(b)}")
    return mean_ci(a - b, level)
