"""The writer thread: turns are written while the engine computes the next one.

:class:`TurnWriter` takes computed turns (:class:`simlab.turn_rows.TurnRows`),
has a recorder (:class:`simlab.recorder.Recorder`) build their rows in the
caller's thread (``prepare_turn``), and hands each to its ``write_turn`` (one
transaction per turn) on a worker thread. Building in the engine's thread keeps
the writer thread, the longer of the two, to the inserts (issue 13).
"""

from __future__ import annotations

import queue
import threading
from typing import Protocol

from simlab import interrupts
from simlab.turn_rows import PreparedTurn, TurnRows


class TurnSink(Protocol):
    """What the writer writes to: :class:`simlab.recorder.Recorder`."""

    def prepare_turn(self, rows: TurnRows) -> PreparedTurn:
        """Build one turn's rows."""

    def write_turn(self, turn: PreparedTurn) -> None:
        """Write one turn in one transaction."""


class TurnWriteError(Exception):
    """Writing turn ``turn`` failed; ``__cause__`` is the original error."""

    def __init__(self, turn: int) -> None:
        super().__init__(f"writing turn {turn} failed")
        self.turn = turn


class TurnWriter:
    """Writes turns on a worker thread while the engine computes the next one.

    The engine uses it where :class:`simlab.writer_process.ProcessTurnWriter`
    cannot be used (PostgreSQL, LLM policies, processes with other threads).

    SQLite does its work with the GIL released, so on two cores the database
    and numpy overlap. Turns are written in order, one transaction each; at most
    one computed turn waits in the queue. After a failed write nothing later is
    written, and the failure surfaces at the next :meth:`put` or at :meth:`close`.
    """

    def __init__(self, recorder: TurnSink, progress=None, total_turns: int = 0) -> None:
        self.recorder = recorder
        self.progress = progress
        self.total_turns = total_turns
        self.last_written = -1
        self._queue: queue.Queue[PreparedTurn | None] = queue.Queue(maxsize=1)
        self._failure: tuple[int, BaseException] | None = None
        self._thread = threading.Thread(target=self._work, name="simlab-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while (rows := self._queue.get()) is not None:
            if self._failure is not None:
                continue  # drain: never write past a failed turn
            try:
                self.recorder.write_turn(rows)
            except BaseException as exc:  # noqa: BLE001  (re-raised in the engine's thread)
                self._failure = (rows.turn, exc)
                continue
            self.last_written = rows.turn
            if self.progress is not None:
                self.progress(rows.turn + 1, self.total_turns)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            turn, exc = self._failure
            raise TurnWriteError(turn) from exc

    def put(self, rows: TurnRows) -> None:
        """Build a computed turn's rows and queue them (blocks while the previous turn waits)."""
        self._raise_failure()
        prepared = self.recorder.prepare_turn(rows)
        with interrupts.deferred():  # a Ctrl-C inside put could leave the queue's lock taken
            self._queue.put(prepared)

    def close(self) -> None:
        """Wait until every queued turn is written; raise if one failed."""
        with interrupts.deferred():
            self._queue.put(None)
        self._thread.join()
        self._raise_failure()

    def abort(self) -> None:
        """Drop turns not yet started, let the one being written finish, and stop."""
        with interrupts.deferred():
            try:
                while True:
                    self._queue.get_nowait()
            except queue.Empty:
                pass
            self._queue.put(None)
        self._thread.join()
