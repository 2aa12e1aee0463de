"""Population draws: other populations like the stored one, so inference can cover populations.

A run's :class:`PopulationDraw` (``RunConfig.population``; None = the stored
population as it is) says which population it simulates:

- ``synthetic``: the stored synthetic population's config
  (``populations.config_json``) generated again with another ``seed``, in
  memory. Same sizes and priors, new agents, posts and follows.
- ``bootstrap``: the stored population with its agents resampled with
  replacement ([Efron1993]), ``n`` draws from ``n`` agents by
  ``np.random.default_rng(seed)``. A drawn agent keeps its traits and initial
  follows; an agent drawn more than once appears as copies ``handle~2``, ...;
  agents not drawn remain accounts (they authored posts and can be followed).
  Posts stay as they are.

A draw is deterministic in its seed, so a resumed run loads the same population
(the lifecycle fingerprint matches). Drawn agents and posts are not rows of the
``agent`` / ``feed_posts`` tables: their handles and post ids carry the prefix
``pop<index>:`` so rows written by a run on a draw never join to stored rows by
accident. Metrics, which the engine computes from the arrays, are complete;
analytics that join the population tables see only the stored population.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simlab.errors import InputError
from simlab.limits import MAX_SEED

if TYPE_CHECKING:  # the run config imports this module: sqlalchemy stays out of `simlab --help`
    from sqlalchemy.engine import Connection


class PopulationDraw(BaseModel):
    """Which drawn population a run simulates (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["synthetic", "bootstrap"]
    index: int = Field(..., ge=0, le=10_000, description="population number in its comparison")
    seed: int = Field(..., ge=0, le=MAX_SEED, description="synthetic seed or resampling seed")


def stored_kind(connection: Connection) -> tuple[str, int | None]:
    """How the stored population is drawn again: ``("synthetic", seed)`` or ``("bootstrap", None)``.

    Synthetic when the database holds exactly one population and it is synthetic;
    bootstrap for imported data or several populations merged.
    """
    rows = connection.exec_driver_sql("SELECT source, config_json FROM populations").all()
    if len(rows) == 1 and rows[0].source == "synthetic":
        return "synthetic", int(json.loads(rows[0].config_json).get("seed", 0))
    return "bootstrap", None


def plan(connection: Connection, populations: int, seed: int) -> list[PopulationDraw | None]:
    """The ``populations`` draws of a comparison with root ``seed``.

    One population: the stored one (``[None]``). Synthetic, P > 1: population 0
    is the stored one and population ``i`` regenerates it with seed
    ``stored seed + i``. Imported, P > 1: P bootstrap resamples with seeds
    ``SeedSequence([seed, i])``.
    """
    if populations == 1:
        return [None]
    kind, stored_seed = stored_kind(connection)
    if kind == "synthetic":
        return [None] + [
            PopulationDraw(kind="synthetic", index=i, seed=(stored_seed + i) % (MAX_SEED + 1))
            for i in range(1, populations)
        ]
    return [
        PopulationDraw(
            kind="bootstrap",
            index=i,
            seed=int(np.random.SeedSequence([seed, i]).generate_state(2, np.uint64)[0] >> 1),
        )
        for i in range(populations)
    ]


def apply(connection: Connection, pop, draw: PopulationDraw | None):
    """The population ``draw`` describes, from the stored ``pop`` (returned as is for None)."""
    if draw is None:
        return pop
    drawn = _synthetic(connection, draw) if draw.kind == "synthetic" else bootstrap(pop, draw.seed)
    return prefixed(drawn, f"pop{draw.index}:")


def _synthetic(connection: Connection, draw: PopulationDraw):
    from sqlalchemy import create_engine

    from simlab.population.synthetic import SyntheticConfig, generate
    from simlab.population.writer import write_population
    from simlab.schema import metadata
    from simlab.world import load_population

    kind, _ = stored_kind(connection)
    if kind != "synthetic":
        raise InputError("population: a synthetic draw needs one stored synthetic population")
    stored = connection.exec_driver_sql("SELECT config_json FROM populations").scalar_one()
    config = SyntheticConfig.model_validate({**json.loads(stored), "seed": draw.seed})
    scratch = create_engine("sqlite://")
    try:
        metadata.create_all(scratch)
        write_population(
            scratch, generate(config), "synthetic", {}, config.start.isoformat(), "init"
        )
        with scratch.connect() as memory:
            return load_population(memory)
    finally:
        scratch.dispose()


def bootstrap(pop, seed: int):
    """``pop`` with its agents resampled with replacement (see the module docstring)."""
    from simlab.world import Population

    n = pop.n_agents
    drawn = np.sort(np.random.default_rng(seed).integers(0, n, size=n))
    copy = np.zeros(n, dtype=np.int64)  # 0 for an agent's first copy, 1 for its second, ...
    for i in range(1, n):
        copy[i] = copy[i - 1] + 1 if drawn[i] == drawn[i - 1] else 0
    names = [
        h if c == 0 else f"{h}~{c + 1}"
        for h, c in zip(pop.handles[drawn].tolist(), copy.tolist(), strict=True)
    ]
    ids = [
        a if c == 0 else f"{a}~{c + 1}"
        for a, c in zip(pop.agent_ids[drawn].tolist(), copy.tolist(), strict=True)
    ]
    order = np.argsort(np.array(names, dtype=object), kind="stable")
    drawn, copy = drawn[order], copy[order]
    names, ids = [names[i] for i in order], [ids[i] for i in order]
    outsiders = np.array(
        sorted(set(range(pop.n_accounts)) - set(drawn[copy == 0].tolist()),
               key=lambda u: pop.accounts[u]),
        dtype=np.int64,
    )  # fmt: skip
    remap = np.empty(pop.n_accounts, dtype=np.int64)  # old account -> new account
    first = copy == 0
    remap[drawn[first]] = np.nonzero(first)[0]
    remap[outsiders] = n + np.arange(len(outsiders))
    by_source = {}
    for source, target in pop.follow_pairs.tolist():
        by_source.setdefault(source, []).append(remap[target])
    follows = sorted(
        (new, target)
        for new, old in enumerate(drawn.tolist())
        for target in by_source.get(old, [])
        if target != new
    )
    agent_fields = ("leaning", "interests", "activity_rate", "like_propensity",
                    "comment_propensity", "follow_propensity")  # fmt: skip
    fields = {name: getattr(pop, name) for name in pop.__dataclass_fields__}
    fields.update({name: getattr(pop, name)[drawn] for name in agent_fields})
    fields.update(
        agent_ids=np.array(ids, dtype=object),
        handles=np.array(names, dtype=object),
        accounts=np.array([*names, *pop.accounts[outsiders].tolist()], dtype=object),
        account_leaning=np.concatenate([pop.leaning[drawn], pop.account_leaning[outsiders]]),
        post_author=remap[pop.post_author],
        follow_pairs=np.array(follows, dtype=np.int64).reshape(-1, 2),
    )
    return Population(**fields)


def prefixed(pop, prefix: str):
    """``pop`` with ``prefix`` before every agent id, handle, account and post id (order kept)."""
    from dataclasses import replace

    def add(values: np.ndarray) -> np.ndarray:
        return np.array([prefix + str(v) for v in values.tolist()], dtype=object)

    return replace(
        pop,
        agent_ids=add(pop.agent_ids),
        handles=add(pop.handles),
        accounts=add(pop.accounts),
        post_ids=add(pop.post_ids),
    )
