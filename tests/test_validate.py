"""``simlab validate``: each benchmark against an independent computation, and the command's table."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
import pytest
from scipy.stats import beta, t

from simlab import analytics
from simlab.inference import aa_coverage
from simlab.validate import bounded_confidence, field, targets
from simlab.validate.population import synthetic_database, synthetic_population

from .conftest import REPO

# --- bounded confidence --------------------------------------------------------------------------


def clusters_by_hand(opinions: list[float], gap: float, share: float) -> int:
    """Major clusters on the paper's [0, 1] scale, counted with a plain loop."""
    ordered = sorted(opinions)
    sizes, size = [], 1
    for left, right in zip(ordered, ordered[1:], strict=False):
        if right - left > gap:
            sizes.append(size)
            size = 0
        size += 1
    sizes.append(size)
    return sum(1 for s in sizes if s >= share * len(ordered))


def deffuant_by_hand(epsilon: float, n: int, meetings: int, seed: int) -> list[float]:
    """Deffuant et al. 2000 as published: opinions U(0, 1), random pairs, μ = 0.5."""
    rng = random.Random(seed)
    x = [rng.random() for _ in range(n)]
    for _ in range(meetings):
        i, j = rng.sample(range(n), 2)
        if abs(x[i] - x[j]) < epsilon:
            x[i], x[j] = x[i] + 0.5 * (x[j] - x[i]), x[j] + 0.5 * (x[i] - x[j])
    return x


def test_major_clusters_hand_worked():
    # on [-1, 1]: gaps > 0.1 split; {-0.9 x1} is 1 of 21 agents (< 5%), so minor
    x = np.array([-0.9] + [-0.3] * 10 + [0.5] * 10)
    assert bounded_confidence.major_clusters(x) == 2
    assert bounded_confidence.major_clusters(np.linspace(-1, 1, 100)) == 1  # no gap > 0.1


@pytest.mark.parametrize(
    ("epsilon", "published"), [(0.5, {1}), (0.25, {2}), (0.15, {3}), (0.1, {4, 5, 6})]
)
def test_deffuant_through_the_registry_and_by_hand_give_the_published_counts(epsilon, published):
    n, rounds, seeds = 300, 120, range(3)
    registry = [
        bounded_confidence.major_clusters(
            bounded_confidence.deffuant_final(epsilon, n, rounds, seed)
        )
        for seed in seeds
    ]
    by_hand = [
        clusters_by_hand(
            deffuant_by_hand(epsilon, n, n * rounds, seed),
            bounded_confidence.CLUSTER_GAP,
            bounded_confidence.MAJOR_SHARE,
        )
        for seed in seeds
    ]
    assert np.median(registry) in published
    assert np.median(by_hand) in published


def hk_by_hand(x: list[float], epsilon: float, rounds: int) -> list[float]:
    """Hegselmann–Krause 2002 on [-1, 1] scale: everyone moves to the mean within 2ε, at once."""
    for _ in range(rounds):
        x = [
            sum(y for y in x if abs(y - xi) <= 2 * epsilon)
            / sum(1 for y in x if abs(y - xi) <= 2 * epsilon)
            for xi in x
        ]
    return x


def test_hegselmann_krause_through_the_registry_matches_the_loop():
    for epsilon in (0.12, 0.3):
        final = bounded_confidence.hegselmann_krause_final(epsilon, 40, seed=3)
        start = np.random.default_rng(3).uniform(-1, 1, 40).tolist()
        np.testing.assert_allclose(final, hk_by_hand(start, epsilon, 200), atol=1e-9)


def test_hegselmann_krause_threshold_is_in_the_published_band():
    target = targets.HEGSELMANN_KRAUSE
    threshold = bounded_confidence.consensus_threshold(60, 3, np.arange(0.10, 0.36, 0.02))
    assert target.low <= threshold <= target.high
    assert (
        bounded_confidence.major_clusters(
            bounded_confidence.hegselmann_krause_final(0.1, 60, seed=0)
        )
        > 1
    )  # well below the threshold: fragmentation


# --- A/A coverage ----------------------------------------------------------------------------------


def test_aa_check_counts_what_a_scipy_recount_of_the_stored_runs_gives():
    """The check's coverage, recounted from the recorded runs with scipy's t quantile."""
    repetitions, replicates = 8, 3
    with synthetic_database(12, 60, 0) as db:
        result = aa_coverage(db, repetitions=repetitions, replicates=replicates,
                             feed="chronological", key="run.engagement.rate", turns=2,
                             jobs=1)  # fmt: skip
        con = analytics.connect(db)
        try:
            scalars = analytics.run_scalars(
                con, comparison_id=result.comparison_id, keys=["run.engagement.rate"]
            )
        finally:
            con.close()
    wide = scalars.pivot(index="replicate", columns="arm", values="value")
    assert len(wide) == repetitions * replicates  # one A and one B run per replicate index
    covered = 0
    for k in range(repetitions):
        d = (wide["B"] - wide["A"]).to_numpy()[k * replicates : (k + 1) * replicates]
        half = t.ppf(0.975, replicates - 1) * d.std(ddof=1) / np.sqrt(replicates)
        covered += abs(d.mean()) <= half
    assert (result.covered, result.trials) == (covered, repetitions)
    assert (result.low, result.high) == pytest.approx(
        (beta.ppf(0.025, covered, repetitions - covered + 1) if covered else 0.0,
         beta.ppf(0.975, covered + 1, repetitions - covered) if covered < repetitions else 1.0)
    )  # fmt: skip


# --- field results ---------------------------------------------------------------------------------


def test_in_network_counts_match_a_loop_over_agents_and_posts():
    pop = synthetic_population(40, 200, 1)
    sim = field.simulation(pop, "personalized", 0, 3)
    sim.step(0)  # some likes and follows, so "acted" and new follows matter
    cross, sided = field._in_network_counts(sim, 1)
    columns = sim.candidate_pool(1).tolist()
    state = sim.state
    for a in range(pop.n_agents):
        c = s = 0
        for p in columns:
            author = pop.post_author[p]
            if author == a or not state.follows.contains(a, author) or state.acted.contains(a, p):
                continue
            x, y = state.leaning[a], pop.post_leaning[p]
            if abs(x) > 0.1 and abs(y) > 0.1:
                s += 1
                c += (x > 0) != (y > 0)
        assert (cross[a], sided[a]) == (c, s)


def test_field_results_follow_the_documented_formulas():
    ranked, control = field.Tally(), field.Tally()
    ranked.potential = {"liberals": [30, 100], "conservatives": [20, 100]}
    ranked.exposed = {"liberals": [27, 100], "conservatives": [19, 100]}
    ranked.engaged, ranked.impressions = 50, 1000
    control.engaged, control.impressions = 20, 800
    ranked.reach = {"liberals": 80, "conservatives": 90}
    control.reach = {"liberals": 100, "conservatives": 100}
    result = field.results(ranked, control)
    assert result.cut == pytest.approx({"liberals": 0.1, "conservatives": 0.05})
    assert result.engagement_change == pytest.approx((20 / 800) / (50 / 1000) - 1)
    assert result.amplification_ratio == pytest.approx(0.9 / 0.8)


# --- the command -----------------------------------------------------------------------------------


def test_validate_fast_prints_the_table_and_exits_1_exactly_when_a_check_fails():
    env = {**os.environ, "COLUMNS": "200"}
    result = subprocess.run(
        [sys.executable, "-m", "simlab", "validate", "--fast"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    out = result.stdout
    for header in ("check", "published result", "simlab", "pass"):
        assert header in out
    summary = next(line for line in out.splitlines() if "checks pass" in line)
    passed, total = (int(word) for word in summary.split()[::2][:2])
    assert total == 10
    assert result.returncode == (0 if passed == total else 1), out
    for label in ("Deffuant major clusters, ε = 0.15", "A/A coverage", "Hegselmann–Krause"):
        row = next(line for line in out.splitlines() if label in line)
        assert "yes" in row, row
