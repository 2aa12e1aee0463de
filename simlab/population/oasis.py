"""Import an OASIS simulation database (SQLite) as a population [Yang2024].

OASIS writes one SQLite file per run with tables ``user``, ``post``,
``follow``, ``like``, ``dislike``, ``comment``, ``rec`` and ``trace`` (its
``oasis/social_platform/schema/*.sql``). The file is opened read-only. Mapping:

- ``user`` -> agents (``agent_id = "oasis:<tag>:user:<user_id>"``, handle =
  ``user_name`` (lower case; ``user-<user_id>`` when empty or repeated),
  display name = ``name``, persona bio = ``bio``, follower/following counts
  from ``num_followers`` / ``num_followings``); ``<tag>`` is the first 8 hex
  digits of the file's SHA-256, so two OASIS runs never share an id;
- ``post`` rows with ``original_post_id`` NULL -> posts; with
  ``original_post_id`` and ``quote_content`` -> quote posts (text =
  ``quote_content``, ``post_details.quote_uri`` = the original); with
  ``original_post_id`` and no ``quote_content`` -> ``reposts`` rows of the original;
- ``follow`` -> the initial follow graph (``initial_follows``);
- ``like`` / ``dislike`` / ``comment`` -> ``imported_engagement`` rows and the
  posts' ``like_count`` (``num_likes``), ``reply_count`` (comments) and
  ``repost_count`` / ``quote_count``;
- ``rec`` and ``trace`` (recommendations shown, the action log) -> counts in
  ``populations.config_json``, the record of the source run (with the path,
  its SHA-256, the row count of every table, and the trace's actions).

Times: ``created_at`` that is a number is an OASIS step, mapped to
``start + step · step_hours``; a date-time string is read as UTC. Refused
(one-line error, nothing written): a missing ``user`` or ``post`` table or
column, a row that refers to a user or post that does not exist, a time that
is neither.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from simlab.errors import InputError
from simlab.population.importing import Extras, Post, Profile, import_population, utc_timestamp
from simlab.population.sqlite_import import open_readonly
from simlab.population.writer import OnDuplicate, Summary

REQUIRED: dict[str, tuple[str, ...]] = {
    "user": ("user_id", "user_name", "name", "bio", "num_followings", "num_followers"),
    "post": ("post_id", "user_id", "original_post_id", "content", "quote_content", "created_at",
             "num_likes"),
    "follow": ("follower_id", "followee_id", "created_at"),
    "like": ("user_id", "post_id", "created_at"),
    "dislike": ("user_id", "post_id", "created_at"),
    "comment": ("comment_id", "post_id", "user_id", "content", "created_at"),
}  # fmt: skip
OPTIONAL = ("follow", "like", "dislike", "comment")
DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)


class _Clock:
    """OASIS ``created_at`` values (steps or date-times) as ISO 8601 UTC."""

    def __init__(self, name: str, start: datetime, step_hours: float) -> None:
        self.name, self.start, self.step_hours = name, start, step_hours

    def __call__(self, value: Any, where: str) -> str:
        if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
            return (self.start + timedelta(hours=float(value) * self.step_hours)).isoformat()
        stamp = utc_timestamp(value) if isinstance(value, str) else None
        if stamp is None:
            raise InputError(
                f"import: {self.name}: {where}.created_at: {value!r} is neither an OASIS step "
                "(a number) nor an ISO 8601 time"
            )
        return stamp


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _table(connection: sqlite3.Connection, name: str, file: str) -> list[sqlite3.Row] | None:
    present = {
        r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    if name not in present:
        if name in OPTIONAL:
            return None
        raise InputError(f"import: {file}: not an OASIS database: no table {name!r}")
    columns = {r[1] for r in connection.execute(f'PRAGMA table_info("{name}")')}
    lacking = [c for c in REQUIRED[name] if c not in columns]
    if lacking:
        raise InputError(f"import: {file}: table {name} lacks column(s) {', '.join(lacking)}")
    return list(connection.execute(f'SELECT * FROM "{name}" ORDER BY rowid'))


def _handles(users: list[sqlite3.Row]) -> dict[int, str]:
    names = [str(u["user_name"] or "").strip().lower().replace(" ", "_") for u in users]
    repeated = {n for n, c in Counter(names).items() if c > 1}
    return {
        u["user_id"]: (n if n and n not in repeated else f"user-{u['user_id']}")
        for u, n in zip(users, names, strict=True)
    }


def _record(connection: sqlite3.Connection, path: Path) -> dict[str, Any]:
    tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    counts = {t: connection.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    actions = {}
    if "trace" in tables:
        actions = dict(connection.execute("SELECT action, count(*) FROM trace GROUP BY action"))
    return {"rows": counts, "trace_actions": actions, "rec_rows": counts.get("rec", 0)}


class _Run:
    """The rows of one OASIS database, mapped table by table (module docstring)."""

    def __init__(self, name: str, tag: str, users: list, posts: list, clock: _Clock) -> None:
        self.name, self.clock, self.users, self.posts = name, clock, users, posts
        self.prefix, self.handles = f"oasis:{tag[:8]}", _handles(users)
        self.uri = f"oasis://{tag[:8]}/post/{{}}"
        self.ids = {u["user_id"]: f"{self.prefix}:user:{u['user_id']}" for u in users}
        self.post_ids = {p["post_id"]: f"{self.prefix}:post:{p['post_id']}" for p in posts}
        self.extras = Extras()
        self.engagement: Counter = Counter()  # (post id, kind) -> n
        self.shares: Counter = Counter()  # (post id, is a quote) -> n

    def user(self, value, where: str) -> str:
        if value not in self.handles:
            raise InputError(f"import: {self.name}: {where}.user_id: {value!r} is not a user")
        return self.handles[value]

    def post(self, value, where: str) -> str:
        if value not in self.post_ids:
            raise InputError(f"import: {self.name}: {where}.post_id: {value!r} is not a post")
        return self.post_ids[value]

    def engage(self, kind: str, rows: list) -> None:
        for i, row in enumerate(rows):
            where = f"{kind}[{i}]"
            target = self.post(row["post_id"], where)
            self.engagement[(target, kind)] += 1
            key = row["comment_id"] if kind == "comment" else i
            self.extras.engagement.append({
                "engagement_id": f"{self.prefix}:{kind}:{key}", "post_id": target, "kind": kind,
                "account_handle": self.user(row["user_id"], where),
                "text": row["content"] if kind == "comment" else None,
                "created_at": self.clock(row["created_at"], where)})  # fmt: skip

    def follow(self, rows: list) -> None:
        for i, row in enumerate(rows):
            where = f"follow[{i}]"
            follower = self.user(row["follower_id"], where)
            followee = self.user(row["followee_id"], where)
            if follower != followee:
                self.extras.follows.append({"agent_handle": follower, "followed_handle": followee,
                                            "created_at": self.clock(row["created_at"], where)})  # fmt: skip

    def _posts(self) -> list[tuple]:
        """(row, author, time, text, quoted row id) of posts and quotes; reposts become rows."""
        kept = []
        for row in self.posts:
            where, original = f"post[{row['post_id']}]", row["original_post_id"]
            author, created = self.user(row["user_id"], where), self.clock(row["created_at"], where)
            if original is not None:
                quote = row["quote_content"] is not None
                self.shares[(self.post(original, f"{where}.original"), quote)] += 1
                if not quote:
                    self.extras.reposts.append({"post_id": self.post_ids[original],
                                                "reposter_did": self.ids[row["user_id"]],
                                                "reposter_handle": author, "reposted_at": created})  # fmt: skip
                    continue
            text = row["quote_content"] if original is not None else (row["content"] or "")
            kept.append((row, author, created, text, original))
        return kept

    def posts_and_profiles(self) -> tuple[list[Post], list[Profile]]:
        built = []
        for row, author, created, text, original in self._posts():
            post_id = self.post_ids[row["post_id"]]
            counts = {
                "like_count": max(int(row["num_likes"] or 0), self.engagement[(post_id, "like")]),
                "reply_count": self.engagement[(post_id, "comment")],
                "repost_count": self.shares[(post_id, False)],
                "quote_count": self.shares[(post_id, True)],
                "bookmark_count": 0,
            }
            details = {"quote_uri": self.uri.format(original) if original is not None else None,
                       "text_source": "text" if text.strip() else "empty"}  # fmt: skip
            built.append(Post(post_id=post_id, source="oasis", uri=self.uri.format(row["post_id"]),
                              author_handle=author, author_display_name=author, text=text,
                              created_at=created, counts=counts,
                              author_did=self.ids[row["user_id"]], details=details))  # fmt: skip
        n_posts = Counter(p.author_handle for p in built)
        profiles = [
            Profile(handle=self.handles[u["user_id"]], did=self.ids[u["user_id"]],
                    display_name=str(u["name"] or self.handles[u["user_id"]]),
                    bio=str(u["bio"] or ""), followers_count=int(u["num_followers"] or 0),
                    follows_count=int(u["num_followings"] or 0),
                    posts_count=n_posts[self.handles[u["user_id"]]])
            for u in self.users
        ]  # fmt: skip
        return built, profiles


def read_oasis(path: str | os.PathLike, start: datetime, step_hours: float):
    """Profiles, posts, extras and the source-run record of an OASIS database (module docstring).

    Raises:
        InputError: what cannot be mapped (module docstring).
    """
    name, file = os.fspath(path), Path(path)
    connection = open_readonly(file, name)
    connection.row_factory = sqlite3.Row
    tag = hashlib.sha256(file.read_bytes()).hexdigest()
    try:
        users, posts = _table(connection, "user", name), _table(connection, "post", name)
        tables = {t: _table(connection, t, name) or [] for t in OPTIONAL}
        record = {"path": name, "sha256": tag, "start": start.isoformat(),
                  "step_hours": step_hours, **_record(connection, file)}  # fmt: skip
    except sqlite3.Error as exc:
        raise InputError(f"import: {name}: cannot read ({exc})") from None
    finally:
        connection.close()
    run = _Run(name, tag, users, posts, _Clock(name, start, step_hours))
    for kind in ("like", "dislike", "comment"):
        run.engage(kind, tables[kind])
    run.follow(tables["follow"])
    built, profiles = run.posts_and_profiles()
    record["dislikes"] = len(tables["dislike"])
    return profiles, built, run.extras, record


def import_oasis(
    engine: Engine,
    path: str | os.PathLike,
    step_hours: float = 1.0,
    start: datetime = DEFAULT_START,
    on_duplicate: OnDuplicate = "skip",
) -> Summary:
    """Import an OASIS run database as agents, posts, follows and engagement, all or nothing.

    Args:
        engine: a database migrated to head.
        path: the OASIS SQLite file.
        step_hours: hours per OASIS time step (for numeric ``created_at``).
        start: the time of step 0.
        on_duplicate: rows seen before: 'error', 'skip' (default) or 'update'.

    Raises:
        InputError: a bad file or value (module docstring), or a refused clash.
    """
    if not step_hours > 0:
        raise InputError(f"--step-hours: must be > 0, got {step_hours}")
    if start.tzinfo is None:
        raise InputError("--start: needs a time zone, e.g. 2025-01-01T00:00:00+00:00")
    profiles, posts, extras, record = read_oasis(path, start.astimezone(UTC), step_hours)
    record["labeller"] = "simlab.population.labels"
    return import_population(
        engine, profiles, posts, "oasis", record, extras=extras, on_duplicate=on_duplicate
    )
