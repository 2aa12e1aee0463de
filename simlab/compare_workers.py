"""Worker processes for comparisons and sweeps: one pipe each, cancellable, never orphaned.

This is the ``local`` executor of :mod:`simlab.executors`.

A comparison runs its cells (one run each) on at most ``jobs`` spawned worker
processes. Each worker holds one duplex pipe to the parent: the parent sends it
one cell at a time, only when it is idle, so a queued cell never leaves the
parent; the worker sends back ``("progress", done, total)`` after each turn
and ``("done", error)`` at the end of the cell.

Cancellation:

- The parent dies (even ``kill -9``): on Linux the kernel sends the worker
  SIGTERM (``PR_SET_PDEATHSIG``); everywhere a watchdog thread notices that
  the parent pid changed within :data:`WATCH_SECONDS` and sends it SIGTERM,
  and if the worker has not exited :data:`GRACE_SECONDS` later it exits hard.
  An idle worker also ends when its pipe closes (``EOFError``).
- SIGTERM in a worker raises :class:`KeyboardInterrupt` in its main thread, so
  the engine marks the run ``failed`` with reason ``interrupted`` and releases
  its lease. Workers ignore SIGINT: a terminal's Ctrl-C reaches the whole
  process group, and the parent decides (:meth:`Workers.cancel`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from typing import Any

from simlab import orphans

WATCH_SECONDS = 0.25
GRACE_SECONDS = 3.0
STOP_SECONDS = 60.0


def _interrupt(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second signal must not break the cleanup
    raise KeyboardInterrupt(f"signal {signum}")


def _die_with_parent(parent_pid: int) -> None:
    """SIGTERM this process when the parent dies; exit hard if that does not end it."""
    orphans.signal_at_parent_death(signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(WATCH_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(GRACE_SECONDS)
        os._exit(130)

    if os.getppid() != parent_pid:  # died before we got here
        os._exit(130)
    threading.Thread(target=watch, name="simlab-parent-watch", daemon=True).start()


def _work(connection: Connection, parent_pid: int, task: Callable[..., Any]) -> None:
    """A worker's loop: receive a cell, run ``task(*cell, progress)``, report; until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _interrupt)
    _die_with_parent(parent_pid)
    lock = threading.Lock()

    def send(message: tuple) -> None:
        with lock:
            connection.send(message)

    try:
        while (cell := connection.recv()) is not None:
            try:
                task(*cell, progress=lambda done, total: send(("progress", done, total)))
            except Exception as exc:  # noqa: BLE001  (reported to the parent, which records it)
                send(("done", f"{type(exc).__name__}: {exc}"))
            else:
                send(("done", None))
    except (KeyboardInterrupt, EOFError, BrokenPipeError):
        pass  # interrupted (the engine has marked the run failed) or the parent is gone


@dataclass
class _Worker:
    process: Any
    connection: Connection
    key: Any = None  # the cell it is running; None = idle


class Workers:
    """At most ``jobs`` worker processes running ``task`` on cells the parent hands out."""

    def __init__(self, jobs: int, task: Callable[..., Any]) -> None:
        self.jobs = jobs
        self.task = task
        self.context = get_context("spawn")
        self.workers: list[_Worker] = []

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe(duplex=True)
        process = self.context.Process(
            target=_work, args=(child, os.getpid(), self.task), name="simlab-compare", daemon=True
        )
        process.start()
        child.close()
        worker = _Worker(process, parent)
        self.workers.append(worker)
        return worker

    def run(self, cells: dict[Any, tuple]) -> Iterator[tuple[Any, str, Any]]:
        """Run every cell, yielding the events of :mod:`simlab.executors`.

        Events: ``(key, "start", None)``, ``(key, "progress", (done, total))`` and
        ``(key, "done", error)``.

        A new cell is handed out only after the events before it were consumed, so
        when the consumer raises (or is interrupted) no further cell starts; call
        :meth:`cancel` then.
        """
        waiting = list(cells.items())
        while waiting or any(w.key is not None for w in self.workers):
            for worker in self.workers:
                if worker.key is None and waiting:
                    worker.key, cell = waiting.pop(0)
                    worker.connection.send(cell)
                    yield worker.key, "start", None
            while waiting and len(self.workers) < self.jobs:
                worker = self._start()
                worker.key, cell = waiting.pop(0)
                worker.connection.send(cell)
                yield worker.key, "start", None
            busy = {w.connection: w for w in self.workers if w.key is not None}
            for connection in wait(list(busy), timeout=0.5):
                worker = busy[connection]
                try:
                    kind, *payload = connection.recv()
                except (EOFError, OSError):
                    code = worker.process.exitcode
                    key, worker.key = worker.key, None
                    self._forget(worker)
                    yield key, "done", f"worker process exited (code {code})"
                    continue
                if kind == "progress":
                    yield worker.key, "progress", tuple(payload)
                else:
                    key, worker.key = worker.key, None
                    yield key, "done", payload[0]

    def _forget(self, worker: _Worker) -> None:
        worker.connection.close()
        worker.process.join(GRACE_SECONDS)
        self.workers.remove(worker)

    def close(self) -> None:
        """Tell idle workers to stop and wait for them."""
        for worker in self.workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        for worker in list(self.workers):
            self._forget(worker)

    def cancel(self) -> list[Any]:
        """Interrupt busy workers (SIGTERM), stop idle ones, wait; return the interrupted keys.

        Interrupted runs are marked failed (reason ``interrupted``) by the workers
        themselves; a worker still alive after :data:`STOP_SECONDS` is killed.
        """
        interrupted = [w.key for w in self.workers if w.key is not None]
        for worker in self.workers:
            if worker.key is not None and worker.process.is_alive():
                os.kill(worker.process.pid, signal.SIGTERM)
            else:
                with contextlib.suppress(OSError):
                    worker.connection.send(None)
        deadline = time.monotonic() + STOP_SECONDS
        alive = {w.connection: w for w in self.workers}
        while alive and time.monotonic() < deadline:  # drain pipes so no worker blocks on send
            for connection in wait(list(alive), timeout=0.2):
                try:
                    connection.recv()
                except (EOFError, OSError):  # closed; reset if it died before reading its cell
                    alive.pop(connection)
        for worker in list(self.workers):
            if worker.process.is_alive():
                worker.process.kill()
            self._forget(worker)
        return interrupted


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """While inside, SIGTERM raises KeyboardInterrupt like Ctrl-C (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM while cancelling, so a second Ctrl-C cannot break the cleanup."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = [signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)]
    try:
        yield
    finally:
        for sig, handler in zip((signal.SIGINT, signal.SIGTERM), previous, strict=True):
            signal.signal(sig, handler)
