"""Writing runs to the database: the run row, one transaction per turn, completion, failure.

Rows go in with the driver's ``executemany`` (tuples, no ORM) because a turn of
10,000 agents writes tens of thousands of rows. Each turn's rows are written in
a single transaction, so a crash leaves whole turns only.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from simlab import __version__, columnar, lifecycle
from simlab.config import RunConfig
from simlab.db import checkpoint_wal
from simlab.policies.base import ACTION_KINDS, Actions
from simlab.population.topics import TOPIC_NAMES
from simlab.postgres import bulk_insert
from simlab.posting import NewPosts
from simlab.world import Population


def utc_now() -> str:
    """The wall clock as an ISO 8601 UTC string (microseconds, so it sorts and compares)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Membership:
    """Where a run sits in a comparison: which arm, which replicate."""

    comparison_id: str
    arm: str
    replicate: int


@dataclass(frozen=True)
class TurnRows:
    """Everything one turn writes: feeds, the policy's actions, leanings, metrics, posts.

    :meth:`simlab.engine.Simulation.step` returns it and :meth:`Recorder.write_turn`
    writes it; ``actions`` is the policy's :class:`~simlab.policies.base.Actions`,
    ``pop`` the world the turn ran in (its post indices are what ``feeds`` and
    ``actions`` hold), ``posts`` the posts written this turn and ``post_ids`` their ids.
    """

    turn: int
    agents: np.ndarray  # (n,) active agent indices
    feeds: np.ndarray  # (n, k) post indices, -1 padding
    scores: np.ndarray  # (n, k)
    actions: Actions  # the policy's record, unchanged
    leaning: np.ndarray  # (n_agents,) leanings after the turn
    metrics: dict[str, float]
    pop: Population
    posts: NewPosts
    post_ids: list[str]
    posted_at: float  # POSIX seconds the posts were created (simulated time)
    extra: Callable[[Connection], None] | None = None  # the policy's own rows (LLM calls, stances)


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


class Recorder:
    """Writes one run. Holds the pre-quoted JSON of post ids to make feed rows cheap.

    The quoted ids grow with the world: each turn's ``rows.pop`` may hold agent
    posts written since the last turn.
    """

    def __init__(
        self,
        engine: Engine,
        run_id: str,
        pop: Population,
        model_used: str,
        leaning: np.ndarray | None = None,
    ) -> None:
        """Prepare to write run ``run_id`` of ``pop``.

        Args:
            engine: the database.
            run_id: the run's id.
            pop: the population the run simulates.
            model_used: the policy's ``model_used`` for actions that name none.
            leaning: the recorded leanings after the last written turn when
                resuming (None: the next turn written is turn 0).
        """
        self.engine = engine
        self.run_id = run_id
        self.pop = pop
        self.model_used = model_used
        self._quoted_posts = [json.dumps(p) for p in pop.post_ids.tolist()]
        self._leaning = None if leaning is None else leaning.copy()
        self._score_templates: dict[int, str] = {}

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

    def write_turn(self, rows: TurnRows) -> None:
        """Write every row of one turn in one transaction."""
        now = utc_now()
        with self.engine.begin() as connection:
            lifecycle.renew(connection, self.run_id)
            self._write_feeds(connection, rows, now)
            self._write_actions(connection, rows, now)
            self._write_posts(connection, rows, now)
            self._write_leanings(connection, rows)
            totals = rows.actions.counts()
            totals["total"] = len(rows.actions)
            _insert(
                connection,
                "turn_metadata",
                ("run_id", "turn_number", "total_actions", "created_at"),
                [(self.run_id, rows.turn, json.dumps(totals), now)],
            )
            _insert(
                connection,
                "turn_metrics",
                ("run_id", "turn_number", "metrics", "created_at"),
                [(self.run_id, rows.turn, metrics_json(rows.metrics), now)],
            )
            if rows.extra is not None:
                rows.extra(connection)

    def _write_leanings(self, connection: Connection, rows: TurnRows) -> None:
        """Every agent's leaning at the first turn written, then only the ones that changed."""
        leaning = rows.leaning
        changed = (
            np.arange(len(leaning))
            if self._leaning is None
            else np.flatnonzero(leaning != self._leaning)
        )
        _insert(
            connection,
            "agent_leaning_changes",
            ("run_id", "agent_handle", "turn_number", "leaning"),
            [
                (self.run_id, h, rows.turn, x)
                for h, x in zip(
                    self.pop.handles[changed].tolist(), leaning[changed].tolist(), strict=True
                )
            ],
        )
        self._leaning = leaning.copy()

    def _scores_json(self, scores: list[float]) -> str:
        """A feed's scores as a JSON array, each to 6 significant digits (``%.6g``)."""
        n = len(scores)
        template = self._score_templates.get(n)
        if template is None:
            template = self._score_templates[n] = "[" + ",".join(["%.6g"] * n) + "]"
        return template % tuple(scores)

    def _write_feeds(self, connection: Connection, rows: TurnRows, now: str) -> None:
        known = len(self._quoted_posts)
        self._quoted_posts.extend(json.dumps(p) for p in rows.pop.post_ids[known:].tolist())
        quoted = np.asarray(self._quoted_posts, dtype=object)
        valid = rows.feeds >= 0
        n_served = valid.sum(axis=1)
        # feeds pad at the end; a row padded elsewhere drops its -1 entries one by one
        trailing = (np.cumsum(~valid, axis=1) == 0).sum(axis=1) == n_served
        feed_ids = quoted[np.where(valid, rows.feeds, 0)].tolist()
        feeds, scores = rows.feeds.tolist(), rows.scores.tolist()
        # a feed with an infinite or NaN score keeps json.dumps's spelling of it
        odd = (~np.isfinite(np.where(valid, rows.scores, 0.0))).any(axis=1).tolist()
        handles = self.pop.handles[rows.agents].tolist()
        feed_rows, score_rows = [], []
        for i, (agent, handle, n, prefix) in enumerate(
            zip(rows.agents.tolist(), handles, n_served.tolist(), trailing.tolist(), strict=True)
        ):
            ids = feed_ids[i][:n] if prefix else [self._quoted_posts[p] for p in feeds[i] if p >= 0]
            feed_rows.append(
                (
                    f"{self.run_id}-{rows.turn}-{agent}",
                    self.run_id,
                    rows.turn,
                    handle,
                    "[" + ",".join(ids) + "]",
                    now,
                )
            )
            kept = scores[i][:n]
            score_rows.append(
                (
                    self.run_id,
                    rows.turn,
                    handle,
                    json.dumps(kept) if odd[i] else self._scores_json(kept),
                )
            )
        _insert(
            connection,
            "generated_feeds",
            ("feed_id", "run_id", "turn_number", "agent_handle", "post_ids", "created_at"),
            feed_rows,
        )
        _insert(
            connection,
            "feed_scores",
            ("run_id", "turn_number", "agent_handle", "scores"),
            score_rows,
        )

    def _write_actions(self, connection: Connection, rows: TurnRows, now: str) -> None:
        """Likes, comments and follows; ids number each kind in the policy's order."""
        actions, by_kind = rows.actions, {}
        handles = self.pop.handles
        model_used = actions.model_used or [self.model_used] * len(actions)
        for kind in ACTION_KINDS:
            at = actions.of(kind)
            names = self.pop.accounts if kind == "follow" else rows.pop.post_ids
            agents, targets = (
                handles[actions.agent[at]].tolist(),
                names[actions.target[at]].tolist(),
            )
            by_kind[kind] = [
                (
                    f"{self.run_id}-{rows.turn}-{kind[0]}{n}",
                    self.run_id,
                    rows.turn,
                    agents[n],
                    targets[n],
                    *((actions.text[i],) if kind == "comment" else ()),
                    now,
                    actions.explanation[i],
                    model_used[i],
                    actions.metadata_json[i],
                    now,
                )
                for n, i in enumerate(at.tolist())
            ]
        tail = (
            "created_at",
            "explanation",
            "model_used",
            "generation_metadata_json",
            "generation_created_at",
        )
        head = ("run_id", "turn_number", "agent_handle")
        _insert(connection, "likes", ("like_id", *head, "post_id", *tail), by_kind["like"])
        _insert(
            connection,
            "comments",
            ("comment_id", *head, "post_id", "text", *tail),
            by_kind["comment"],
        )
        _insert(connection, "follows", ("follow_id", *head, "user_id", *tail), by_kind["follow"])

    def _write_posts(self, connection: Connection, rows: TurnRows, now: str) -> None:
        """The turn's agent posts, created half-way through the turn (simulated time)."""
        posts = rows.posts
        if not len(posts):
            return
        created = datetime.fromtimestamp(rows.posted_at, UTC).isoformat()
        handles = self.pop.handles[posts.author].tolist()
        models = posts.models()
        _insert(
            connection,
            "agent_posts",
            (
                "agent_post_id",
                "run_id",
                "turn_number",
                "agent_handle",
                "post_id",
                "text",
                "topic",
                "leaning",
                "created_at",
                "explanation",
                "model_used",
                "generation_metadata_json",
                "generation_created_at",
            ),
            [
                (
                    f"{self.run_id}-{rows.turn}-p{n}",
                    self.run_id,
                    rows.turn,
                    handles[n],
                    rows.post_ids[n],
                    posts.text[n],
                    TOPIC_NAMES[topic],
                    leaning,
                    created,
                    posts.explanation[n],
                    models[n],
                    posts.metadata_json[n],
                    now,
                )
                for n, (topic, leaning) in enumerate(
                    zip(posts.topic.tolist(), posts.leaning.tolist(), strict=True)
                )
            ],
        )

    def complete(self, run_metrics: dict[str, float]) -> None:
        """Write ``run_metrics`` and mark the run completed, in one transaction."""
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
        columnar.copy_completed_run(self.engine, self.run_id)

    def fail(self, turn: int | None, error: str) -> None:
        """Mark the run failed and record why (the failed turn's rows were rolled back)."""
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
        """Mark a failed or interrupted run as running again (for resume)."""
        with self.engine.begin() as connection:
            connection.execute(
                text("UPDATE runs SET status = 'running', completed_at = NULL WHERE run_id = :r"),
                {"r": self.run_id},
            )


class TurnWriteError(Exception):
    """Writing turn ``turn`` failed; ``__cause__`` is the original error."""

    def __init__(self, turn: int) -> None:
        super().__init__(f"writing turn {turn} failed")
        self.turn = turn


class TurnWriter:
    """Writes turns on a worker thread while the engine computes the next one.

    SQLite does its work with the GIL released, so on two cores the database
    and numpy overlap. Turns are written in order, one transaction each; at most
    one computed turn waits in the queue. After a failed write nothing later is
    written, and the failure surfaces at the next :meth:`put` or at :meth:`close`.
    """

    def __init__(self, recorder: Recorder, progress=None, total_turns: int = 0) -> None:
        self.recorder = recorder
        self.progress = progress
        self.total_turns = total_turns
        self.last_written = -1
        self._queue: queue.Queue[TurnRows | None] = queue.Queue(maxsize=1)
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
        """Queue a computed turn (blocks while the previous one is still waiting)."""
        self._raise_failure()
        self._queue.put(rows)

    def close(self) -> None:
        """Wait until every queued turn is written; raise if one failed."""
        self._queue.put(None)
        self._thread.join()
        self._raise_failure()

    def abort(self) -> None:
        """Drop turns not yet started, let the one being written finish, and stop."""
        try:
            while True:
                self._queue.get_nowait()
        except queue.Empty:
            pass
        self._queue.put(None)
        self._thread.join()
