"""Where agents' leanings stand and how far they moved: level, spread, bimodality, shift.

These are measurements of leanings (keys ``turn.opinion.*`` / ``run.opinion.*``);
the models that move leanings are in :mod:`simlab.opinion`.

Spread (variance) and bimodality are the usual measures of opinion
polarization [DiMaggio1996]; the bimodality coefficient is Sarle's, with the
bias-corrected moments of SAS [Pfister2011]. Every turn metric is taken over
all agents' ``state.leaning`` after the turn's update.
"""

from __future__ import annotations

import math

import numpy as np

from simlab.metrics.base import RunData, TurnData, metric


def bimodality(values: np.ndarray) -> float:
    """Sarle's bimodality coefficient with SAS bias-corrected moments [Pfister2011].

    b = (γ² + 1) / (κ + 3(n − 1)² / ((n − 2)(n − 3))), where, with central
    moments m_r = (1/n) Σ (x_i − x̄)^r, g1 = m3 / m2^1.5 and g2 = m4 / m2² − 3,
    the sample skewness is γ = g1 √(n(n − 1)) / (n − 2) and the sample excess
    kurtosis is κ = ((n + 1) g2 + 6)(n − 1) / ((n − 2)(n − 3)).

    Args:
        values: (n,) values.

    Returns:
        b in (0, 1]; above 5/9 ≈ 0.555 (the uniform's value) suggests two modes.
        NaN if n < 4 or all values are equal.
    """
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 4 or np.ptp(x) == 0:
        return math.nan
    deviations = x - x.mean()
    m2, m3, m4 = ((deviations**r).mean() for r in (2, 3, 4))
    g1 = m3 / m2**1.5
    g2 = m4 / m2**2 - 3
    skewness = g1 * math.sqrt(n * (n - 1)) / (n - 2)
    kurtosis = ((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3))
    return float((skewness**2 + 1) / (kurtosis + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


@metric(
    "turn.opinion.mean_leaning",
    label="Mean leaning",
    unit="scale −1 to 1",
    value_range=(-1, 1),
    citations=("DiMaggio1996",),
)
def mean_leaning(data: TurnData) -> float:
    """Mean leaning of all agents after the turn [DiMaggio1996].

    x̄ = (1/N) Σ_i x_i over all N agents.

    Range: [-1, 1].
    """
    return float(data.state.leaning.mean())


@metric(
    "turn.opinion.leaning_std",
    label="Leaning spread",
    unit="std, scale −1 to 1",
    value_range=(0, 1),
    citations=("DiMaggio1996",),
)
def leaning_std(data: TurnData) -> float:
    """Standard deviation of all agents' leanings after the turn [DiMaggio1996].

    σ = √((1/N) Σ_i (x_i − x̄)²) (population form, ddof = 0).

    Range: [0, 1].
    """
    return float(data.state.leaning.std())


@metric(
    "turn.opinion.leaning_variance",
    label="Leaning variance",
    unit="0–1",
    value_range=(0, 1),
    citations=("DiMaggio1996",),
)
def leaning_variance(data: TurnData) -> float:
    """Variance of all agents' leanings after the turn: polarization as spread [DiMaggio1996].

    σ² = (1/N) Σ_i (x_i − x̄)² (population form, ddof = 0).

    Range: [0, 1].
    """
    return float(data.state.leaning.var())


@metric(
    "turn.opinion.bimodality",
    label="Bimodality coefficient",
    unit="0–1",
    value_range=(0, 1),
    citations=("Pfister2011",),
)
def turn_bimodality(data: TurnData) -> float:
    """Bimodality coefficient of all agents' leanings after the turn [Pfister2011].

    b = (γ² + 1) / (κ + 3(N − 1)² / ((N − 2)(N − 3))) with the SAS sample skewness γ
    and sample excess kurtosis κ (see :func:`bimodality`).

    Range: (0, 1], > 5/9 suggests two camps; NaN if N < 4 or all leanings are equal.
    """
    return bimodality(data.state.leaning)


@metric(
    "turn.opinion.mean_abs_shift",
    label="Mean leaning shift",
    unit="|Δ| per turn, 0–2",
    value_range=(0, 2),
    citations=("Hegselmann2002",),
)
def mean_abs_shift(data: TurnData) -> float:
    """Mean absolute leaning change this turn; 0 once bounded-confidence dynamics settle [Hegselmann2002].

    shift = (1/N) Σ_i |x_i(after) − x_i(before)| over all N agents.

    Range: [0, 2].
    """
    return float(np.abs(data.state.leaning - data.leaning_before).mean())


@metric(
    "run.opinion.variance_change",
    label="Change in leaning variance",
    unit="−1 to 1",
    value_range=(-1, 1),
    citations=("DiMaggio1996",),
)
def variance_change(data: RunData) -> float:
    """Change of leaning variance over the run: > 0 means more polarized [DiMaggio1996].

    Δσ² = var(final leaning) − var(initial leaning), population variances (ddof = 0).

    Range: [-1, 1].
    """
    return float(data.final.leaning.var() - data.initial.leaning.var())


@metric(
    "run.opinion.mean_abs_drift",
    label="Mean leaning drift",
    unit="|Δ| over the run, 0–2",
    value_range=(0, 2),
    citations=("Hegselmann2002",),
)
def mean_abs_drift(data: RunData) -> float:
    """Mean absolute leaning change from the start to the end of the run [Hegselmann2002].

    drift = (1/N) Σ_i |x_i(final) − x_i(initial)|.

    Range: [0, 2].
    """
    return float(np.abs(data.final.leaning - data.initial.leaning).mean())


@metric(
    "run.opinion.final_bimodality",
    label="Final bimodality coefficient",
    unit="0–1",
    value_range=(0, 1),
    citations=("Pfister2011",),
)
def final_bimodality(data: RunData) -> float:
    """Bimodality coefficient of the final leanings [Pfister2011].

    b = (γ² + 1) / (κ + 3(N − 1)² / ((N − 2)(N − 3))) on final.leaning (see :func:`bimodality`).

    Range: (0, 1]; NaN if N < 4 or all leanings are equal.
    """
    return bimodality(data.final.leaning)
