"""Writing runs to the database: the run row, one transaction per turn, completion, failure.

Rows go in with the driver's ``executemany`` (tuples built column-wise by
:class:`simlab.turn_rows.RowBuilder`, no ORM) because a turn of 10,000 agents
writes tens of thousands of rows. Each turn's rows are written in a single
transaction, so a crash leaves whole turns only (:func:`insert_turn`). The
engine's writer calls it in a child process (:mod:`simlab.writer_process`)
or, where no child can be forked, :class:`~simlab.turn_writer.TurnWriter`
calls :meth:`Recorder.write_turn` on a thread.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from simlab import __version__, columnar, lifecycle
from simlab.columnar_stream import ColumnarStream
from simlab.config import RunConfig
from simlab.db import checkpoint_wal
from simlab.postgres import bulk_insert
from simlab.turn_rows import COLUMNS, PreparedTurn, RowBuilder, TableRows, TurnRows
from simlab.world import Population

__all__ = [
    "Membership",
    "Recorder",
    "TurnInserts",
    "insert_rows",
    "insert_turn",
    "metrics_json",
    "utc_now",
]


def utc_now() -> str:
    """The wall clock as an ISO 8601 UTC string (microseconds, so it sorts and compares)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Membership:
    """Where a run sits in a comparison: which arm, which replicate."""

    comparison_id: str
    arm: str
    replicate: int


def metrics_json(values: dict[str, float]) -> str:
    """Metric values as strict JSON: NaN (undefined) becomes null."""
    return json.dumps({k: (None if v != v else v) for k, v in values.items()})


def _insert(connection: Connection, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        return bulk_insert(connection, table, columns, rows)
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([marker] * len(columns))})"
    )
    connection.exec_driver_sql(sql, rows)


@dataclass(frozen=True)
class TurnInserts:
    """One turn's rows as plain values, as they are inserted (picklable, for the writer process).

    :mod:`simlab.writer_process` sends these to its child. ``total_actions``
    and ``metrics`` are the JSON texts of ``turn_metadata`` and ``turn_metrics``.
    """

    turn: int
    now: str
    tables: dict[str, TableRows]
    total_actions: str
    metrics: str

    @classmethod
    def of(cls, prepared: PreparedTurn) -> TurnInserts:
        """The inserts of a turn whose rows are built."""
        totals = prepared.rows.actions.counts()
        totals["total"] = len(prepared.rows.actions)
        text_metrics = metrics_json(prepared.rows.metrics)
        return cls(prepared.turn, prepared.now, prepared.tables, json.dumps(totals), text_metrics)


def insert_rows(connection: Connection, inserts: TurnInserts) -> None:
    """Insert the turn's feeds, scores, actions, posts and leanings (in the open transaction)."""
    for table, rows in inserts.tables.items():
        if rows.n:
            _insert(connection, table, COLUMNS[table], rows.tuples())


def insert_turn(
    connection: Connection, run_id: str, inserts: TurnInserts, lease_pid: int | None = None
) -> None:
    """Renew the run's lease and insert one turn's rows, metadata and metrics.

    Args:
        connection: the turn's transaction.
        run_id: the run.
        inserts: the turn's rows.
        lease_pid: the lease holder when another process writes (default: this one).
    """
    lifecycle.renew(connection, run_id, lease_pid)
    insert_rows(connection, inserts)
    _insert(
        connection,
        "turn_metadata",
        ("run_id", "turn_number", "total_actions", "created_at"),
        [(run_id, inserts.turn, inserts.total_actions, inserts.now)],
    )
    _insert(
        connection,
        "turn_metrics",
        ("run_id", "turn_number", "metrics", "created_at"),
        [(run_id, inserts.turn, inserts.metrics, inserts.now)],
    )


class Recorder:
    """Writes one run: its run row, each turn's rows (built by :attr:`rows`), its end.

    The run's ``run_models`` row records ``model_used``: compact actions it
    decided store ``model_used`` NULL (:mod:`simlab.compact_rows`). With
    ``stream_copy``, a run created here in a SQLite file also streams its
    columnar copy (:mod:`simlab.columnar_stream`): each committed turn's rows
    go to Parquet, so :meth:`complete` reads only the small tables back.
    """

    def __init__(
        self,
        engine: Engine,
        run_id: str,
        pop: Population,
        model_used: str,
        leaning: np.ndarray | None = None,
        stream_copy: bool = False,
    ) -> None:
        """Prepare to write run ``run_id`` of ``pop``.

        Args:
            engine: the database.
            run_id: the run's id.
            pop: the population the run simulates.
            model_used: the policy's ``model_used`` for actions that name none.
            leaning: the recorded leanings after the last written turn when
                resuming (None: the next turn written is turn 0).
            stream_copy: stream the columnar copy from :meth:`create_run` on.
        """
        self.engine = engine
        self.run_id = run_id
        self.pop = pop
        self.model_used = model_used
        self.rows = RowBuilder(run_id, pop, model_used, model_used, leaning)
        self.stream_copy = stream_copy
        self.stream: ColumnarStream | None = None

    def create_run(
        self, config: RunConfig, n_agents: int, membership: Membership | None = None
    ) -> None:
        """Insert the ``runs`` row (status running), the full config and comparison membership."""
        now = utc_now()
        with self.engine.begin() as connection:
            _insert(
                connection,
                "runs",
                (
                    "run_id",
                    "created_at",
                    "total_turns",
                    "total_agents",
                    "started_at",
                    "status",
                    "feed_algorithm",
                    "metric_keys",
                ),
                [
                    (
                        self.run_id,
                        now,
                        config.turns,
                        n_agents,
                        now,
                        "running",
                        config.feed.name,
                        json.dumps(config.metrics),
                    )
                ],
            )
            lifecycle.acquire(connection, self.run_id, self.pop)
            _insert(
                connection,
                "run_configs",
                ("run_id", "seed", "policy", "config_json", "simlab_version", "created_at"),
                [
                    (
                        self.run_id,
                        config.seed,
                        config.policy.name,
                        config.model_dump_json(),
                        __version__,
                        now,
                    )
                ],
            )
            _insert(
                connection, "run_models", ("run_id", "model_used"), [(self.run_id, self.model_used)]
            )
            if membership is not None:
                _insert(
                    connection,
                    "comparison_runs",
                    ("comparison_id", "run_id", "arm", "replicate", "seed"),
                    [
                        (
                            membership.comparison_id,
                            self.run_id,
                            membership.arm,
                            membership.replicate,
                            config.seed,
                        )
                    ],
                )
        path = columnar.database_path(self.engine)
        if self.stream_copy and path is not None:
            self.stream = ColumnarStream.open(path, self.run_id, self.pop.handles)

    def prepare_turn(self, rows: TurnRows) -> PreparedTurn:
        """Build one turn's rows (:class:`simlab.turn_rows.RowBuilder`), turns in order.

        :class:`simlab.turn_writer.TurnWriter` calls this in the engine's thread, so the
        writer thread only inserts.
        """
        now = utc_now()
        tables, items = self.rows.turn(rows, now)
        return PreparedTurn(rows, now, tables, items)

    def write_turn(self, turn: TurnRows | PreparedTurn) -> None:
        """Write every row of one turn in one transaction (then hand them to the stream)."""
        prepared = turn if isinstance(turn, PreparedTurn) else self.prepare_turn(turn)
        with self.engine.begin() as connection:
            insert_turn(connection, self.run_id, TurnInserts.of(prepared))
            if prepared.rows.extra is not None:
                prepared.rows.extra(connection)
        if self.stream is not None:
            self.stream.add(prepared.turn, prepared.tables, prepared.items)

    def complete(self, run_metrics: dict[str, float]) -> None:
        """Write ``run_metrics`` and mark the run completed, in one transaction; copy it."""
        if self.stream is not None:
            self.stream.end()  # its last row groups are written while this completes
        now = utc_now()
        with self.engine.begin() as connection:
            connection.execute(
                text("DELETE FROM run_metrics WHERE run_id = :r"), {"r": self.run_id}
            )
            _insert(
                connection,
                "run_metrics",
                ("run_id", "metrics", "created_at"),
                [(self.run_id, metrics_json(run_metrics), now)],
            )
            connection.execute(
                text("UPDATE runs SET status = 'completed', completed_at = :now WHERE run_id = :r"),
                {"now": now, "r": self.run_id},
            )
            lifecycle.release(connection, self.run_id)
        checkpoint_wal(self.engine)
        stream, self.stream = self.stream, None
        columnar.copy_completed_run(self.engine, self.run_id, stream)

    def fail(self, turn: int | None, error: str) -> None:
        """Mark the run failed and record why (the failed turn's rows were rolled back).

        A streamed copy's files are deleted first: a failed run is copied from
        the database when analytics first reads it.
        """
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.discard()
        with self.engine.begin() as connection:
            connection.execute(
                text("UPDATE runs SET status = 'failed', completed_at = NULL WHERE run_id = :r"),
                {"r": self.run_id},
            )
            _insert(
                connection,
                "run_failures",
                ("run_id", "turn_number", "error", "failed_at"),
                [(self.run_id, turn, error, utc_now())],
            )
            lifecycle.release(connection, self.run_id)
        checkpoint_wal(self.engine)

    def reopen(self) -> None:
        """Mark a failed or interrupted run as running again (for resume).

        Compact actions store ``model_used`` NULL only when it is the run's
        recorded ``run_models.model_used`` (none for runs begun before revision 0011).
        """
        with self.engine.begin() as connection:
            connection.execute(
                text("UPDATE runs SET status = 'running', completed_at = NULL WHERE run_id = :r"),
                {"r": self.run_id},
            )
            self.rows.run_model = connection.execute(
                text("SELECT model_used FROM run_models WHERE run_id = :r"), {"r": self.run_id}
            ).scalar()
