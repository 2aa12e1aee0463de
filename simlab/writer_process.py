"""The writer process: a run's turns inserted by a child process while the engine computes.

:class:`simlab.turn_writer.TurnWriter` inserts on a thread of the engine's
process, and the two threads share one interpreter lock: their Python work
(the engine's ranking and row building, the driver binding each row's
parameters) is serialised, so the run costs about the sum of the two
threads' CPU time rather than the larger. Measured at 10,000 agents x 100
turns on two cores: 28.5 s with the thread, 19.3 s with this process, for
the same rows. :class:`ProcessTurnWriter` has the thread writer's interface
and guarantees:

- turns are written in order, one transaction each, by a child forked from
  the engine's process that opens its own connection to the SQLite file and
  renews the parent's lease (:func:`simlab.lifecycle.renew`);
- at most two turns are in flight (one being written, one waiting), so the
  engine is never more than a turn ahead;
- a failed write surfaces at the next :meth:`~ProcessTurnWriter.put` or at
  :meth:`~ProcessTurnWriter.close` as :class:`~simlab.turn_writer.TurnWriteError`
  with the child's exception as its cause, and nothing later is written;
- the child ignores SIGINT and SIGTERM (the engine decides when writing
  stops: a cancel lets the turn being written finish) and, on Linux, is
  killed with its parent (``PR_SET_PDEATHSIG``), so a killed engine leaves
  no orphan; the transaction it had open is rolled back, whole turns stay.

:func:`usable` says when the engine uses it: a SQLite file, a policy that
writes no rows of its own, Linux (``fork`` is the only start method that
does not re-import the engine, and it is unsafe on macOS), and no thread in
the process besides the engine's and the columnar stream's (forking a
process with other threads, a notebook kernel's say, can deadlock the
child). Otherwise the thread writer writes.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import sys
import threading
from multiprocessing.connection import Connection

from simlab import columnar, interrupts, orphans
from simlab.columnar_stream import THREAD_NAME as STREAM_THREAD
from simlab.recorder import Recorder, TurnInserts, insert_turn
from simlab.turn_rows import TurnRows
from simlab.turn_writer import TurnWriteError

IN_FLIGHT = 2  # turns sent and not yet acknowledged: one being written, one waiting


def usable(recorder: Recorder, writes_own_rows: bool) -> bool:
    """Whether this run's turns can be written by a :class:`ProcessTurnWriter` (module docstring)."""
    others = [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.name != STREAM_THREAD
    ]
    return (
        sys.platform == "linux"
        and not writes_own_rows
        and threading.current_thread() is threading.main_thread()
        and not others
        and not multiprocessing.current_process().daemon  # daemons may not have children
        and columnar.database_path(recorder.engine) is not None
    )


class ProcessTurnWriter:
    """Writes turns in a child process while the engine computes the next one.

    Args:
        recorder: the run's recorder (its rows are built here; its stream, if
            any, is fed here).
        progress: called with (turns written, total turns) as turns commit.
        total_turns: the run's turns, for ``progress``.
    """

    def __init__(self, recorder: Recorder, progress=None, total_turns: int = 0) -> None:
        self.recorder = recorder
        self.progress = progress
        self.total_turns = total_turns
        self.last_written = -1
        self._failure: tuple[int, BaseException] | None = None
        self._in_flight = 0
        url = recorder.engine.url.render_as_string(hide_password=False)
        context = multiprocessing.get_context("fork")
        self._pipe, child_end = context.Pipe()
        self._process = context.Process(
            target=_serve,
            args=(child_end, self._pipe, url, recorder.run_id, os.getpid()),
            name="simlab-writer",
            daemon=True,
        )
        self._process.start()
        child_end.close()

    def put(self, rows: TurnRows) -> None:
        """Build a computed turn's rows and send them (blocks while two turns are in flight).

        Ctrl-C and SIGTERM are deferred from the first acknowledgement read
        to the stream's queue: an interrupt inside a pipe message or inside
        the stream's queue lock would leave either side waiting for ever.
        """
        self._raise_failure()
        prepared = self.recorder.prepare_turn(rows)
        inserts = TurnInserts.of(prepared)
        with interrupts.deferred():
            self._wait(IN_FLIGHT - 1)
            if self._failure is None:
                self._send(inserts)
                if self.recorder.stream is not None:
                    self.recorder.stream.add(prepared.turn, prepared.tables, prepared.items)
        self._raise_failure()

    def close(self) -> None:
        """Wait until every sent turn is written and the child has exited; raise if one failed."""
        self._stop()
        self._raise_failure()

    def abort(self) -> None:
        """Let the turns already sent finish, and stop the child (raises nothing)."""
        self._stop()

    def _send(self, inserts: TurnInserts) -> None:
        """Send one turn (signals held by the caller)."""
        try:
            self._pipe.send(inserts)
        except OSError:  # the child is gone: its exit code says why
            self._lost(inserts.turn)
            return
        self._in_flight += 1

    def _wait(self, limit: int) -> None:
        """Read acknowledgements until at most ``limit`` turns are in flight (signals held)."""
        while self._in_flight > limit:
            try:
                reply = self._pipe.recv()
            except (EOFError, OSError):
                self._lost(self.last_written + 1)
                return
            self._in_flight -= 1
            self._note(reply)

    def _note(self, reply: tuple) -> None:
        """Record one acknowledgement: a turn written, failed (first failure kept) or skipped."""
        if reply[0] == "written":
            self.last_written = reply[1]
            if self.progress is not None:
                self.progress(reply[1] + 1, self.total_turns)
        elif reply[0] == "failed" and self._failure is None:
            self._failure = (reply[1], pickle.loads(reply[2]))

    def _lost(self, turn: int) -> None:
        """The child died: fail the turn it was writing (unless a failure is recorded)."""
        self._in_flight = 0
        self._process.join(timeout=10)
        if self._failure is None:
            code = self._process.exitcode
            self._failure = (turn, RuntimeError(f"the writer process exited (code {code})"))

    def _stop(self) -> None:
        """Send the stop signal and read every reply until the child exits (closing its end)."""
        with interrupts.deferred():
            try:
                self._pipe.send(None)
                while True:
                    self._note(self._pipe.recv())
            except (EOFError, OSError):
                pass  # every reply read: the child is gone
            self._in_flight = 0
        self._process.join()
        self._pipe.close()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            turn, exc = self._failure
            raise TurnWriteError(turn) from exc


def _serve(pipe: Connection, parent_end: Connection, url: str, run_id: str, lease_pid: int) -> None:
    """The child: insert each turn received in its own transaction, acknowledge it, repeat.

    Replies ``("written", turn)`` or ``("failed", turn, pickled exception)``;
    after a failure, turns are received and not written (``("skipped", turn)``).
    At the stop signal (None), or when the parent is gone, it exits.
    """
    parent_end.close()
    _die_with(lease_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from simlab.db import make_engine  # the parent's engine and connections stay unused

    engine = make_engine(url)
    failed = False
    try:
        while (inserts := pipe.recv()) is not None:
            if failed:
                pipe.send(("skipped", inserts.turn))
                continue
            try:
                with engine.begin() as connection:
                    insert_turn(connection, run_id, inserts, lease_pid)
            except BaseException as exc:  # noqa: BLE001  (re-raised in the engine's process)
                failed = True
                pipe.send(("failed", inserts.turn, _pickled(exc)))
                continue
            pipe.send(("written", inserts.turn))
    except (EOFError, OSError):
        pass  # the parent is gone: nothing more to write
    finally:
        engine.dispose()


def _pickled(exc: BaseException) -> bytes:
    """The exception pickled, or a RuntimeError with its text where it does not pickle."""
    try:
        return pickle.dumps(exc)
    except Exception:  # noqa: BLE001  (some driver errors hold unpicklable state)
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _die_with(parent_pid: int) -> None:
    """Ask Linux to kill this process when its parent dies; exit now if it already has."""
    orphans.signal_at_parent_death(signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os._exit(0)
