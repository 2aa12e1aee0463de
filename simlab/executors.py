"""Executors: where the cells of a comparison or a sweep run, and how they are driven.

An executor runs cells (one run each, ``task(*cell, progress=...)``) and yields
events ``(key, kind, payload)``:

- ``("start", None)``: the cell was handed to a worker;
- ``("progress", (done, total))``: a turn finished (the local pool reports
  every turn; Ray reports the last one when the cell ends);
- ``("done", error)``: the cell ended, ``error`` None or a one-line message.

Two executors share that interface (``run``, ``close``, ``cancel``):

``local``
    :class:`simlab.compare_workers.Workers`: spawned processes with one pipe
    each, which die with their parent.
``ray``
    :class:`simlab.ray_tasks.RayTasks`: one Ray task per cell, at most
    ``jobs`` in flight; a local Ray (``num_cpus=jobs``) or the cluster at
    ``--address``.

:func:`execute` drives an executor over a dict of cells, retries failed cells
up to ``retries`` more times, and cancels cleanly: on Ctrl-C, SIGTERM or an
exception from ``on_event`` no queued cell starts, in-flight cells are
interrupted (their runs marked ``failed``, reason ``interrupted``) and the
error propagates, Ctrl-C and SIGTERM as :class:`Cancelled`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from simlab import compare_workers
from simlab.errors import InputError

EXECUTORS = ("local", "ray")
# on_event(key, kind, payload): see the module docstring.
CellEvent = Callable[[Any, str, Any], None]


class Executor(Protocol):
    """What :func:`execute` needs from an executor."""

    def run(self, cells: dict[Any, tuple]): ...  # noqa: D102  (yields events, module docstring)

    def close(self) -> None: ...  # noqa: D102

    def cancel(self) -> list[Any]: ...  # noqa: D102


@dataclass(frozen=True)
class ExecutorChoice:
    """Which executor runs the cells: ``local`` or ``ray`` (``address``: a Ray cluster)."""

    name: str = "local"
    address: str | None = None

    def __post_init__(self) -> None:
        if self.name not in EXECUTORS:
            raise InputError(
                f"--executor: expected one of {', '.join(EXECUTORS)}, got {self.name!r}"
            )
        if self.address is not None and self.name != "ray":
            raise InputError("--address: only with --executor ray")

    def start(self, jobs: int, task: Callable[..., Any]) -> Executor:
        """An executor running ``task`` with at most ``jobs`` cells at once."""
        if self.name == "ray":
            from simlab.ray_tasks import RayTasks

            return RayTasks(jobs, task, self.address)
        return compare_workers.Workers(jobs, task)


class Cancelled(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped :func:`execute`: how many cells were interrupted, never started."""

    def __init__(self, interrupted: list[Any], not_started: int) -> None:
        self.interrupted = interrupted
        self.not_started = not_started
        super().__init__(f"{len(interrupted)} cells interrupted, {not_started} not started")


def execute(
    executor: Executor,
    cells: dict[Any, tuple],
    on_event: CellEvent | None = None,
    retries: int = 0,
) -> dict[Any, list[str]]:
    """Run every cell on ``executor``, retrying a failed one up to ``retries`` times.

    A failed cell is run again after the round it failed in (the task must make
    a second attempt continue or redo the first). The executor is closed at the end.

    Returns:
        The cells that failed every attempt: key -> the error of each attempt.

    Raises:
        Cancelled: Ctrl-C or SIGTERM (module docstring); an exception from
            ``on_event`` propagates after the same cancellation.
    """
    errors: dict[Any, list[str]] = {}
    remaining, pending = dict(cells), set(cells)
    try:
        with compare_workers.sigterm_interrupts():
            while remaining:
                failed = []
                for key, kind, payload in executor.run(remaining):
                    if kind == "done":
                        pending.discard(key)
                        if payload is not None:
                            errors.setdefault(key, []).append(payload)
                            failed.append(key)
                        else:
                            errors.pop(key, None)
                    if on_event is not None:
                        on_event(key, kind, payload)
                remaining = {k: cells[k] for k in failed if len(errors[k]) <= retries}
                pending |= set(remaining)
        executor.close()
    except BaseException as exc:
        with compare_workers.signals_ignored():
            interrupted = executor.cancel()
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, Cancelled):
            raise Cancelled(interrupted, len(pending) - len(interrupted)) from exc
        raise
    return errors
