"""What can be evaluated: the texts of comments, agent posts and feed posts, in pages.

Each target kind is one :class:`Target` naming its table and columns. Pages
come in id order and leave out what the given evaluator version already
scored, so an interrupted evaluation resumes where it stopped. Comments and
agent posts belong to a run, turn and agent; ``feed_posts`` are the
population's posts, shared by every run, so they are scored once (no run or
turn; the agent is the author's handle).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from simlab.errors import InputError


@dataclass(frozen=True)
class Item:
    """One text to evaluate and where it came from."""

    target_id: str
    run_id: str | None
    turn_number: int | None
    agent_handle: str | None
    text: str


@dataclass(frozen=True)
class Target:
    """Where one kind of text lives: table, id column, and its run/turn/agent columns."""

    kind: str
    table: str
    id_column: str
    run_column: str | None  # None: not tied to a run (scored once for all runs)
    turn_column: str | None
    agent_column: str
    text_column: str = "text"

    def _from(self, run_ids: list[str] | None, unscored: bool = True) -> str:
        run_filter = f" AND t.{self.run_column} IN :run_ids" if self.run_column and run_ids else ""
        sql = f"FROM {self.table} AS t WHERE t.{self.id_column} > :after{run_filter}"
        if unscored:
            sql += (
                " AND NOT EXISTS (SELECT 1 FROM evaluations AS e WHERE e.evaluator = :evaluator"
                " AND e.evaluator_version = :version AND e.target_kind = :kind"
                f" AND e.target_id = t.{self.id_column})"
            )
        return sql

    def _params(self, run_ids, evaluator: str, version: str, after: str) -> dict:
        params = {"after": after, "evaluator": evaluator, "version": version, "kind": self.kind}
        if self.run_column and run_ids:
            params["run_ids"] = list(run_ids)
        return params

    def _bind(self, sql: str, run_ids):
        statement = text(sql)
        if self.run_column and run_ids:
            statement = statement.bindparams(bindparam("run_ids", expanding=True))
        return statement

    def count(self, connection: Connection, run_ids) -> int:
        """How many texts of this kind the runs have (all of them for run-less kinds)."""
        sql = "SELECT count(*) " + self._from(run_ids, unscored=False)
        params = {"after": ""} | ({"run_ids": list(run_ids)} if self.run_column and run_ids else {})
        return int(connection.execute(self._bind(sql, run_ids), params).scalar())

    def pending(self, connection: Connection, run_ids, evaluator: str, version: str) -> int:
        """How many texts of the runs ``evaluator`` at ``version`` has not scored yet."""
        sql = "SELECT count(*) " + self._from(run_ids)
        params = self._params(run_ids, evaluator, version, "")
        return int(connection.execute(self._bind(sql, run_ids), params).scalar())

    def page(
        self, connection: Connection, run_ids, evaluator: str, version: str, after: str, limit: int
    ) -> list[Item]:
        """Up to ``limit`` unscored texts with ids greater than ``after``, in id order."""
        run = f"t.{self.run_column}" if self.run_column else "NULL"
        turn = f"t.{self.turn_column}" if self.turn_column else "NULL"
        sql = (
            f"SELECT t.{self.id_column}, {run}, {turn}, t.{self.agent_column}, "
            f"t.{self.text_column} {self._from(run_ids)} ORDER BY t.{self.id_column} LIMIT :limit"
        )
        params = {**self._params(run_ids, evaluator, version, after), "limit": limit}
        return [Item(*row) for row in connection.execute(self._bind(sql, run_ids), params)]


# The same kinds as ``simlab.schema.EVALUATION_TARGETS`` (the table's check constraint).
TARGETS: dict[str, Target] = {
    "comments": Target(
        "comments", "comments", "comment_id", "run_id", "turn_number", "agent_handle"
    ),
    # agent_post_id, not post_id: post_id repeats across runs of one config (revision 0008).
    "agent_posts": Target(
        "agent_posts", "agent_posts", "agent_post_id", "run_id", "turn_number", "agent_handle"
    ),
    "feed_posts": Target("feed_posts", "feed_posts", "post_id", None, None, "author_handle"),
}


DEFAULT_TARGETS = ("comments", "agent_posts")  # what agents write


def parse_targets(value: str | None) -> list[Target]:
    """The targets named in a comma-separated ``value`` (default: :data:`DEFAULT_TARGETS`).

    Every target's table exists: commands open databases at the head revision only.

    Raises:
        InputError: an unknown kind.
    """
    names = [v.strip() for v in (value or "").split(",") if v.strip()]
    chosen = []
    for name in names or DEFAULT_TARGETS:
        if name not in TARGETS:
            raise InputError(f"--targets: unknown target {name!r}; allowed: {', '.join(TARGETS)}")
        target = TARGETS[name]
        if target not in chosen:
            chosen.append(target)
    return chosen
