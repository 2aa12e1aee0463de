"""The run memory estimate: 100,000 agents fit in 4 GB, absurd sizes are refused in one line."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simlab import engine as simulation
from simlab import limits
from simlab.config import RunConfig
from simlab.db import make_engine, migrate
from simlab.errors import InputError
from simlab.population import SyntheticConfig, create_synthetic

GIB = 2**30


def scale_run(agents: int, turns: int) -> limits.RunSize:
    """The size of a synthetic population's default run (10 follows per agent)."""
    return limits.RunSize(
        n_agents=agents,
        n_posts=5000 + turns * agents // 20,  # more agent posts than a run writes (~1.4%)
        n_accounts=agents + 100,
        n_follows=10 * agents,
        turns=turns,
        feed_size=20,
        pool=1000,
        block_size=1024,
    )


def test_100k_agents_for_20_turns_with_a_pool_of_1000_fit_in_4_gb():
    estimate = limits.run_memory(scale_run(100_000, 20))
    assert estimate < 4 * GIB
    if limits.available_memory() > estimate:
        limits.check_run_memory(scale_run(100_000, 20))  # accepted


def test_the_estimate_grows_with_every_size_and_with_no_pool():
    base = limits.run_memory(scale_run(10_000, 10))
    for name, value in (("n_follows", 10**7), ("turns", 100), ("feed_size", 200)):
        assert limits.run_memory(dataclasses.replace(scale_run(10_000, 10), **{name: value})) > base
    every_post = limits.run_memory(
        dataclasses.replace(scale_run(10_000, 10), pool=None, n_posts=10**6)
    )
    assert every_post > 60 * GIB  # ten (block x every post) arrays: refused on most machines


def test_an_absurd_run_is_refused_with_one_line_naming_the_estimate():
    with pytest.raises(InputError) as refused:
        limits.check_run_memory(scale_run(10**9, 1000))
    message = str(refused.value)
    assert "\n" not in message
    assert "1,000,000,000 agents" in message and "would need about" in message
    assert "TiB" in message and "available" in message


def test_the_estimate_errs_high_on_a_measured_run(tmp_path):
    """A real run's population and state stay below the estimate of their own sizes."""
    db = tmp_path / "pop.db"
    migrate(db)
    engine = make_engine(db)
    create_synthetic(engine, SyntheticConfig(agents=3000, posts=2000, seed=3))
    config = RunConfig(seed=3, turns=3, feed={"name": "personalized"})
    pop = simulation.population_for(config, engine)
    sim = simulation.Simulation(config, pop)
    for turn in range(config.turns):
        sim.step(turn)
    state = sim.state
    held = sum(a.nbytes for a in (state.follows.pairs(), state.acted.pairs(), pop.follow_pairs))
    actions = len(state.acted) + len(state.follows) - len(pop.follow_pairs)
    assert actions > 0
    assert actions <= pop.n_agents * config.turns * limits.ACTIONS_PER_AGENT_TURN
    pair_budget = (len(pop.follow_pairs) + actions) * limits.PAIR_BYTES
    assert held < pair_budget
    assert not any(
        isinstance(v, np.ndarray) and v.ndim == 2 and v.shape[1] >= pop.n_posts
        for v in vars(state).values()
    )  # nothing agents x posts
