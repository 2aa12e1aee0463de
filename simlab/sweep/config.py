"""A sweep's grid: arms x feed params x opinion params x policy params x populations x replicates.

A sweep config (TOML, see ``docs/sweeps.md``)::

    seed = 0                 # root seed of every replicate
    replicates = 2           # runs per grid point and population
    populations = 1          # populations drawn (simlab.population.draws)
    [run]                    # RunConfig settings every cell shares
    turns = 10
    [grid]
    feeds = ["chronological", "engagement"]    # or arms = ["fast=popularity:half_life_hours=3"]
    [grid.feed_params.engagement]              # by arm name; each value a list
    half_life_turns = [3.0, 6.0]
    [grid.opinion_params]                      # parameters of run.opinion.name
    epsilon = [0.2, 0.4]
    [grid.policy_params]                       # parameters of run.policy.name
    like_scale = [0.5, 1.0]

Expansion is the full product, like Mesa's ``batch_run``: for each arm, every
combination of its feed-parameter lists, of the opinion lists and of the
policy lists, for each population ``p`` and replicate ``r``. Cells are numbered
in that order (arms outermost, replicates innermost). Seeds follow
:mod:`simlab.compare`: replicate index ``i = p·R + r`` runs with
:func:`simlab.compare.replicate_seed` ``(seed, i, arm.seed_stream)`` in every
grid point, so cells that differ in one setting pair by replicate (common
random numbers) and a sweep of one grid point equals a comparison's arm.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simlab.compare import MAX_POPULATIONS, Arm, parse_arm, replicate_seed
from simlab.config import RunConfig, build, merge
from simlab.errors import InputError
from simlab.limits import MAX_SEED
from simlab.params import wrapped_input_error
from simlab.population.draws import PopulationDraw

MAX_CELLS = 100_000
Values = Annotated[list[Any], Field(min_length=1, max_length=1000)]
ParamGrid = dict[str, Values]


class Grid(BaseModel):
    """The swept settings: arms (``feeds`` or ``arms``) and parameter value lists."""

    model_config = ConfigDict(extra="forbid")

    feeds: list[str] | None = Field(
        None, min_length=1, description="one arm per feed, named after it"
    )
    arms: list[str] | None = Field(None, min_length=1, description="NAME=FEED[:K=V,...] each")
    feed_params: dict[str, ParamGrid] = Field(
        default_factory=dict, description="arm name -> parameter -> values"
    )
    opinion_params: ParamGrid = Field(default_factory=dict, description="parameter -> values")
    policy_params: ParamGrid = Field(default_factory=dict, description="parameter -> values")

    @model_validator(mode="after")
    def _one_arm_form(self) -> Grid:
        if (self.feeds is None) == (self.arms is None):
            raise InputError("grid: give feeds = [...] or arms = [...] (one of them)")
        names = [arm.name for arm in self.arm_list()]
        if len(set(names)) != len(names):
            raise InputError(f"grid: each arm name may appear once, got {', '.join(names)}")
        stray = sorted(set(self.feed_params) - set(names))
        if stray:
            raise InputError(
                f"grid.feed_params: {stray[0]!r} is not an arm; allowed: {', '.join(names)}"
            )
        return self

    def arm_list(self) -> list[Arm]:
        """The arms, in order (``feeds`` gives one arm per feed, named after it)."""
        if self.arms is not None:
            return [Arm(**parse_arm(spec)) for spec in self.arms]
        return [Arm(name=feed, feed=feed) for feed in self.feeds or []]


def combinations(grid: ParamGrid) -> list[dict[str, Any]]:
    """Every combination of ``grid``'s value lists, keys in order (``[{}]`` for no keys)."""
    keys = list(grid)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*grid.values())]


def describe_settings(settings: dict[str, Any]) -> str:
    """A cell's settings in one short line: ``arm k=v opinion.k=v policy.k=v pop P rep R``."""
    parts = [settings["arm"]]
    for prefix, key in (
        ("", "feed_params"),
        ("opinion.", "opinion_params"),
        ("policy.", "policy_params"),
    ):
        parts += [f"{prefix}{name}={value}" for name, value in settings[key].items()]
    return " ".join([*parts, f"pop {settings['population']}", f"rep {settings['replicate']}"])


@dataclass(frozen=True)
class Cell:
    """One cell of a sweep: its number, the settings the grid chose, its run's config."""

    index: int
    settings: dict[str, Any]
    run: RunConfig


class SweepConfig(BaseModel):
    """A sweep: the grid, populations, replicates and the run settings every cell shares."""

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, ge=0, le=MAX_SEED, description="root seed of every replicate")
    replicates: int = Field(1, ge=1, le=1000, description="runs per grid point and population")
    populations: int = Field(1, ge=1, le=MAX_POPULATIONS, description="populations drawn")
    run: dict[str, Any] = Field(default_factory=dict, description="RunConfig settings shared")
    grid: Grid
    draws: list[PopulationDraw | None] | None = Field(
        None, description="the populations drawn (set when the sweep starts)"
    )

    def size(self) -> int:
        """How many cells the grid expands to."""
        arms = self.grid.arm_list()
        points = sum(
            math.prod(map(len, self.grid.feed_params.get(a.name, {}).values())) for a in arms
        )
        shared = math.prod(
            map(len, [*self.grid.opinion_params.values(), *self.grid.policy_params.values()])
        )
        return points * shared * self.populations * self.replicates

    def cells(self) -> list[Cell]:
        """Every cell in order (module docstring), each run config validated.

        Raises:
            InputError: more than :data:`MAX_CELLS` cells, or a cell's settings are invalid.
        """
        if (size := self.size()) > MAX_CELLS:
            raise InputError(
                f"sweep config: the grid has {size} cells; at most {MAX_CELLS} allowed"
            )
        draws = self.draws or [None] * self.populations
        cells: list[Cell] = []
        for arm in self.grid.arm_list():
            for feed, opinion, policy in itertools.product(
                combinations(self.grid.feed_params.get(arm.name, {})),
                combinations(self.grid.opinion_params),
                combinations(self.grid.policy_params),
            ):
                for population, draw in enumerate(draws):
                    for r in range(self.replicates):
                        replicate = population * self.replicates + r
                        settings = {"arm": arm.name, "feed": arm.feed, "feed_params": feed,
                                    "opinion_params": opinion, "policy_params": policy,
                                    "population": population, "replicate": replicate}  # fmt: skip
                        run = build(self._values(arm, feed, opinion, policy, draw, replicate))
                        cells.append(Cell(len(cells), settings, run))
        return cells

    def _values(self, arm: Arm, feed, opinion, policy, draw, replicate: int) -> dict[str, Any]:
        return merge(
            self.run,
            {
                "seed": replicate_seed(self.seed, replicate, arm.seed_stream),
                "feed": {"name": arm.feed, "params": {**arm.params, **feed}},
                "opinion": {"params": opinion},
                "policy": {"params": policy},
                "population": None if draw is None else draw.model_dump(),
            },
        )


def parse(values: dict[str, Any], source: str) -> SweepConfig:
    """Validate a sweep config dict (read from ``source``) and every cell it expands to.

    Raises:
        InputError: one line naming the first bad field and what is allowed there.
    """
    try:
        config = SweepConfig.model_validate(values)
    except ValidationError as exc:
        if (cause := wrapped_input_error(exc)) is not None:
            raise InputError(f"{source}: {cause}") from None
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        if error["type"] == "extra_forbidden":
            model = Grid if error["loc"][0] == "grid" and len(error["loc"]) == 2 else SweepConfig
            allowed = ", ".join(name for name in model.model_fields if name != "draws")
            raise InputError(f"{source}: unknown setting {where!r}; allowed: {allowed}") from None
        raise InputError(f"{source}: {where}: {error['msg']}") from None
    config.cells()
    return config
