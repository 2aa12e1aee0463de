"""The feed-algorithm interface: inputs for a block of agents, ranked outputs, the registry.

A feed algorithm is a function ``rank(feed: FeedInput, params, rng) -> Ranked``
that scores every candidate post for every agent of a block at once (numpy,
no per-pair Python loop) and keeps the top ``feed.feed_size``. Shapes: ``n`` is
the number of agents in the block, ``P`` the number of posts, ``k`` the feed size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simlab.params import Params
from simlab.registry import Registry
from simlab.sparse_pairs import ranges
from simlab.world import Population, SimState

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class FeedInput:
    """What a feed algorithm may look at for one block of agents in one turn."""

    pop: Population
    state: SimState
    turn: int
    now: float  # this turn's clock, POSIX seconds
    agents: np.ndarray  # (n,) agent indices
    candidates: np.ndarray  # (n, P) bool: visible, not own post, not already acted on
    feed_size: int  # k

    @property
    def age_hours(self) -> np.ndarray:
        """(P,) hours since each post was created, at this turn's clock (>= 0 for visible posts)."""
        return (self.now - self.pop.post_created) / SECONDS_PER_HOUR

    @property
    def likes(self) -> np.ndarray:
        """(P,) likes per post: starting count plus likes given in this run so far."""
        return self.state.likes(self.pop)

    @property
    def comments(self) -> np.ndarray:
        """(P,) comments per post: starting replies plus comments written in this run so far."""
        return self.state.comments(self.pop)

    @property
    def follows_author(self) -> np.ndarray:
        """(n, P) bool: the agent follows the post's author."""
        return self.state.follows.block(self.agents, self.pop.post_author)

    def follow_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """The True cells of :attr:`follows_author` as (row, post) index arrays, row-major."""
        return self.state.follows.cells_of(self.agents, self.pop.post_author)

    @property
    def leaning(self) -> np.ndarray:
        """(n,) the block's current leanings."""
        return self.state.leaning[self.agents]


def candidate_mask(pop: Population, state: SimState, agents: np.ndarray) -> np.ndarray:
    """(n, P) bool: the post is neither the agent's own nor one it already acted on.

    ``state`` is restricted to ``pop``'s posts (``state.acted`` has P columns).
    Equal to ``(pop.post_author != agents[:, None]) & ~state.acted.block(agents, range(P))``,
    built from those few exceptions rather than from two dense passes.
    """
    out = np.ones((len(agents), pop.n_posts), dtype=bool)
    by_author = np.argsort(pop.post_author, kind="stable")
    authors = pop.post_author[by_author]
    first = np.searchsorted(authors, agents, side="left")
    counts = np.searchsorted(authors, agents, side="right") - first
    out[np.repeat(np.arange(len(agents)), counts), by_author[ranges(first, counts)]] = False
    acted_row, acted_post = state.acted.row_pairs(agents)
    out[acted_row, acted_post] = False
    return out


@dataclass(frozen=True)
class Ranked:
    """Ranked feeds for a block: post indices and scores, best first; -1 / NaN pad short feeds."""

    post_idx: np.ndarray  # (n, k) int
    scores: np.ndarray  # (n, k) float

    @classmethod
    def top_k(cls, scores: np.ndarray, candidates: np.ndarray, k: int) -> Ranked:
        """Keep each row's ``k`` best candidates, best first; ties go to the lower post index.

        Args:
            scores: (n, P) float scores; NaN is treated as the lowest score.
            candidates: (n, P) bool; non-candidates are never returned.
            k: feed size.
        """
        return cls.top_k_of(lambda rows: scores[rows], candidates, k)

    @classmethod
    def top_k_of(
        cls, score_rows: Callable[[slice], np.ndarray], candidates: np.ndarray, k: int
    ) -> Ranked:
        """:meth:`top_k` of scores computed a few rows at a time, as ``score_rows(rows)``.

        The rows are ranked in chunks of about :data:`CHUNK_CELLS` scores, small
        enough to stay in the CPU cache while they are scored and ranked; each
        row's feed depends on that row's scores only, so chunking changes nothing.

        Args:
            score_rows: the (r, P) float scores of a slice of rows (NaN lowest).
            candidates: (n, P) bool; non-candidates are never returned.
            k: feed size.
        """
        n, n_posts = candidates.shape
        k_eff = min(k, n_posts)
        post_idx = np.full((n, k), -1, dtype=np.int64)
        scores = np.full((n, k), np.nan)
        if k_eff == 0:
            return cls(post_idx, scores)
        step = max(1, CHUNK_CELLS // n_posts)
        scratch = Scratch()
        for lo in range(0, n, step):
            rows = slice(lo, min(lo + step, n))
            (key,) = scratch.arrays(1, (rows.stop - lo, n_posts))
            post_idx[rows, :k_eff], scores[rows, :k_eff] = _best(
                score_rows(rows), candidates[rows], k_eff, key
            )
        return cls(post_idx, scores)


class Scratch:
    """Float arrays reused from one chunk to the next (``arrays(m, shape)``: m of that shape).

    Allocating a fresh array of a chunk's size on every chunk costs about as much
    as the arithmetic on it; a chunk no larger than the first reuses its memory.
    """

    def __init__(self) -> None:
        self._buffers: list[np.ndarray] = []

    def arrays(self, m: int, shape: tuple[int, int]) -> list[np.ndarray]:
        """``m`` uninitialised float64 arrays of ``shape``, the same memory as last time if it fits."""
        rows, columns = shape
        fits = len(self._buffers) >= m and all(
            b.shape[0] >= rows and b.shape[1] == columns for b in self._buffers[:m]
        )
        if not fits:
            self._buffers = [np.empty(shape) for _ in range(m)]
        return [b[:rows] for b in self._buffers[:m]]


CHUNK_CELLS = 1 << 16
"""Scores ranked at a time by :meth:`Ranked.top_k_of` (512 kB of float64)."""
LOWEST = -np.finfo(float).max


def _best(
    scores: np.ndarray, candidates: np.ndarray, k: int, key: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(r, k) post indices and scores of each row's ``k <= P`` best candidates, best first.

    Candidates keep their score (NaN and -inf become the lowest finite value, so
    they still beat non-candidates); non-candidates get -inf and come out as -1 / NaN.
    One partition per row finds the k-th best key (the threshold) and the next
    best; a row keeps its keys at or above the threshold, exactly k unless the
    next best ties the k-th: only those rows are redone, taking the lowest post
    indices among the tied. ``key`` is (r, P) scratch space.
    """
    np.fmax(scores, LOWEST, out=key)
    key[~candidates] = -np.inf  # faster than copyto(where=) when few cells are excluded
    r, n_posts = key.shape
    if k < n_posts:
        cut = n_posts - k
        ordered = np.partition(key, cut - 1, axis=1)  # [:, cut - 1] is the (k+1)-th best
        threshold = ordered[:, cut:].min(axis=1, keepdims=True)
        keep = key >= threshold
        ambiguous = np.flatnonzero(ordered[:, cut - 1] == threshold[:, 0])
        if len(ambiguous):
            sub, limit = key[ambiguous], threshold[ambiguous]
            tied = sub == limit
            need = k - (sub > limit).sum(axis=1, keepdims=True)
            keep[ambiguous] = (sub > limit) | (tied & (np.cumsum(tied, axis=1) <= need))
        picked = np.flatnonzero(keep).reshape(r, k) - n_posts * np.arange(r)[:, None]
    else:
        picked = np.broadcast_to(np.arange(n_posts), key.shape)
    row = np.arange(r)[:, None]  # (row, picked) indexing: take_along_axis without its overhead
    order = np.lexsort((picked, -key[row, picked]), axis=1)
    picked = picked[row, order]
    valid = candidates[row, picked]
    post_idx = np.where(valid, picked, -1)
    best = np.where(valid, scores[row, picked], np.nan)
    return post_idx, best


RankFunction = Callable[[FeedInput, Params, np.random.Generator], Ranked]


@dataclass(frozen=True)
class FeedAlgorithm:
    """A registered feed: name, parameter model, ranking function, formula docstring, metadata.

    ``label`` is the display name, ``stochastic`` says whether the ranking draws
    from ``rng`` (a deterministic feed ranks each agent the same in any block),
    ``citations`` are keys into ``docs/references.md``; ``monotone_scores`` is
    False for a feed whose scores may rise along the feed (one that concatenates
    parts scored on different scales).
    """

    name: str
    params: type[Params]
    rank: RankFunction
    doc: str
    label: str
    stochastic: bool
    citations: tuple[str, ...]
    monotone_scores: bool = True

    @property
    def summary(self) -> str:
        """First line of the docstring."""
        return self.doc.strip().splitlines()[0] if self.doc else ""


FEEDS: Registry[FeedAlgorithm] = Registry("feed")


def register(
    name: str,
    params: type[Params],
    *,
    label: str,
    citations: tuple[str, ...],
    stochastic: bool = False,
    monotone_scores: bool = True,
) -> Callable[[RankFunction], RankFunction]:
    """Decorator: register a ranking function under ``name`` with its Params model and metadata.

    The formula documentation is the docstring of the module defining the function.

    Args:
        name: the registry name (``--feed NAME``).
        params: the feed's Params model.
        label: display name, e.g. ``"Popularity (hot)"``.
        citations: reference keys the docstring cites (``docs/references.md``).
        stochastic: whether the ranking draws from ``rng``.
        monotone_scores: whether scores never increase along a ranked feed.
    """

    def build(function: RankFunction) -> FeedAlgorithm:
        import sys

        doc = sys.modules[function.__module__].__doc__ or function.__doc__ or ""
        return FeedAlgorithm(
            name, params, function, doc, label, stochastic, tuple(citations), monotone_scores
        )

    return FEEDS.decorator(name, build)
