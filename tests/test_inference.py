"""Population-level inference: the cluster estimator, Holm, population draws, A/A coverage."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simlab import analytics
from simlab import engine as simulation
from simlab.analytics.summary import headline
from simlab.compare import CompareConfig, compare, parse_arm
from simlab.config import RunConfig
from simlab.db import make_engine
from simlab.errors import InputError
from simlab.inference import (
    aa_coverage,
    arm_summary,
    clopper_pearson,
    cluster_estimate,
    holm,
)
from simlab.population import draws
from simlab.world import load_population

from .conftest import init_database, run_simlab


def test_cluster_estimate_equals_scipy_on_population_means():
    rng = np.random.default_rng(7)
    clusters = np.repeat(np.arange(5), 3)  # P = 5 populations x R = 3 replicates
    values = rng.normal(0.3, 1.0, size=15) + np.repeat(rng.normal(0, 2, 5), 3)
    estimate = cluster_estimate(values, clusters)
    means = values.reshape(5, 3).mean(axis=1)  # independent: per population, then t over them
    low, high = stats.t.interval(0.95, df=4, loc=means.mean(), scale=stats.sem(means))
    assert estimate.units == 5
    assert (estimate.mean, estimate.low, estimate.high) == pytest.approx((means.mean(), low, high))
    assert estimate.p_value == pytest.approx(stats.ttest_1samp(means, 0).pvalue)


def test_one_population_is_the_paired_t_over_replicates():
    values = [1.0, 1.5, 0.5, np.nan]
    estimate = cluster_estimate(values, [0, 0, 0, 0])
    low, high = stats.t.interval(0.95, df=2, loc=1.0, scale=stats.sem([1.0, 1.5, 0.5]))
    assert estimate.units == 3 and (estimate.low, estimate.high) == pytest.approx((low, high))


def test_holm_matches_a_hand_computed_example():
    # m = 4: sorted 0.005, 0.01, 0.03, 0.04 -> 4·0.005 = 0.02, 3·0.01 = 0.03,
    # 2·0.03 = 0.06, max(0.06, 1·0.04) = 0.06 (Holm 1979's step-down, monotone).
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert list(adjusted < 0.05) == [True, False, False, True]
    # NaN does not count in m; a large p caps at 1
    assert holm([np.nan, 0.02, 0.6]) == pytest.approx([np.nan, 0.04, 0.6], nan_ok=True)
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # 2·0.5 caps at 1; monotone


def test_clopper_pearson_equals_scipy():
    for k, n in [(38, 40), (0, 10), (10, 10), (95, 100)]:
        expected = stats.binomtest(k, n).proportion_ci(0.95, method="exact")
        assert clopper_pearson(k, n) == pytest.approx((expected.low, expected.high))


def test_arm_summary_clusters_by_population_and_corrects_over_all_rows():
    rows = []
    for replicate in range(6):  # P = 3, R = 2
        for arm, shift in (("a", 0.0), ("b", 1.0), ("c", 0.01 * replicate)):
            for key in ("k1", "k2"):
                rows.append((arm, replicate, key, 10 + replicate + shift))
    scalars = pd.DataFrame(rows, columns=["arm", "replicate", "key", "value"])
    frame = arm_summary(scalars, ["a", "b", "c"], ["k1", "k2"], replicates_per_population=2)
    b = frame[(frame["arm"] == "b") & (frame["key"] == "k1")].iloc[0]
    assert (b["diff"], b["units"], b["populations"]) == (1.0, 3, 3)
    tested = frame[frame["arm"] != "a"]
    assert tested["p_holm"].notna().sum() == 4  # m = 2 metrics x 2 arms
    assert (tested["p_holm"] >= tested["p_value"]).all()


def test_headline_ranks_holm_significant_claims_by_relative_effect():
    frame = pd.DataFrame(
        [
            ("k1", "base", 3, 10.0, 9, 11, 0.0, np.nan, np.nan, np.nan, np.nan, 0, 3),
            ("k1", "b", 3, 11.0, 10, 12, 1.0, 0.9, 1.1, 0.001, 0.002, 3, 3),  # +10%, clear
            ("k2", "base", 3, 1.0, 0.9, 1.1, 0.0, np.nan, np.nan, np.nan, np.nan, 0, 3),
            ("k2", "b", 3, 1.5, 1.4, 1.6, 0.5, 0.45, 0.55, 0.001, 0.002, 3, 3),  # +50%, clear
            ("k3", "base", 3, 1.0, 0.9, 1.1, 0.0, np.nan, np.nan, np.nan, np.nan, 0, 3),
            ("k3", "b", 3, 3.0, -5, 11, 2.0, -6, 10, 0.3, 0.3, 3, 3),  # +200%, not significant
        ],
        columns=["key", "arm", "n", "mean", "ci_low", "ci_high", "diff", "diff_low",
                 "diff_high", "p_value", "p_holm", "units", "populations"],
    )  # fmt: skip
    text = headline(frame, per_arm=2)
    assert "m = 3" in text and "Holm" in text and "relative effect size" in text
    bullets = [line for line in text.splitlines() if line.startswith("- ")]
    assert len(bullets) == 2 and "+50%" in bullets[0] and "+10%" in bullets[1]
    assert "Largest effect left out" in text and "+200%" in text
    assert "3 populations" in text and "df = 2" in text


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    return init_database(tmp_path_factory.mktemp("inf") / "inf.db", agents=30, posts=120, seed=5)


def test_bootstrap_resamples_agents_deterministically(small_db):
    engine = make_engine(small_db)
    with engine.connect() as connection:
        pop = load_population(connection)
    engine.dispose()
    one, again, other = (draws.bootstrap(pop, s) for s in (3, 3, 4))
    assert list(one.handles) == list(again.handles)
    assert list(one.handles) != list(other.handles)
    assert one.n_agents == pop.n_agents and len(set(one.handles.tolist())) == one.n_agents
    assert any("~2" in h for h in one.handles.tolist())  # some agent drawn twice
    assert list(one.accounts[: one.n_agents]) == list(one.handles)
    assert sorted(one.accounts.tolist()) == sorted(set(one.accounts.tolist()))
    # every post keeps its author's handle, every follow points at a real account
    for post in range(pop.n_posts):
        old = pop.accounts[pop.post_author[post]]
        assert one.accounts[one.post_author[post]] == old
    assert (one.follow_pairs[:, 1] < one.n_accounts).all()
    base = one.handles[0].split("~")[0]
    copies = [a for a, h in enumerate(one.handles.tolist()) if h.split("~")[0] == base]
    source = list(pop.handles).index(base)
    followed = {pop.accounts[u] for a, u in pop.follow_pairs.tolist() if a == source}
    for copy in copies:
        mine = {one.accounts[u] for a, u in one.follow_pairs.tolist() if a == copy}
        assert {h.split("~")[0] for h in mine} == followed


def test_runs_on_drawn_populations_complete_and_resume_fingerprints_match(small_db):
    for draw in (
        draws.PopulationDraw(kind="bootstrap", index=1, seed=9),
        draws.PopulationDraw(kind="synthetic", index=2, seed=77),
    ):
        config = RunConfig(turns=2, seed=1, population=draw)
        engine = make_engine(small_db)  # disposed before DuckDB opens the file in this process
        try:
            run_id = simulation.run(config, engine)
        finally:
            engine.dispose()
        with closing(sqlite3.connect(small_db)) as connection:
            status, stored = connection.execute(
                "SELECT r.status, c.config_json FROM runs r JOIN run_configs c USING (run_id) "
                "WHERE run_id = ?",
                (run_id,),
            ).fetchone()
            handles = {h for (h,) in connection.execute(
                "SELECT agent_handle FROM agent_leanings WHERE run_id = ?", (run_id,))}  # fmt: skip
        assert status == "completed"
        assert json.loads(stored)["population"] == draw.model_dump()
        assert all(h.startswith(f"pop{draw.index}:") for h in handles)


def test_compare_populations_gives_intervals_over_populations(small_db):
    spec = CompareConfig(feeds=["chronological", "popularity"], replicates=2, populations=3,
                         run={"turns": 2})  # fmt: skip
    result = compare(spec, str(small_db), jobs=2)
    assert not result.failures and len(result.run_ids) == 2 * 3 * 2
    with closing(sqlite3.connect(small_db)) as connection:
        stored = json.loads(connection.execute(
            "SELECT config_json FROM comparisons WHERE comparison_id = ?",
            (result.comparison_id,)).fetchone()[0])  # fmt: skip
    assert stored["draws"][0] is None  # population 0 is the stored synthetic one
    assert [d["seed"] for d in stored["draws"][1:]] == [6, 7]  # stored seed 5 + i
    con = analytics.connect(small_db)
    summary = analytics.comparison_summary(con, comparison_id=result.comparison_id)
    con.close()
    treated = summary[summary["arm"] == "popularity"]
    assert set(treated["populations"]) == {3} and set(treated["units"]) <= {0, 3}
    assert "3 populations" in headline(summary)


def test_arms_repeat_a_feed_and_aa_from_the_cli(small_db):
    assert parse_arm("fast=popularity:half_life_hours=3,seed_stream=1") == {
        "name": "fast", "feed": "popularity", "params": {"half_life_hours": "3"},
        "seed_stream": 1,
    }  # fmt: skip
    with pytest.raises(InputError, match="NAME=FEED"):
        parse_arm("popularity")
    result = run_simlab("compare", "--arm", "a=random", "--arm", "b=random:seed_stream=1",
                        "--arm", "slow=popularity:half_life_hours=48", "--turns", "2",
                        "--replicates", "2", "--db", str(small_db))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "paired t over 2 replicates of one population" in result.stdout
    bad = run_simlab("compare", "--arm", "a=random", "--arm", "a=popularity", "--db",
                     str(small_db))  # fmt: skip
    assert bad.returncode == 2 and "each arm name may appear once" in bad.stderr


def test_aa_coverage_is_about_95_percent(small_db):
    coverage = aa_coverage(str(small_db), repetitions=40, replicates=3, turns=2, agents=20,
                           jobs=2)  # fmt: skip
    assert coverage.trials == 40
    print(
        f"A/A coverage {coverage.covered}/{coverage.trials} = {coverage.share:.3f} "
        f"[{coverage.low:.3f}, {coverage.high:.3f}]"
    )
    assert coverage.low <= 0.95 <= coverage.high, coverage
