"""The validation suite: every check against its published target, one row each.

A check is a function ``(fast) -> list[Outcome]``; :data:`CHECKS` lists them in
table order. Targets, tolerances and run sizes come from
:mod:`simlab.validate.targets`, so re-running after a behaviour change needs no
code change. :func:`run` returns the rows; a row passes when its measured value
lies in the target's ``[low, high]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simlab.validate import aa, bounded_confidence, field, targets
from simlab.validate.population import synthetic_population


@dataclass(frozen=True)
class Outcome:
    """One table row: the check, what the paper reports, what simlab gives, and whether it passes."""

    key: str
    check: str
    published: str
    simlab: str
    passed: bool


def _row(target: targets.Target, value: float, shown: str) -> Outcome:
    passed = not math.isnan(value) and target.low <= value <= target.high
    return Outcome(target.key, target.label, target.published, shown, passed)


def deffuant_checks(fast: bool) -> list[Outcome]:
    """Median major-cluster count over seeds for each ε of :data:`targets.DEFFUANT`."""
    rows = []
    for target in targets.DEFFUANT:
        size = target.sizes(fast)
        counts = [
            bounded_confidence.major_clusters(
                bounded_confidence.deffuant_final(
                    target.settings["epsilon"], size.agents, size.rounds, seed
                )
            )
            for seed in range(size.seeds)
        ]
        median = float(np.median(counts))
        rows.append(_row(target, median, f"{median:g} (seeds: {', '.join(map(str, counts))})"))
    return rows


def hegselmann_krause_check(fast: bool) -> list[Outcome]:
    """The consensus threshold ε_c of the registered HK model, on the target's ε grid."""
    target = targets.HEGSELMANN_KRAUSE
    size = target.sizes(fast)
    start, stop, step = target.settings["grid"]
    grid = np.round(np.arange(start, stop + step / 2, step), 6)
    value = bounded_confidence.consensus_threshold(size.agents, size.seeds, grid)
    return [_row(target, value, f"ε_c = {value:.2f} (n = {size.agents})")]


def aa_check(fast: bool) -> list[Outcome]:
    """A/A coverage of the comparison's 95% CI (:mod:`simlab.validate.aa`), with its interval."""
    target = targets.AA_COVERAGE
    size = target.sizes(fast)
    settings = target.settings
    result = aa.aa_coverage_check(
        size.agents, size.agents * 5, feed=settings["feed"], key=settings["metric"],
        repetitions=size.seeds, replicates=settings["replicates"], turns=size.rounds,
    )  # fmt: skip
    passed = result.low <= 0.95 <= result.high
    shown = (
        f"{result.share:.3f} [{result.low:.3f}, {result.high:.3f}] "
        f"over {result.trials} A/A comparisons"
    )
    return [Outcome(target.key, target.label, target.published, shown, passed)]


def field_checks(fast: bool) -> list[Outcome]:
    """Bakshy (per side), Guess and Huszár on paired default runs (:mod:`simlab.validate.field`)."""
    size = targets.GUESS.sizes(fast)
    settings = targets.FIELD_POPULATIONS
    pops = [
        synthetic_population(settings["agents"], settings["posts"], seed)
        for seed in range(settings["population_seeds"])
    ]
    result = field.measure(pops, size.seeds, size.rounds)
    rows = []
    for target in targets.BAKSHY:
        name = target.settings["side"]
        cut = result.cut[name]
        shown = (
            f"{cut:.1%} ({result.potential[name]:.1%} offered → {result.exposed[name]:.1%} served)"
        )
        rows.append(_row(target, cut, shown))
    change = result.engagement_change
    rows.append(_row(targets.GUESS, change, f"{change:+.1%} engagement per impression"))
    ratio = result.amplification_ratio
    amplified = result.amplification
    shown = (
        f"{ratio:.3f} (right {amplified['conservatives']:.3f}, left {amplified['liberals']:.3f})"
    )
    rows.append(_row(targets.HUSZAR, ratio, shown))
    return rows


CHECKS: tuple[Callable[[bool], list[Outcome]], ...] = (
    deffuant_checks,
    hegselmann_krause_check,
    aa_check,
    field_checks,
)


def run(fast: bool = False) -> list[Outcome]:
    """Every check's rows, in table order (``fast``: the smaller run sizes)."""
    return [row for check in CHECKS for row in check(fast)]
