"""Who is writing a run: a lease with pid, host and heartbeat, and the run's population.

A writer takes the lease of its run with the run row (:func:`acquire`),
renews it in every turn's transaction (:func:`renew`) and releases it when the
run completes or fails (:func:`release`). The lease lasts
``max(LEASE_SECONDS, LEASE_TURNS x the last turn's duration)`` past the last
heartbeat, so slow turns do not look dead. A run is

- ``completed`` / ``failed``: what ``runs.status`` says;
- ``running``: status running and the lease live, i.e. not released, not
  expired, and (on this host) its process still exists;
- ``stale``: status running without a live lease (the writer was killed).

``simlab resume`` takes the lease over (:func:`take_over`) only from a stale
or failed run, with a compare-and-swap on the old heartbeat so two resumes
cannot both win, and only when the population the run would load has the
fingerprint recorded at its start (:func:`population_fingerprint`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from simlab.errors import InputError

LEASE_SECONDS = 300.0
LEASE_TURNS = 4
STATES = ("running", "stale", "completed", "failed")


class LeaseLost(RuntimeError):
    """Another process took this run's lease over; this writer must stop."""


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds")


def _owner() -> tuple[int, str]:
    return os.getpid(), socket.gethostname()


def population_fingerprint(pop) -> str:
    """SHA-256 over every array of a :class:`simlab.world.Population` (agents, posts, follows).

    Strings are hashed as their text, numbers as their dtype, shape and bytes, so
    the same population loaded twice gives the same fingerprint and any changed
    agent, trait, post or initial follow gives another.
    """
    digest = hashlib.sha256()
    for field in dataclasses.fields(pop):
        array = np.asarray(getattr(pop, field.name))
        digest.update(f"{field.name}:{array.shape}:".encode())
        if array.dtype.kind in "OUS":
            digest.update("\x1f".join(map(str, array.ravel().tolist())).encode())
        else:
            digest.update(array.dtype.str.encode() + np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def acquire(connection: Connection, run_id: str, pop) -> None:
    """Take the lease of a new run (inside the transaction that writes its run row)."""
    pid, host = _owner()
    now = _now()
    connection.execute(
        text(
            "INSERT INTO run_lifecycle (run_id, population_fingerprint, pid, host, heartbeat_at, "
            "lease_expires_at, released_at) VALUES (:r, :f, :pid, :host, :beat, :until, NULL)"
        ),
        {
            "r": run_id,
            "f": population_fingerprint(pop),
            "pid": pid,
            "host": host,
            "beat": _iso(now),
            "until": _iso(now + timedelta(seconds=LEASE_SECONDS)),
        },
    )


def renew(connection: Connection, run_id: str, pid: int | None = None) -> None:
    """Heartbeat: extend this process's lease (inside a turn's transaction).

    Args:
        connection: the turn's transaction.
        run_id: the run.
        pid: the lease holder's process id when another process (the run's
            writer process, :mod:`simlab.writer_process`) renews it; default: this one.

    Raises:
        LeaseLost: this process no longer holds the lease.
    """
    own_pid, host = _owner()
    pid = own_pid if pid is None else pid
    row = connection.execute(
        text(
            "SELECT heartbeat_at FROM run_lifecycle "
            "WHERE run_id = :r AND pid = :pid AND host = :host AND released_at IS NULL"
        ),
        {"r": run_id, "pid": pid, "host": host},
    ).first()
    if row is None:
        raise LeaseLost(f"run {run_id}: another process holds its lease now")
    now = _now()
    turn_seconds = (now - datetime.fromisoformat(row.heartbeat_at)).total_seconds()
    lease = max(LEASE_SECONDS, LEASE_TURNS * turn_seconds)
    connection.execute(
        text(
            "UPDATE run_lifecycle SET heartbeat_at = :beat, lease_expires_at = :until "
            "WHERE run_id = :r"
        ),
        {"r": run_id, "beat": _iso(now), "until": _iso(now + timedelta(seconds=lease))},
    )


def release(connection: Connection, run_id: str) -> None:
    """End the lease (inside the transaction that marks the run completed or failed)."""
    connection.execute(
        text("UPDATE run_lifecycle SET released_at = :now WHERE run_id = :r"),
        {"r": run_id, "now": _iso(_now())},
    )


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited.

    A killed writer whose parent died too stays a zombie until someone reaps
    it, and a container's init often never does; ``kill(pid, 0)`` succeeds on
    a zombie, so on Linux its ``/proc`` state decides.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc (macOS): trust kill()
    except OSError:
        return True
    return "\nState:\tZ" not in status


def lease_is_live(pid: int, host: str, lease_expires_at: str, released_at: str | None) -> bool:
    """Whether a lease row still belongs to a working writer (see module docstring)."""
    if released_at is not None or datetime.fromisoformat(lease_expires_at) < _now():
        return False
    return host != socket.gethostname() or _pid_alive(pid)


def state(status: str, lease) -> str:
    """``running``, ``stale``, ``completed`` or ``failed`` for a run's status and lease row."""
    if status != "running":
        return status
    if lease is None or lease.pid is None:
        return "stale"
    live = lease_is_live(lease.pid, lease.host, lease.lease_expires_at, lease.released_at)
    return "running" if live else "stale"


_STATE_SQL = (
    "SELECT r.run_id, r.status, l.pid, l.host, l.heartbeat_at, l.lease_expires_at, "
    "l.released_at FROM runs r LEFT JOIN run_lifecycle l ON l.run_id = r.run_id"
)


def run_states(connection: Connection) -> dict[str, str]:
    """Every run's lifecycle state (see :func:`state`), by run id."""
    return {row.run_id: state(row.status, row) for row in connection.execute(text(_STATE_SQL))}


def take_over(engine: Engine, run_id: str, pop) -> None:
    """Take the lease of a stale or failed run for ``simlab resume``.

    Raises:
        InputError: the lease is live (another process is writing the run), the
            population changed since the run started, or another resume won the race.
    """
    try:
        _take_over(engine, run_id, population_fingerprint(pop))
    except OperationalError:  # a concurrent writer committed first (SQLite busy snapshot)
        raise InputError(f"run {run_id}: another process is resuming it right now") from None


def _take_over(engine: Engine, run_id: str, fingerprint: str) -> None:
    pid, host = _owner()
    now = _now()
    with engine.begin() as connection:
        lease = connection.execute(text(f"{_STATE_SQL} WHERE r.run_id = :r"), {"r": run_id}).first()
        if lease is not None and lease.pid is not None:
            if lease_is_live(lease.pid, lease.host, lease.lease_expires_at, lease.released_at):
                raise InputError(
                    f"run {run_id} is being written by pid {lease.pid} on {lease.host} "
                    f"(last heartbeat {lease.heartbeat_at[:19]}Z); wait for it to end or stop it"
                )
            stored = connection.execute(
                text("SELECT population_fingerprint FROM run_lifecycle WHERE run_id = :r"),
                {"r": run_id},
            ).scalar()
            if stored != fingerprint:
                raise InputError(
                    f"run {run_id}: the population changed since the run started "
                    f"(fingerprint {stored[:12]} then, {fingerprint[:12]} now); "
                    "resume needs the same agents, posts and initial follows"
                )
        values = {
            "r": run_id,
            "f": fingerprint,
            "pid": pid,
            "host": host,
            "beat": _iso(now),
            "until": _iso(now + timedelta(seconds=LEASE_SECONDS)),
        }
        if lease is None or lease.pid is None:
            connection.execute(
                text(
                    "INSERT INTO run_lifecycle (run_id, population_fingerprint, pid, host, "
                    "heartbeat_at, lease_expires_at) VALUES (:r, :f, :pid, :host, :beat, :until)"
                ),
                values,
            )
            return
        swapped = connection.execute(
            text(
                "UPDATE run_lifecycle SET pid = :pid, host = :host, heartbeat_at = :beat, "
                "lease_expires_at = :until, released_at = NULL "
                "WHERE run_id = :r AND pid = :old_pid AND heartbeat_at = :old_beat"
            ),
            {**values, "old_pid": lease.pid, "old_beat": lease.heartbeat_at},
        ).rowcount
        if swapped != 1:
            raise InputError(f"run {run_id}: another process is resuming it right now")
