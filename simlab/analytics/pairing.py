"""Hand-picked runs that form paired replicates, as a comparison's runs do.

Runs picked one by one (``--runs``) are paired replicates when:

- there are at least two arms (feed algorithms, or comparison arms) and two seeds;
- every arm has exactly one run per seed, and every arm the same seeds;
- every run simulated the same population (``run_lifecycle.population_fingerprint``)
  with the same config apart from its feed and seed (turns, agents, policy,
  opinion model, ...).

Then replicate ``i`` is the ``i``-th smallest seed, and each difference to the
first arm is paired within a seed (common random numbers), as in a comparison.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import duckdb
import pandas as pd

from simlab.analytics._query import SELECTION, fetch


def _design(config_json: str | None) -> str:
    """A run's config without its feed and seed, as canonical JSON."""
    try:
        config = json.loads(config_json or "{}")
    except ValueError:
        config = {}
    config.pop("feed", None)
    config.pop("seed", None)
    return json.dumps(config, sort_keys=True)


def paired_replicates(
    con: duckdb.DuckDBPyConnection, *, run_ids: Iterable[str]
) -> pd.DataFrame | None:
    """The replicate of each picked run if the runs are paired replicates (see the module), else None.

    Returns:
        Columns run_id, arm, seed, replicate (0-based seed rank), or None.
    """
    found = fetch(
        con,
        f"""
        WITH {SELECTION}
        SELECT s.run_id, s.arm, c.seed, c.config_json, l.population_fingerprint AS population
        FROM sel AS s
        LEFT JOIN sim.run_configs AS c USING (run_id)
        LEFT JOIN sim.run_lifecycle AS l USING (run_id)
        ORDER BY s.run_id
        """,
        {"run_ids": [str(r) for r in run_ids], "comparison_id": None},
    )
    if found.empty or found["seed"].isna().any():
        return None
    designs = found["config_json"].map(_design) + "|" + found["population"].fillna("")
    seeds = found.groupby("arm")["seed"].apply(lambda s: tuple(sorted(s)))
    if designs.nunique() != 1 or found["arm"].nunique() < 2 or seeds.nunique() != 1:
        return None
    shared = seeds.iloc[0]
    if len(shared) < 2 or len(set(shared)) != len(shared):
        return None
    rank = {seed: i for i, seed in enumerate(shared)}
    return found.assign(replicate=found["seed"].map(rank))[["run_id", "arm", "seed", "replicate"]]
