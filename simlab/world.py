"""The population as arrays, and the mutable state of one run.

Everything the feed algorithms, the policy and the metrics see is here, as
numpy arrays indexed by position:

- agents ``a in [0, n_agents)``, in ``agent.handle`` order;
- accounts ``u in [0, n_accounts)``: every agent first (account ``a`` is
  agent ``a``), then every outside author of a post, sorted by handle;
- posts ``p in [0, n_posts)``, sorted by ``post_id``;
- topics ``k in [0, n_topics)``, in :data:`simlab.population.topics.TOPIC_NAMES` order.

:class:`Population` is read once from the database and never changed, so every
run starts from the same inputs; :class:`SimState` is what one run changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, repeat
from typing import TYPE_CHECKING

import numpy as np

from simlab.driver_rows import driver_chunks, driver_rows, json_values
from simlab.errors import InputError
from simlab.population.labels_served import SERVED_POSTS
from simlab.population.topics import TOPIC_NAMES
from simlab.sparse_pairs import PairSet

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Population:
    """The agents, accounts and posts of a database, as arrays (see module docstring)."""

    agent_ids: np.ndarray  # (n_agents,) str
    handles: np.ndarray  # (n_agents,) str
    leaning: np.ndarray  # (n_agents,) float in [-1, 1]
    interests: np.ndarray  # (n_agents, n_topics) float, rows sum to 1
    activity_rate: np.ndarray  # (n_agents,) float in [0, 1]
    like_propensity: np.ndarray  # (n_agents,) float in [0, 1]
    comment_propensity: np.ndarray  # (n_agents,) float in [0, 1]
    follow_propensity: np.ndarray  # (n_agents,) float in [0, 1]
    accounts: np.ndarray  # (n_accounts,) str handles; accounts[:n_agents] == handles
    account_leaning: np.ndarray  # (n_accounts,) float: agents' own, outsiders' mean post leaning
    post_ids: np.ndarray  # (n_posts,) str
    post_topic: np.ndarray  # (n_posts,) int topic index
    post_leaning: np.ndarray  # (n_posts,) float in [-1, 1]
    post_author: np.ndarray  # (n_posts,) int account index
    post_created: np.ndarray  # (n_posts,) float POSIX seconds
    post_likes: np.ndarray  # (n_posts,) int like_count at import/generation
    post_comments: np.ndarray  # (n_posts,) int reply_count at import/generation
    post_reposts: np.ndarray  # (n_posts,) int repost_count + quote_count
    follow_pairs: np.ndarray  # (n_edges, 2) int (agent, account): the initial follow graph
    post_text: np.ndarray | None = None  # (n_posts,) str, for comment text; None = not loaded
    post_observed: np.ndarray | None = None  # (n_posts,) bool: counts observed on a real platform

    @property
    def n_agents(self) -> int:
        """Number of agents."""
        return len(self.handles)

    @property
    def n_posts(self) -> int:
        """Number of posts."""
        return len(self.post_ids)

    @property
    def n_accounts(self) -> int:
        """Number of accounts (agents + outside authors)."""
        return len(self.accounts)

    @property
    def topics(self) -> tuple[str, ...]:
        """Topic names, indexed like ``interests`` columns and ``post_topic`` values."""
        return TOPIC_NAMES

    @property
    def n_topics(self) -> int:
        """T: the topics this population uses (some agent's interest or some post), at least 1.

        A synthetic population of ``topics = 8`` has T = 8 although
        :data:`~simlab.population.topics.TOPIC_NAMES` lists 12.
        """
        used = (self.interests.sum(axis=0) > 0) | (
            np.bincount(self.post_topic, minlength=len(TOPIC_NAMES)) > 0
        )
        return max(int(used.sum()), 1)

    def head(self, n_agents: int) -> Population:
        """The first ``n_agents`` agents with every post and account (for ``--agents N``).

        Accounts keep their indices (agents beyond ``n_agents`` remain accounts
        that can be followed and authored posts), so post authors stay valid.
        """
        if n_agents > self.n_agents:
            raise InputError(
                f"--agents: {n_agents} requested but the database has {self.n_agents} agents"
            )
        keep = self.follow_pairs[:, 0] < n_agents
        return _replace_agents(self, slice(0, n_agents), self.follow_pairs[keep])

    def post_subset(self, columns: np.ndarray) -> Population:
        """The same agents and accounts with only the posts at ``columns`` (sorted indices)."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name in POST_FIELDS:
            fields[name] = fields[name][columns]
        for name in OPTIONAL_POST_FIELDS:
            if fields[name] is not None:
                fields[name] = fields[name][columns]
        return Population(**fields)

    def with_posts(
        self,
        ids: list[str],
        author: np.ndarray,
        topic: np.ndarray,
        leaning: np.ndarray,
        created: np.ndarray,
        texts: list[str],
    ) -> Population:
        """The same population with new posts appended (no engagement, not observed)."""
        m = len(ids)
        zeros = np.zeros(m, dtype=np.int64)
        new = {
            "post_ids": np.array(ids, dtype=object),
            "post_topic": np.asarray(topic, dtype=np.int64),
            "post_leaning": np.asarray(leaning, dtype=float),
            "post_author": np.asarray(author, dtype=np.int64),
            "post_created": np.asarray(created, dtype=float),
            "post_likes": zeros,
            "post_comments": zeros,
            "post_reposts": zeros,
            "post_text": np.array(texts, dtype=object),
            "post_observed": np.zeros(m, dtype=bool),
        }
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        for name, values in new.items():
            old = fields[name]
            if old is None:
                old = (
                    np.zeros(self.n_posts, dtype=bool)
                    if name == "post_observed"
                    else (np.full(self.n_posts, "", dtype=object))
                )
            fields[name] = np.concatenate([old, values])
        return Population(**fields)


POST_FIELDS = (
    "post_ids",
    "post_topic",
    "post_leaning",
    "post_author",
    "post_created",
    "post_likes",
    "post_comments",
    "post_reposts",
)
OPTIONAL_POST_FIELDS = ("post_text", "post_observed")
FOLLOW_CHUNK = 1_000  # agents whose initial follows load_population converts at a time


def _replace_agents(pop: Population, rows: slice, follow_pairs: np.ndarray) -> Population:
    fields = {name: getattr(pop, name) for name in pop.__dataclass_fields__}
    for name in (
        "agent_ids",
        "handles",
        "leaning",
        "interests",
        "activity_rate",
        "like_propensity",
        "comment_propensity",
        "follow_propensity",
    ):
        fields[name] = fields[name][rows]
    fields["follow_pairs"] = follow_pairs
    return Population(**fields)


@dataclass
class SimState:
    """What a run changes, turn by turn. Built fresh from a Population for every run.

    ``follows`` and ``acted`` are sparse (:class:`~simlab.sparse_pairs.PairSet`):
    feeds and the policy read blocks or single cells of them, the metrics the
    sorted edge list ``follows.pairs()``. Posts written during the run are added
    with :meth:`add_posts`, which only widens ``acted``.
    """

    leaning: np.ndarray  # (n_agents,) current leanings
    follows: PairSet  # n_agents x n_accounts: agent follows account
    sim_likes: np.ndarray  # (n_posts,) int likes given inside this run
    sim_comments: np.ndarray  # (n_posts,) int comments written inside this run
    acted: PairSet  # n_agents x n_posts: agent liked or commented on post
    eligible: np.ndarray | None = None  # (n_posts,) bool: in some turn's candidate pool so far

    @classmethod
    def initial(cls, pop: Population) -> SimState:
        """The state before turn 0: population leanings and the initial follow graph."""
        return cls(
            leaning=pop.leaning.astype(float).copy(),
            follows=PairSet(pop.n_agents, pop.n_accounts, pop.follow_pairs),
            sim_likes=np.zeros(pop.n_posts, dtype=np.int64),
            sim_comments=np.zeros(pop.n_posts, dtype=np.int64),
            acted=PairSet(pop.n_agents, pop.n_posts),
            eligible=np.zeros(pop.n_posts, dtype=bool),
        )

    def add_posts(self, m: int) -> None:
        """Make room for ``m`` new posts: no likes, comments or actions on them yet."""
        if m == 0:
            return
        self.acted.add_columns(m)
        zeros = np.zeros(m, dtype=np.int64)
        self.sim_likes = np.concatenate([self.sim_likes, zeros])
        self.sim_comments = np.concatenate([self.sim_comments, zeros])
        self.eligible = np.concatenate([self.eligible, np.zeros(m, dtype=bool)])

    def post_subset(self, columns: np.ndarray) -> SimState:
        """A read-only view for ranking: per-post state restricted to ``columns`` (sorted)."""
        return SimState(
            leaning=self.leaning,
            follows=self.follows,
            sim_likes=self.sim_likes[columns],
            sim_comments=self.sim_comments[columns],
            acted=self.acted.select_columns(columns),
            eligible=None if self.eligible is None else self.eligible[columns],
        )

    def likes(self, pop: Population) -> np.ndarray:
        """Likes per post as ``pop`` shows them: its (visible) starting count plus in-run likes."""
        return pop.post_likes + self.sim_likes

    def comments(self, pop: Population) -> np.ndarray:
        """Comments per post: ``pop``'s (visible) starting replies plus in-run comments."""
        return pop.post_comments + self.sim_comments


def _timestamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


FOLLOWS_BY_AGENT = {
    "sqlite": "SELECT agent_handle, json_group_array(followed_handle) "
    "FROM initial_follows GROUP BY agent_handle",
    "postgresql": "SELECT agent_handle, json_agg(followed_handle)::text "
    "FROM initial_follows GROUP BY agent_handle",
}
"""Each agent's initial follows as one JSON array of handles, per SQL dialect."""


def _follow_pairs(connection: Connection, account_index: dict[str, int]) -> np.ndarray:
    """(E, 2) int (agent, account) of the initial follows of known accounts, sorted.

    Each agent's followed handles arrive as one JSON array (:data:`FOLLOWS_BY_AGENT`),
    :data:`FOLLOW_CHUNK` agents at a time, so the rows in flight stay a small part
    of the population's memory; handles map to accounts through ``account_index``
    (a C-level ``map``, no Python code per follow). Unknown followed handles are dropped.
    """
    sql = FOLLOWS_BY_AGENT[connection.dialect.name]
    agent_of, account_of = account_index.__getitem__, account_index.get
    chunks = [np.zeros((0, 2), dtype=np.int64)]
    for rows in driver_chunks(connection, sql, FOLLOW_CHUNK):
        followers, arrays = zip(*rows, strict=True)
        followed = json_values(arrays)
        counts = np.fromiter(map(len, followed), np.int64, len(followed))
        agent = np.fromiter(map(agent_of, followers), np.int64, len(followers))
        account = np.fromiter(
            map(account_of, chain.from_iterable(followed), repeat(-1)), np.int64, counts.sum()
        )
        pairs = np.stack([np.repeat(agent, counts), account], axis=1)
        chunks.append(pairs[account >= 0])
    pairs = np.concatenate(chunks)
    return pairs[np.argsort(pairs[:, 0] * len(account_index) + pairs[:, 1])]  # row-major order


AGENTS_SQL = (
    "SELECT a.agent_id, a.handle, t.leaning, t.interests, t.activity_rate, "
    "t.like_propensity, t.comment_propensity, t.follow_propensity "
    "FROM agent a LEFT JOIN agent_traits t ON t.agent_id = a.agent_id ORDER BY a.handle"
)
POSTS_SQL = (
    "SELECT p.post_id, p.author_handle, p.created_at, p.like_count, p.reply_count, "
    "p.repost_count + p.quote_count AS reposts, n.topic, n.leaning, p.text, p.source "
    "FROM feed_posts p JOIN post_annotations n ON n.post_id = p.post_id "
    f"WHERE {SERVED_POSTS} ORDER BY p.post_id"
)


def load_population(connection: Connection) -> Population:
    """Read agents (with traits), posts (with labels) and the initial follow graph.

    Raises:
        InputError: the database has no agents, or agents or posts lack the
            trait / label rows the simulation needs.
    """
    agents = driver_rows(connection, AGENTS_SQL)
    if not agents:
        raise InputError("the database has no agents; run `simlab init` or `simlab import` first")
    (agent_ids, handle_list, leanings, interest_texts, activity, like, comment, follow) = zip(
        *agents, strict=True
    )
    missing = [handle for handle, value in zip(handle_list, leanings, strict=True) if value is None]
    if missing:
        raise InputError(
            f"agent {missing[0]} has no agent_traits row ({len(missing)} agents lack one)"
        )
    posts = driver_rows(connection, POSTS_SQL)
    (
        post_ids,
        authors,
        created,
        like_count,
        reply_count,
        reposts,
        topics,
        post_leanings,
        texts,
        sources,
    ) = zip(*posts, strict=True) if posts else ((),) * 10
    handles = np.array(handle_list, dtype=object)
    outsiders = sorted(set(authors) - set(handle_list))
    accounts = np.array([*handle_list, *outsiders], dtype=object)
    account_index = {handle: i for i, handle in enumerate(accounts.tolist())}
    topic_index = {name: k for k, name in enumerate(TOPIC_NAMES)}
    interests = np.array(
        [
            [weights.get(name, 0.0) for name in TOPIC_NAMES]
            for weights in json_values(interest_texts)
        ],
        dtype=float,
    )
    interests /= np.maximum(interests.sum(axis=1, keepdims=True), 1e-12)
    post_author = np.fromiter(map(account_index.__getitem__, authors), np.int64, len(posts))
    post_leaning = np.array(post_leanings, dtype=float)
    leaning = np.array(leanings, dtype=float)
    account_leaning = np.zeros(len(accounts))
    account_leaning[: len(handles)] = leaning
    outsider_posts = post_author >= len(handles)
    sums = np.bincount(post_author[outsider_posts], post_leaning[outsider_posts], len(accounts))
    counts = np.bincount(post_author[outsider_posts], minlength=len(accounts))
    account_leaning[len(handles) :] = (sums / np.maximum(counts, 1))[len(handles) :]
    follow_pairs = _follow_pairs(connection, account_index)
    return Population(
        agent_ids=np.array(agent_ids, dtype=object),
        handles=handles,
        leaning=leaning,
        interests=interests,
        activity_rate=np.array(activity, dtype=float),
        like_propensity=np.array(like, dtype=float),
        comment_propensity=np.array(comment, dtype=float),
        follow_propensity=np.array(follow, dtype=float),
        accounts=accounts,
        account_leaning=account_leaning,
        post_ids=np.array(post_ids, dtype=object),
        post_topic=np.fromiter(map(topic_index.__getitem__, topics), np.int64, len(posts)),
        post_leaning=post_leaning,
        post_author=post_author,
        post_created=np.fromiter(map(_timestamp, created), float, len(posts)),
        post_likes=np.array(like_count, dtype=np.int64),
        post_comments=np.array(reply_count, dtype=np.int64),
        post_reposts=np.array(reposts, dtype=np.int64),
        follow_pairs=follow_pairs,
        post_text=_objects(texts),
        post_observed=np.array([source != "synthetic" for source in sources], dtype=bool),
    )


def _objects(values: Sequence) -> np.ndarray:
    """``values`` as a 1-d object array (``np.array`` would split equal-length tuples)."""
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array
