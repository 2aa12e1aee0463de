"""The populations the run-based checks simulate: synthetic, built in a throw-away database."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from simlab.config import build
from simlab.db import make_engine, migrate
from simlab.engine import Simulation
from simlab.population import SyntheticConfig, create_synthetic
from simlab.world import Population, load_population


def synthetic_population(agents: int, posts: int, seed: int) -> Population:
    """The default synthetic population of that size, generated in a temporary SQLite file."""
    with tempfile.TemporaryDirectory(prefix="simlab-validate-") as folder:
        url = f"sqlite:///{Path(folder) / 'validate.db'}"
        migrate(url)
        engine = make_engine(url)
        try:
            create_synthetic(engine, SyntheticConfig(agents=agents, posts=posts, seed=seed))
            with engine.connect() as connection:
                return load_population(connection)
        finally:
            engine.dispose()


def simulation(
    pop: Population, feed: str, seed: int, turns: int, params: dict | None = None
) -> Simulation:
    """A simulation of ``pop`` under ``feed`` (with ``params``), every other setting at its default."""
    config = {"seed": seed, "turns": turns, "feed": {"name": feed, "params": params or {}}}
    return Simulation(build(config), pop)


def replicate_seed(*words: int) -> int:
    """A run seed derived from ``words`` (distinct words give independent seeds)."""
    return int(np.random.SeedSequence(list(words)).generate_state(1)[0])
