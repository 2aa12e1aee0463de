"""A/A coverage: how often the comparison's 95% interval covers 0 when both arms are the same.

The check runs :func:`simlab.inference.aa_coverage` (the one A/A implementation,
also behind ``benchmarks/bench_aa_coverage.py``) on a synthetic population in a
throw-away database: K comparisons of one feed against itself through
``simlab compare`` (arm B on an independent seed stream, so the true difference
is exactly 0), R paired replicates each, every run recorded and its metric read
back through the analytics layer, as a user's comparison would be.

**What the numbers cover.** Each of the K intervals is the paired t interval of
one population (P = 1: t with R − 1 df over the replicates), so it is about
run-seed noise for that population, not about the spread between populations
(``--populations`` intervals, :mod:`simlab.inference`). The coverage share is
an estimate of the probability that such an interval contains the true
difference 0; its Clopper–Pearson 95% interval [ClopperPearson1934] covers that
probability, given the K independent comparisons. The check passes when the
nominal 0.95 lies inside it.
"""

from __future__ import annotations

from simlab.inference import Coverage, aa_coverage
from simlab.validate.population import synthetic_database


def aa_coverage_check(
    agents: int,
    posts: int,
    *,
    feed: str,
    key: str,
    repetitions: int,
    replicates: int,
    turns: int,
    jobs: int | None = None,
) -> Coverage:
    """A/A coverage of ``key`` under ``feed`` on synthetic population 0 of that size."""
    with synthetic_database(agents, posts, 0) as db:
        return aa_coverage(db, repetitions=repetitions, replicates=replicates, feed=feed,
                           key=key, turns=turns, jobs=jobs)  # fmt: skip
