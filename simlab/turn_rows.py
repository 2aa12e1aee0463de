"""One turn's rows, column by column: feeds, scores, actions, posts, leanings.

:class:`TurnRows` is what :meth:`simlab.engine.Simulation.step` returns;
:class:`RowBuilder` turns it into each table's columns (:class:`TableRows`:
numpy gathers and ``tolist``, a value shared by every row kept once), so no
Python code runs per cell. The same columns are the one source of a turn's
rows: :meth:`TableRows.tuples` zips them for ``executemany``, and the
columnar copy streamed during the run (:mod:`simlab.columnar_stream`) turns
them into Arrow arrays, with the feeds' items (:class:`FeedItems`) as index
arrays. Which columns a compact rule-based action stores NULL is
:mod:`simlab.compact_rows`'s layout (revisions 0009 and 0011).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat

import numpy as np
from sqlalchemy.engine import Connection

from simlab.compact_rows import compact_mask
from simlab.policies.base import ACTION_KINDS, Actions
from simlab.population.topics import TOPIC_NAMES
from simlab.posting import NewPosts
from simlab.world import Population

_HEAD = ("run_id", "turn_number", "agent_handle")
_TAIL = ("created_at", "explanation", "model_used", "generation_metadata_json")
_GENERATED = (*_TAIL, "generation_created_at")

COLUMNS: dict[str, tuple[str, ...]] = {
    "generated_feeds": ("feed_id", *_HEAD, "post_ids", "created_at"),
    "feed_scores": (*_HEAD, "scores"),
    "likes": ("like_id", *_HEAD, "post_id", *_GENERATED),
    "comments": ("comment_id", *_HEAD, "post_id", "text", *_GENERATED),
    "follows": ("follow_id", *_HEAD, "user_id", *_GENERATED),
    "agent_posts": ("agent_post_id", *_HEAD, "post_id", "text", "topic", "leaning", *_GENERATED),
    "agent_leaning_changes": ("run_id", "agent_handle", "turn_number", "leaning"),
}
"""The columns of each table a turn writes, in the order of the builders' tuples."""

ACTION_TABLES = {kind: f"{kind}s" for kind in ACTION_KINDS}  # like -> likes, ...


@dataclass(frozen=True)
class TurnRows:
    """Everything one turn writes: feeds, the policy's actions, leanings, metrics, posts.

    ``actions`` is the policy's :class:`~simlab.policies.base.Actions`, ``pop``
    the world the turn ran in (its post indices are what ``feeds`` and
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


@dataclass(frozen=True)
class Constant:
    """A value every row of a :class:`TableRows` holds (the run id, the turn, the wall clock)."""

    value: object


@dataclass(frozen=True)
class TableRows:
    """One turn's rows of one table: ``n`` rows, each column a list or a :class:`Constant`.

    ``columns`` maps the table's column names (:data:`COLUMNS` order) to values.
    """

    n: int
    columns: dict[str, list | Constant]

    def tuples(self) -> list[tuple]:
        """The rows as tuples, in :data:`COLUMNS` order (for ``executemany``)."""
        values = (
            repeat(v.value, self.n) if isinstance(v, Constant) else v for v in self.columns.values()
        )
        return list(zip(*values, strict=True))


@dataclass(frozen=True)
class FeedItems:
    """The items of one turn's feeds, one per served post, in feed order then rank order.

    ``agent`` indexes ``Population.handles``, ``post`` the turn's world's
    ``post_ids``; ``rank`` is 1 for the top of a feed. The feeds' ``post_ids``
    JSON lists exactly these posts.
    """

    agent: np.ndarray  # (items,) int
    rank: np.ndarray  # (items,) int32
    post: np.ndarray  # (items,) int
    post_ids: np.ndarray  # the turn's world's post ids (what ``post`` indexes)


@dataclass(frozen=True)
class PreparedTurn:
    """One turn with its rows built (:meth:`simlab.recorder.Recorder.prepare_turn`), to be written.

    ``now`` is the wall clock the rows hold as ``created_at``.
    """

    rows: TurnRows
    now: str
    tables: dict[str, TableRows]
    items: FeedItems

    @property
    def turn(self) -> int:
        """The turn's number."""
        return self.rows.turn


def _table(table: str, n: int, *values) -> TableRows:
    """``values`` (one per column of ``table``, in order) as the table's :class:`TableRows`."""
    return TableRows(n, dict(zip(COLUMNS[table], values, strict=True)))


def _ids(prefix: str, numbers) -> list[str]:
    """``prefix`` followed by each of ``numbers`` (an iterable of ints)."""
    return list(map(prefix.__add__, map(str, numbers)))


def _objects(values: list) -> np.ndarray:
    """``values`` as a 1-d object array (for gathering with an index array)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


class RowBuilder:
    """Builds the rows of one run's turns; remembers what carries over between turns.

    Args:
        run_id: the run's id.
        pop: the population the run simulates.
        model_used: the policy's ``model_used`` for actions that name none.
        run_model: the run's ``run_models.model_used``: compact actions decided by
            it store ``model_used`` NULL (None: the run has no such row; store it).
        leaning: the recorded leanings after the last written turn when resuming
            (None: the next turn written is turn 0).
    """

    def __init__(
        self,
        run_id: str,
        pop: Population,
        model_used: str,
        run_model: str | None,
        leaning: np.ndarray | None = None,
    ) -> None:
        self.run_id = run_id
        self.pop = pop
        self.model_used = model_used
        self.run_model = run_model
        self._quoted = np.array([json.dumps(p) for p in pop.post_ids.tolist()], dtype=object)
        self._leaning = None if leaning is None else leaning.copy()
        self._score_templates: dict[int, str] = {}

    def turn(self, rows: TurnRows, now: str) -> tuple[dict[str, TableRows], FeedItems]:
        """Every table's rows of one turn (keyed as :data:`COLUMNS`), and its feed items."""
        feeds, scores, items = self.feeds(rows, now)
        tables = {"generated_feeds": feeds, "feed_scores": scores}
        tables.update(self.actions(rows, now))
        tables["agent_posts"] = self.posts(rows, now)
        tables["agent_leaning_changes"] = self.leanings(rows)
        return tables, items

    def feeds(self, rows: TurnRows, now: str) -> tuple[TableRows, TableRows, FeedItems]:
        """The ``generated_feeds`` and ``feed_scores`` rows of the turn's active agents.

        ``post_ids`` is a JSON array of the served post ids; ``scores`` each
        served post's score to 6 significant digits (``%.6g``), or ``json.dumps``'s
        spelling for a feed holding an infinite or NaN score.
        """
        known = len(self._quoted)
        if len(rows.pop.post_ids) > known:  # agent posts written since the last turn
            new = [json.dumps(p) for p in rows.pop.post_ids[known:].tolist()]
            self._quoted = np.concatenate([self._quoted, np.array(new, dtype=object)])
        valid = rows.feeds >= 0
        served = valid.sum(axis=1)
        n_served = served.tolist()
        quoted = self._quoted[np.where(valid, rows.feeds, 0)]
        padded_inside = (np.cumsum(~valid, axis=1) == 0).sum(axis=1) != served
        lists = quoted.tolist()
        for i in np.flatnonzero(padded_inside).tolist():  # drop -1 entries one by one
            lists[i] = quoted[i][valid[i]].tolist()
            n_served[i] = len(lists[i])
        post_ids = ["[" + ",".join(ids[:n]) + "]" for ids, n in zip(lists, n_served, strict=True)]
        scores = rows.scores.tolist()
        odd = (~np.isfinite(np.where(valid, rows.scores, 0.0))).any(axis=1).tolist()
        score_texts = [
            json.dumps(s[:n]) if bad else self._scores_text(s[:n])
            for s, n, bad in zip(scores, n_served, odd, strict=True)
        ]
        n = len(rows.agents)
        handles = self.pop.handles[rows.agents].tolist()
        feed_ids = _ids(f"{self.run_id}-{rows.turn}-", rows.agents.tolist())
        run, turn = Constant(self.run_id), Constant(rows.turn)
        feeds = _table("generated_feeds", n, feed_ids, run, turn, handles, post_ids, Constant(now))
        scores = _table("feed_scores", n, run, turn, handles, score_texts)
        feed_row, _ = np.nonzero(valid)  # row-major: feed order, then rank order
        items = FeedItems(
            agent=rows.agents[feed_row],
            rank=np.cumsum(valid, axis=1, dtype=np.int32)[valid],
            post=rows.feeds[valid],
            post_ids=rows.pop.post_ids,
        )
        return feeds, scores, items

    def _scores_text(self, scores: list[float]) -> str:
        n = len(scores)
        template = self._score_templates.get(n)
        if template is None:
            template = self._score_templates[n] = "[" + ",".join(["%.6g"] * n) + "]"
        return template % tuple(scores)

    def actions(self, rows: TurnRows, now: str) -> dict[str, TableRows]:
        """Likes, comments and follows by table; ids number each kind in the policy's order.

        A compact row (:func:`simlab.compact_rows.compact_mask`) stores
        ``generation_created_at`` NULL (it is ``created_at``) and ``model_used``
        NULL when it is :attr:`run_model`.
        """
        actions = rows.actions
        explanation, metadata = _objects(actions.explanation), _objects(actions.metadata_json)
        compact = compact_mask(explanation, metadata)
        if actions.model_used is None:
            model = self.model_used if self.model_used != self.run_model else None
            models = np.full(len(actions), model, dtype=object)
            models[~compact] = self.model_used
        else:
            models = _objects(actions.model_used)
            models[compact & (models == self.run_model)] = None
        generated = np.where(compact, None, now)
        by_table = {}
        for kind, table in ACTION_TABLES.items():
            at = actions.of(kind)
            m = len(at)
            names = self.pop.accounts if kind == "follow" else rows.pop.post_ids
            by_table[table] = _table(
                table,
                m,
                _ids(f"{self.run_id}-{rows.turn}-{kind[0]}", range(m)),
                Constant(self.run_id),
                Constant(rows.turn),
                self.pop.handles[actions.agent[at]].tolist(),
                names[actions.target[at]].tolist(),
                *([_objects(actions.text)[at].tolist()] if kind == "comment" else []),
                Constant(now),
                explanation[at].tolist(),
                models[at].tolist(),
                metadata[at].tolist(),
                generated[at].tolist(),
            )
        return by_table

    def posts(self, rows: TurnRows, now: str) -> TableRows:
        """The turn's agent posts, created half-way through the turn (simulated time)."""
        posts = rows.posts
        n = len(posts)
        created = datetime.fromtimestamp(rows.posted_at, UTC).isoformat()
        return _table(
            "agent_posts",
            n,
            _ids(f"{self.run_id}-{rows.turn}-p", range(n)),
            Constant(self.run_id),
            Constant(rows.turn),
            self.pop.handles[posts.author].tolist(),
            rows.post_ids,
            posts.text,
            [TOPIC_NAMES[t] for t in posts.topic.tolist()],
            posts.leaning.tolist(),
            Constant(created),
            posts.explanation,
            posts.models(),
            posts.metadata_json,
            Constant(now),
        )

    def leanings(self, rows: TurnRows) -> TableRows:
        """Every agent's leaning at the first turn written, then only the ones that changed."""
        leaning = rows.leaning
        changed = (
            np.arange(len(leaning))
            if self._leaning is None
            else np.flatnonzero(leaning != self._leaning)
        )
        self._leaning = leaning.copy()
        return _table(
            "agent_leaning_changes",
            len(changed),
            Constant(self.run_id),
            self.pop.handles[changed].tolist(),
            Constant(rows.turn),
            leaning[changed].tolist(),
        )
