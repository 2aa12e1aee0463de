"""The ``ray`` executor (:mod:`simlab.executors`): one Ray task per cell, at most ``jobs`` in flight.

Without an address a private local Ray starts (``ray.init(num_cpus=jobs)``,
no dashboard) and stops at :meth:`RayTasks.close`; with ``address`` (``auto``,
``ray://host:10001``, ``host:6379``) the cells run on that cluster, whose
workers must import simlab and reach the database (PostgreSQL, or SQLite
shards on a shared file system).

Like the local pool, a cell is submitted only when a slot is free, so a queued
cell never leaves the parent. A task reports its last ``(done, total)`` progress
when it ends (Ray tasks do not stream). :meth:`RayTasks.cancel` calls
``ray.cancel`` (``force=False``), which raises ``KeyboardInterrupt`` in the
task: the engine marks the run ``failed`` (reason ``interrupted``), as a
SIGTERM does in a local worker. Ray does not retry a task itself
(``max_retries=0``): :func:`simlab.executors.execute` decides retries.

A local Ray started under ``uv run`` would start every worker through
``uv run`` too (Ray's uv integration packages the working directory: tens of
seconds per worker on two busy cores); it is switched off for the private Ray
(``RAY_ENABLE_UV_RUN_RUNTIME_ENV=0``), whose workers use this interpreter.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

WAIT_SECONDS = 0.5
STOP_SECONDS = 60.0


def _cell(task: Callable[..., Any], cell: tuple) -> tuple[str | None, tuple[int, int] | None]:
    """On a Ray worker: run ``task(*cell)``; the error (or None) and the last progress."""
    last: list[tuple[int, int] | None] = [None]

    def progress(done: int, total: int) -> None:
        last[0] = (done, total)

    try:
        task(*cell, progress=progress)
    except Exception as exc:  # noqa: BLE001  (reported to the parent, which records it)
        return f"{type(exc).__name__}: {exc}", last[0]
    return None, last[0]


class RayTasks:
    """At most ``jobs`` Ray tasks running ``task`` on cells the parent hands out."""

    def __init__(self, jobs: int, task: Callable[..., Any], address: str | None = None) -> None:
        if address is None:
            os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        import ray

        self.ray = ray
        self.jobs = jobs
        self.task = task
        self.started = not ray.is_initialized()
        if self.started and address is None:
            ray.init(
                num_cpus=jobs, include_dashboard=False, log_to_driver=False, configure_logging=False
            )
        elif self.started:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        self.remote = ray.remote(num_cpus=1, max_retries=0)(_cell)
        self.in_flight: dict[Any, Any] = {}  # ObjectRef -> cell key

    def run(self, cells: dict[Any, tuple]) -> Iterator[tuple[Any, str, Any]]:
        """Run every cell, yielding the events of :mod:`simlab.executors`."""
        waiting = list(cells.items())
        while waiting or self.in_flight:
            while waiting and len(self.in_flight) < self.jobs:
                key, cell = waiting.pop(0)
                self.in_flight[self.remote.remote(self.task, cell)] = key
                yield key, "start", None
            ready, _ = self.ray.wait(list(self.in_flight), num_returns=1, timeout=WAIT_SECONDS)
            for ref in ready:
                key = self.in_flight.pop(ref)
                try:
                    error, last = self.ray.get(ref)
                except self.ray.exceptions.RayError as exc:
                    error, last = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0]}", None
                if last is not None:
                    yield key, "progress", last
                yield key, "done", error

    def close(self) -> None:
        """Stop the private local Ray (a cluster given by address stays up)."""
        if self.started and self.ray.is_initialized():
            self.ray.shutdown()

    def cancel(self) -> list[Any]:
        """Interrupt the tasks in flight, wait for them to end, close; return their keys."""
        interrupted = list(self.in_flight.values())
        refs = list(self.in_flight)
        for ref in refs:
            self.ray.cancel(ref)
        if refs:
            self.ray.wait(refs, num_returns=len(refs), timeout=STOP_SECONDS)
        self.in_flight.clear()
        self.close()
        return interrupted
