"""Feed comparisons: arms x populations x paired replicates, cancellable and resumable.

An arm is a feed with parameters (``--arm NAME=FEED[:K=V,...]``); two arms may
use the same feed (other parameters, or an A/A test). A comparison draws P
populations (:mod:`simlab.population.draws`; P = 1 is the stored population)
and runs R replicates per population. Replicate ``r`` of population ``p`` is
stored as replicate index ``i = p·R + r`` and runs with seed
``SeedSequence([seed, i])``'s first word in every arm (common random numbers),
so arms differ only by their feed and differences pair by replicate. An arm
with ``seed_stream`` s > 0 draws ``SeedSequence([seed, i, s])`` instead: arms
on different streams are independent (an A/A comparison). Intervals are over
populations: :mod:`simlab.inference`.

:func:`compare` is the one comparison runner: ``simlab compare``, ``simlab
demo`` and the new_experiment notebook call it; :func:`resume_comparison`
runs only a comparison's missing, failed or stale cells. ``on_progress`` runs
on the calling thread. Runs execute on an executor (:mod:`simlab.executors`):
worker processes that die with their parent, or Ray tasks. On Ctrl-C,
SIGTERM or an exception from ``on_progress`` (a notebook's stop button), no
queued cell starts, in-flight runs are marked ``failed`` (reason
``interrupted``) and the error propagates; Ctrl-C and SIGTERM as
:class:`Interrupted`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)

from simlab import columnar_pack, executors
from simlab.config import RunConfig, build, merge
from simlab.db import make_engine
from simlab.errors import InputError
from simlab.executors import ExecutorChoice
from simlab.feeds import FEEDS
from simlab.ids import new_id
from simlab.limits import MAX_SEED
from simlab.population.draws import PopulationDraw
from simlab.recorder import Membership, utc_now

# on_progress(label, done, total): run ``label`` (``"<arm> #<replicate>"``) finished
# turn ``done`` of ``total``.
ProgressEvent = Callable[[str, int, int], None]
MAX_POPULATIONS = 1000


def replicate_seed(seed: int, replicate: int, stream: int = 0) -> int:
    """Replicate index ``replicate``'s run seed under root ``seed``, on seed stream ``stream``.

    The first word of ``SeedSequence([seed, replicate])`` (stream 0, common random
    numbers) or of ``SeedSequence([seed, replicate, stream])``.
    """
    words = [seed, replicate] + ([stream] if stream else [])
    return int(np.random.SeedSequence(words).generate_state(1)[0])


class Arm(BaseModel):
    """One arm: a name, a feed algorithm, its parameters and its seed stream."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")
    feed: str
    params: dict[str, Any] = Field(default_factory=dict)
    seed_stream: int = Field(0, ge=0, le=1000, description="0 = common random numbers")

    @field_validator("feed")
    @classmethod
    def _known(cls, feed: str) -> str:
        FEEDS.get(feed)
        return feed


class CompareConfig(BaseModel):
    """A comparison: arms x populations x replicates, plus the shared run settings.

    ``feeds=[...]`` (with ``feed_params={feed: {...}}``) is the short form of
    one arm per feed, named after it.
    """

    model_config = ConfigDict(extra="forbid")

    arms: list[Arm] = Field(..., min_length=1, description="the first arm is the baseline")
    replicates: int = Field(3, ge=1, le=1000, description="runs per arm and population, paired")
    populations: int = Field(1, ge=1, le=MAX_POPULATIONS, description="populations drawn")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="root seed of every replicate")
    run: dict[str, Any] = Field(
        default_factory=dict,
        description="RunConfig settings shared by every run (turns, agents, ...)",
    )
    draws: list[PopulationDraw | None] | None = Field(
        None, description="the populations drawn (set when the comparison starts)"
    )

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "feeds" not in data:
            return data
        data = dict(data)
        feeds, params = list(data.pop("feeds") or []), data.pop("feed_params", None) or {}
        if "arms" in data:
            if not params and feeds == [
                arm.get("name") for arm in data["arms"] if isinstance(arm, dict)
            ]:
                return data  # a stored config: ``feeds`` is the arm names (computed field)
            raise InputError("--feeds and --arm: give one of them, not both")
        stray = sorted(set(params) - set(feeds))
        if stray:
            raise InputError(f"--feed-param: {stray[0]!r} is not in --feeds ({', '.join(feeds)})")
        data["arms"] = [{"name": f, "feed": f, "params": params.get(f, {})} for f in feeds]
        return data

    @field_validator("arms")
    @classmethod
    def _unique_names(cls, arms: list[Arm]) -> list[Arm]:
        names = [arm.name for arm in arms]
        if len(set(names)) != len(names):
            raise InputError(
                f"arms: each arm name may appear once, got {','.join(names)} "
                "(use --arm NAME=FEED to run one feed twice)"
            )
        return arms

    @computed_field
    @property
    def feeds(self) -> list[str]:
        """Arm names in order (stored as ``feeds`` too, for readers of the short form)."""
        return [arm.name for arm in self.arms]

    def replicate_seed(self, replicate: int, stream: int = 0) -> int:
        """The seed of replicate index ``replicate`` on seed stream ``stream`` (module docstring)."""
        return replicate_seed(self.seed, replicate, stream)

    def run_configs(self) -> list[tuple[str, int, RunConfig]]:
        """(arm, replicate index, RunConfig) for every run, arms in order, all validated.

        Raises:
            InputError: any run setting is invalid.
        """
        draws = self.draws or [None] * self.populations
        configs = []
        for arm in self.arms:
            for population, draw in enumerate(draws):
                for r in range(self.replicates):
                    index = population * self.replicates + r
                    values = merge(
                        self.run,
                        {
                            "seed": self.replicate_seed(index, arm.seed_stream),
                            "feed": {"name": arm.feed, "params": arm.params},
                            "population": None if draw is None else draw.model_dump(),
                        },
                    )
                    configs.append((arm.name, index, build(values)))
        return configs

    def total_turns(self) -> int:
        """Turns to simulate over every run (a progress bar's total).

        Raises:
            InputError: as :meth:`run_configs`.
        """
        return sum(run.turns for _, _, run in self.run_configs())


@dataclass(frozen=True)
class Comparison:
    """What a finished comparison produced."""

    comparison_id: str
    run_ids: dict[tuple[str, int], str]  # (arm, replicate) -> run id
    failures: dict[tuple[str, int], str]  # (arm, replicate) -> error


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a comparison; ``message`` says what happened, in one line."""

    def __init__(self, comparison_id: str, interrupted: int, not_started: int) -> None:
        self.comparison_id = comparison_id
        self.message = (
            f"interrupted: comparison {comparison_id}: {interrupted} runs marked failed, "
            f"{not_started} not started; finish it with `simlab compare --resume {comparison_id}`"
        )
        super().__init__(self.message)


def _run_cell(action: str, url: str, run_id: str, payload: Any, progress) -> None:
    """Worker task: start run ``run_id`` (payload: config JSON, membership) or resume it."""
    from simlab import engine as simulation

    engine = make_engine(url)
    try:
        if action == "resume":
            simulation.resume(run_id, engine, progress=progress)
        else:
            config_json, membership = payload
            config = RunConfig.model_validate_json(config_json)
            simulation.run(config, engine, progress=progress, run_id=run_id, membership=membership)
    finally:
        engine.dispose()


def _execute(comparison_id, cells, labels, jobs, on_progress, executor) -> dict:
    """Run ``cells`` on ``executor``; failures by key. Cancels cleanly (module docstring)."""

    def on_event(key, kind, payload) -> None:
        if kind == "progress" and on_progress is not None:
            on_progress(labels[key], *payload)

    running = (executor or ExecutorChoice()).start(min(jobs, max(1, len(cells))), _run_cell)
    try:
        errors = executors.execute(running, cells, on_event)
    except executors.Cancelled as stop:
        raise Interrupted(comparison_id, len(stop.interrupted), stop.not_started) from stop
    return {key: attempts[-1] for key, attempts in errors.items()}


def with_draws(config, engine):
    """``config`` (a comparison or a sweep) with its population draws planned, if not yet."""
    from simlab.population import draws

    if config.draws is not None:
        return config
    with engine.connect() as connection:
        plan = draws.plan(connection, config.populations, config.seed)
    return config.model_copy(update={"draws": plan})


def _prepare(config: CompareConfig, db: str | None):
    """Validate every run and the population before anything is written; the engine's URL."""
    from simlab import engine as simulation

    engine = make_engine(db, must_exist=True)
    config = with_draws(config, engine)
    runs = config.run_configs()
    simulation.population_for(runs[0][2], engine)  # refuse a bad --agents before writing
    return config, runs, engine


def compare(
    config: CompareConfig,
    db: str | None = None,
    jobs: int | None = None,
    on_progress: ProgressEvent | None = None,
    executor: ExecutorChoice | None = None,
) -> Comparison:
    """Run every arm x population x replicate of ``config``; return the comparison's run ids.

    Every run config is validated, and the population checked, before anything is
    written. At most ``jobs`` worker processes run at once (default: CPU count). A
    failed run is recorded as failed and reported in ``Comparison.failures``; the
    other runs still complete. ``executor`` says where runs execute (default: local
    worker processes; :mod:`simlab.executors`).

    Raises:
        Interrupted: Ctrl-C or SIGTERM (in-flight runs marked failed, queued ones never
            started); an exception from ``on_progress`` propagates the same way.
    """
    config, runs, engine = _prepare(config, db)
    jobs = max(1, int(jobs or os.cpu_count() or 1))  # a notebook form's number may be a float
    comparison_id = new_id()
    _record(engine, comparison_id, config)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    run_ids = {(arm, rep): new_id() for arm, rep, _ in runs}
    cells = {
        (arm, rep): ("run", url, run_ids[(arm, rep)],
                     (run.model_dump_json(), Membership(comparison_id, arm, rep)))
        for arm, rep, run in runs
    }  # fmt: skip
    labels = {key: f"{key[0]} #{key[1]}" for key in cells}
    failures = _execute(comparison_id, cells, labels, jobs, on_progress, executor)
    columnar_pack.pack_after(url, run_ids.values())
    return Comparison(comparison_id, run_ids, failures)


def resume_comparison(
    comparison_id: str,
    db: str | None = None,
    jobs: int | None = None,
    on_progress: ProgressEvent | None = None,
    executor: ExecutorChoice | None = None,
) -> Comparison:
    """Finish a comparison: resume its failed or stale runs and start its missing ones.

    The finished comparison has the same rows as an uninterrupted one (ids and
    wall-clock timestamps aside): resumed runs continue from their last complete
    turn (:func:`simlab.engine.resume`), missing ones start from their stored config.

    Raises:
        InputError: no such comparison, or one of its runs is still being written.
        Interrupted: as :func:`compare`.
    """
    from sqlalchemy import text

    from simlab import lifecycle

    engine = make_engine(db, must_exist=True)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT config_json FROM comparisons WHERE comparison_id = :c"),
            {"c": comparison_id},
        ).scalar()
        if stored is None:
            raise InputError(f"--resume: no comparison {comparison_id!r} in the database")
        existing = {
            (row.arm, int(row.replicate)): row.run_id
            for row in connection.execute(
                text("SELECT arm, replicate, run_id FROM comparison_runs WHERE comparison_id = :c"),
                {"c": comparison_id},
            )
        }
        states = lifecycle.run_states(connection)
    config, runs, engine = _prepare(CompareConfig.model_validate_json(stored), db)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    live = [run_id for run_id in existing.values() if states.get(run_id) == "running"]
    if live:
        raise InputError(f"--resume: run {live[0]} of comparison {comparison_id} is still running")
    run_ids, cells = dict(existing), {}
    for arm, rep, run in runs:
        key = (arm, rep)
        if key not in existing:
            run_ids[key] = new_id()
            payload = (run.model_dump_json(), Membership(comparison_id, arm, rep))
            cells[key] = ("run", url, run_ids[key], payload)
        elif states.get(existing[key]) != "completed":
            cells[key] = ("resume", url, existing[key], None)
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    labels = {key: f"{key[0]} #{key[1]}" for key in cells}
    failures = _execute(comparison_id, cells, labels, jobs, on_progress, executor) if cells else {}
    columnar_pack.pack_after(url, run_ids.values())
    return Comparison(comparison_id, run_ids, failures)


def _record(engine, comparison_id: str, config: CompareConfig) -> None:
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO comparisons (comparison_id, config_json, created_at) VALUES (:c, :j, :t)"
            ),
            {"c": comparison_id, "j": config.model_dump_json(), "t": utc_now()},
        )


def parse_feed_params(pairs: list[str]) -> dict[str, dict[str, str]]:
    """``["popularity.half_life_hours=3"]`` -> ``{"popularity": {"half_life_hours": "3"}}``.

    Raises:
        InputError: an item is not FEED.KEY=VALUE.
    """
    params: dict[str, dict[str, str]] = {}
    for pair in pairs:
        target, sep, value = pair.partition("=")
        feed, dot, key = target.partition(".")
        if not sep or not dot or not feed or not key:
            raise InputError(f"--feed-param: expected FEED.KEY=VALUE, got {pair!r}")
        params.setdefault(feed.strip(), {})[key.strip()] = value.strip()
    return params


def parse_arm(spec: str) -> dict[str, Any]:
    """``"fast=popularity:half_life_hours=3,like_weight=2"`` -> an :class:`Arm`'s fields.

    ``seed_stream=N`` among the pairs is the arm's seed stream, not a feed parameter.

    Raises:
        InputError: not NAME=FEED[:K=V,...].
    """
    name, sep, rest = spec.partition("=")
    feed, _, pairs = rest.partition(":")
    if not sep or not name.strip() or not feed.strip():
        raise InputError(f"--arm: expected NAME=FEED[:K=V,...], got {spec!r}")
    params: dict[str, Any] = {}
    for pair in filter(None, (p.strip() for p in pairs.split(","))):
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise InputError(f"--arm: expected K=V after {feed.strip()}:, got {pair!r}")
        params[key.strip()] = value.strip()
    stream = params.pop("seed_stream", 0)
    try:
        stream = int(stream)
    except ValueError:
        raise InputError(f"--arm: seed_stream must be an integer, got {stream!r}") from None
    return {"name": name.strip(), "feed": feed.strip(), "params": params, "seed_stream": stream}


def describe(config: CompareConfig) -> str:
    """One line saying what the comparison runs."""
    run = build(config.run)
    agents = "all" if run.agents is None else run.agents
    arms = ", ".join(
        arm.name if arm.name == arm.feed and not arm.params and not arm.seed_stream
        else f"{arm.name}={arm.feed}{json.dumps(arm.params) if arm.params else ''}"
        + (f" stream {arm.seed_stream}" if arm.seed_stream else "")
        for arm in config.arms
    )  # fmt: skip
    populations = f" x {config.populations} populations" if config.populations > 1 else ""
    return (
        f"{len(config.arms)} arms ({arms}){populations} x {config.replicates} replicates, "
        f"{run.turns} turns, {agents} agents, seed {config.seed}"
    )
