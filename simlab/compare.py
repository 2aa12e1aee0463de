"""Feed comparisons: the same population and seeds under several feed algorithms.

A comparison has arms (feed algorithms) and replicates. Replicate ``r`` of
every arm runs with the same seed, ``SeedSequence([seed, r])``'s first word,
so arms differ only by their feed (common random numbers) and differences can
be paired by replicate. Runs execute in parallel worker processes; each run is
filed under its comparison atomically with its run row, so a notebook can
treat the comparison as a unit while it is still filling.

:func:`compare` is the one comparison runner: ``simlab compare``, ``simlab
demo`` and the new_experiment notebook all call it. Its ``on_progress``
callback runs on the calling thread (never on a worker's), so a CLI progress
bar or a marimo cell's output may be updated from it.
"""

from __future__ import annotations

import json
import os
import queue
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from simlab import engine as simulation
from simlab.config import RunConfig, build, merge
from simlab.db import make_engine
from simlab.errors import InputError
from simlab.feeds import FEEDS
from simlab.limits import MAX_SEED
from simlab.recorder import Membership, utc_now

# on_progress(label, done, total): run ``label`` (``"<arm> #<replicate>"``) finished
# turn ``done`` of ``total``.
ProgressEvent = Callable[[str, int, int], None]


class CompareConfig(BaseModel):
    """A comparison: arms x replicates over one population, plus the shared run settings."""

    model_config = ConfigDict(extra="forbid")

    feeds: list[str] = Field(
        ..., min_length=1, description="feed algorithms; the first is the baseline"
    )
    replicates: int = Field(3, ge=1, le=1000, description="runs per arm, paired across arms")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="root seed of every replicate")
    feed_params: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-feed parameters, {feed: {key: value}}"
    )
    run: dict[str, Any] = Field(
        default_factory=dict,
        description="RunConfig settings shared by every run (turns, agents, ...)",
    )

    @field_validator("feeds")
    @classmethod
    def _known_unique(cls, feeds: list[str]) -> list[str]:
        for name in feeds:
            FEEDS.get(name)
        if len(set(feeds)) != len(feeds):
            raise InputError(f"--feeds: each feed may appear once, got {','.join(feeds)}")
        return feeds

    def replicate_seed(self, replicate: int) -> int:
        """The seed every arm uses for ``replicate`` (common random numbers)."""
        return int(np.random.SeedSequence([self.seed, replicate]).generate_state(1)[0])

    def run_configs(self) -> list[tuple[str, int, RunConfig]]:
        """(arm, replicate, RunConfig) for every run, arms in order, all validated.

        Raises:
            InputError: a feed parameter names a feed not in the comparison, or any
                run setting is invalid.
        """
        stray = sorted(set(self.feed_params) - set(self.feeds))
        if stray:
            raise InputError(
                f"--feed-param: feed {stray[0]!r} is not in --feeds ({', '.join(self.feeds)})"
            )
        configs = []
        for arm in self.feeds:
            for replicate in range(self.replicates):
                values = merge(
                    self.run,
                    {
                        "seed": self.replicate_seed(replicate),
                        "feed": {"name": arm, "params": self.feed_params.get(arm, {})},
                    },
                )
                configs.append((arm, replicate, build(values)))
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


def _run_one(url: str, config_json: str, run_id: str, membership: Membership, events) -> str:
    """Worker: one run of the comparison (top-level so worker processes can import it)."""
    config = RunConfig.model_validate_json(config_json)
    engine = make_engine(url)
    try:

        def progress(done: int, total: int) -> None:
            events.put((run_id, done, total))

        return simulation.run(
            config, engine, progress=progress, run_id=run_id, membership=membership
        )
    finally:
        engine.dispose()


def _record(engine, comparison_id: str, config: CompareConfig) -> None:
    from sqlalchemy import text

    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO comparisons (comparison_id, config_json, created_at) VALUES (:c, :j, :t)"
            ),
            {"c": comparison_id, "j": config.model_dump_json(), "t": utc_now()},
        )


def _relay(events, on_progress: ProgressEvent | None, labels, timeout: float | None) -> bool:
    """Pass one progress event to ``on_progress``; False if none came (``timeout`` None: none waiting)."""
    try:
        run_id, done, total = events.get(timeout=timeout) if timeout else events.get_nowait()
    except queue.Empty:
        return False
    if on_progress is not None:
        on_progress(labels[run_id], done, total)
    return True


def _run_cells(pool, jobs: int, cells: dict, relay: Callable[[float | None], bool]) -> dict:
    """Run each cell's :func:`_run_one` on ``pool``, at most ``jobs`` at a time; failures by key.

    Progress is relayed on this thread. A new run is submitted only after every
    event of the runs that finished has been relayed, so once ``relay`` raises
    (``on_progress`` did), no run that had not started yet ever starts.
    """
    waiting, running, failures = list(cells.items()), {}, {}
    while waiting or running:
        while waiting and len(running) < jobs:
            key, args = waiting.pop(0)
            running[pool.submit(_run_one, *args)] = key
        relay(0.1)
        finished = [future for future in running if future.done()]
        while finished and relay(None):
            pass
        for future in finished:
            key, error = running.pop(future), future.exception()
            if error is not None:
                failures[key] = f"{type(error).__name__}: {error}"
    while relay(None):
        pass
    return failures


def compare(
    config: CompareConfig,
    db: str | None = None,
    jobs: int | None = None,
    on_progress: ProgressEvent | None = None,
) -> Comparison:
    """Run every arm x replicate of ``config`` and return the comparison's run ids.

    Every run config is validated, and the population checked, before anything is
    written. ``jobs`` worker processes run in parallel (default: CPU count; 1 runs
    in this process). A failed run is recorded as failed and reported in
    ``Comparison.failures``; the other runs still complete.

    ``on_progress(label, done, total)`` is called on the calling thread after every
    finished turn of every run. If it raises (a notebook's stop button, Ctrl-C), runs
    not yet started never start, and the error propagates once the runs in
    progress (at most ``jobs``) have ended.
    """
    runs = config.run_configs()
    engine = make_engine(db, must_exist=True)
    simulation.population_for(runs[0][2], engine)  # refuse a bad --agents before writing
    jobs = max(1, int(jobs or os.cpu_count() or 1))  # a notebook form's number may be a float
    comparison_id = uuid.uuid4().hex[:12]
    _record(engine, comparison_id, config)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    planned = {(arm, rep): (uuid.uuid4().hex[:12], run) for arm, rep, run in runs}
    labels = {run_id: f"{arm} #{rep}" for (arm, rep), (run_id, _) in planned.items()}
    run_ids = {key: run_id for key, (run_id, _) in planned.items()}
    with ExitStack() as stack:
        if jobs == 1:  # in this process, on a worker thread: this one relays progress
            pool = stack.enter_context(ThreadPoolExecutor(1))
            events = queue.Queue()
        else:
            context = get_context("spawn")
            manager = stack.enter_context(context.Manager())
            pool = stack.enter_context(ProcessPoolExecutor(jobs, mp_context=context))
            events = manager.Queue()
        cells = {
            key: (url, run.model_dump_json(), run_id, Membership(comparison_id, *key), events)
            for key, (run_id, run) in planned.items()
        }
        failures = _run_cells(pool, jobs, cells, partial(_relay, events, on_progress, labels))
    return Comparison(comparison_id, run_ids, failures)


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


def describe(config: CompareConfig) -> str:
    """One line saying what the comparison runs."""
    run = build(config.run)
    agents = "all" if run.agents is None else run.agents
    return (
        f"{len(config.feeds)} arms ({', '.join(config.feeds)}) x {config.replicates} replicates, "
        f"{run.turns} turns, {agents} agents, seed {config.seed}: "
        f"{json.dumps(config.feed_params) if config.feed_params else 'default feed parameters'}"
    )
