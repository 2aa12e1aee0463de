"""The populations the run-based checks simulate: synthetic, built in a throw-away database."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from simlab.config import build
from simlab.db import make_engine, migrate
from simlab.engine import Simulation
from simlab.population import SyntheticConfig, create_synthetic
from simlab.world import Population, load_population


@contextmanager
def synthetic_database(agents: int, posts: int, seed: int) -> Iterator[str]:
    """A migrated temporary SQLite file holding the default synthetic population of that size.

    Yields its path; the file is deleted when the ``with`` block ends.
    """
    with tempfile.TemporaryDirectory(prefix="simlab-validate-") as folder:
        path = str(Path(folder) / "validate.db")
        migrate(path)
        engine = make_engine(path)
        try:
            create_synthetic(engine, SyntheticConfig(agents=agents, posts=posts, seed=seed))
        finally:
            engine.dispose()
        yield path


def synthetic_population(agents: int, posts: int, seed: int) -> Population:
    """The default synthetic population of that size (:func:`synthetic_database`), in memory."""
    with synthetic_database(agents, posts, seed) as path:
        engine = make_engine(path)
        try:
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
