"""The published figures the suite checks against, with tolerances and run sizes: data only.

Every number a check compares with lives here, next to where it was published
(see ``docs/validation.md`` and ``docs/references.md``), so re-running the
suite after an engine change needs no code change, and changing a tolerance
is a one-line, reviewable edit. ``full`` sizes are what ``simlab validate``
runs; ``fast`` sizes are what ``--fast`` (and the test suite) runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sizes:
    """How much simulation a check runs (full suite or ``--fast``)."""

    agents: int
    seeds: int
    rounds: int = 0  # opinion-model rounds or simulation turns


@dataclass(frozen=True)
class Target:
    """One published result: the figure, the accepted range, and the run sizes."""

    key: str
    label: str
    citation: str
    published: str  # what the paper reports, as printed in the table
    low: float  # simlab passes when low <= value <= high
    high: float
    full: Sizes
    fast: Sizes
    settings: dict = field(default_factory=dict)

    def sizes(self, fast: bool) -> Sizes:
        """The run sizes for the full suite or ``--fast``."""
        return self.fast if fast else self.full


DEFFUANT = tuple(
    Target(
        key=f"deffuant_eps_{eps}",
        label=f"Deffuant major clusters, ε = {eps}",
        citation="Deffuant2000",
        published=published,
        low=low,
        high=high,
        full=Sizes(agents=1000, seeds=5, rounds=150),
        fast=Sizes(agents=300, seeds=3, rounds=120),
        settings={"epsilon": eps},
    )
    for eps, published, low, high in (
        (0.5, "1 (consensus)", 1, 1),
        (0.25, "2", 2, 2),
        (0.15, "3", 3, 3),
        (0.1, "about 5 (⌊1/2ε⌋)", 4, 6),
    )
)

HEGSELMANN_KRAUSE = Target(
    key="hk_consensus_threshold",
    label="Hegselmann–Krause consensus threshold ε_c",
    citation="Hegselmann2002",
    published="consensus above ε ≈ 0.2–0.25, depending on n",
    low=0.18,
    high=0.28,
    full=Sizes(agents=300, seeds=7),
    fast=Sizes(agents=100, seeds=5),
    settings={"grid": (0.10, 0.35, 0.01)},  # paper-scale ε from, to, step
)

# K = seeds A/A comparisons of R = replicates paired runs each (simlab.inference.aa_coverage);
# population size: ``agents`` agents and 5 posts per agent; rounds = turns per run.
AA_COVERAGE = Target(
    key="aa_coverage",
    label="A/A coverage of the comparison's 95% CI",
    citation="Student1908",
    published="0.95 (nominal level)",
    low=0.95,  # passes when 0.95 lies inside the coverage's 95% Clopper–Pearson interval
    high=0.95,
    full=Sizes(agents=60, seeds=200, rounds=4),
    fast=Sizes(agents=30, seeds=40, rounds=2),
    settings={"replicates": 3, "feed": "chronological", "metric": "run.engagement.rate"},
)

# Field results: default parameters, ranked feed = ``personalized``, baseline = ``chronological``.
# Pooled over populations 0 .. population_seeds − 1 (full and --fast alike: these runs are cheap).
FIELD_POPULATIONS = {"agents": 400, "posts": 2000, "population_seeds": 5}

BAKSHY = tuple(
    Target(
        key=f"bakshy_{side}",
        label=f"Ranking's cut in cross-cutting exposure, {side}",
        citation="Bakshy2015",
        published=f"{published:.0%} less than the network offers",
        low=published / 2,  # within a factor of 2
        high=published * 2,
        full=Sizes(agents=400, seeds=2, rounds=20),
        fast=Sizes(agents=400, seeds=1, rounds=20),
        settings={"side": side, "published": published},
    )
    for side, published in (("conservatives", 0.05), ("liberals", 0.08))
)

GUESS = Target(
    key="guess_engagement",
    label="Chronological vs ranked: engagement per impression",
    citation="Guess2023",
    published="lower under chronological (direction only)",
    low=float("-inf"),
    high=0.0,  # relative change chronological / ranked − 1 must be negative
    full=Sizes(agents=400, seeds=2, rounds=20),
    fast=Sizes(agents=400, seeds=1, rounds=20),
)

HUSZAR = Target(
    key="huszar_amplification",
    label="Amplification ratio, right-leaning / left-leaning authors",
    citation="Huszar2022",
    published="> 1: right amplified more (6 of 7 countries)",
    low=1.0,
    high=float("inf"),
    full=Sizes(agents=400, seeds=2, rounds=20),
    fast=Sizes(agents=400, seeds=1, rounds=20),
)
