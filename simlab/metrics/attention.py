"""How unequally likes given inside the run are spread over posts and their authors.

Inequality is the Gini coefficient [Gini1912], as used for attention in
artificial cultural markets [Salganik2006]. Only likes given inside the run
(``state.sim_likes``) count, not the starting like counts of imported posts.

The Gini runs over the *eligible* posts: those that were in some turn's
candidate pool so far (``state.eligible``), agent posts included. A post no
feed could serve has 0 likes by construction; counting it (as before issue 10)
adds structural zeros, so perfectly equal likes over the served posts read as
inequality (with 1,748 of 3,000 posts eligible, equal likes gave G = 0.417).
"""

from __future__ import annotations

import math

import numpy as np

from simlab.metrics.base import RunData, TurnData, metric
from simlab.world import Population, SimState


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values [Gini1912].

    G = Σ_i Σ_j |x_i − x_j| / (2 n² x̄), computed in O(n log n) from the sorted
    values x_(1) <= … <= x_(n) as G = Σ_i (2i − n − 1) x_(i) / (n Σ_i x_i).

    Args:
        values: (n,) non-negative values.

    Returns:
        G in [0, 1 − 1/n]; 0 if every value is 0; NaN if there are no values.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0:
        return math.nan
    if x.sum() == 0:
        return 0.0
    weights = 2 * np.arange(1, n + 1) - n - 1
    return float((weights * x).sum() / (n * x.sum()))


def eligible(state: SimState) -> np.ndarray:
    """(n_posts,) bool: the posts some candidate pool held so far (all posts if unknown)."""
    if state.eligible is None:
        return np.ones(len(state.sim_likes), dtype=bool)
    return state.eligible


def post_likes(state: SimState) -> np.ndarray:
    """(n,) in-run likes of the n eligible posts."""
    return state.sim_likes[eligible(state)]


def author_likes(pop: Population, state: SimState) -> np.ndarray:
    """(m,) in-run likes summed per author, over the m accounts that authored an eligible post."""
    keep = eligible(state)
    authors = pop.post_author[: len(keep)][keep]
    per_account = np.bincount(authors, weights=state.sim_likes[keep], minlength=pop.n_accounts)
    return per_account[np.unique(authors)]


@metric(
    "turn.attention.like_gini_posts",
    label="Like concentration over posts",
    unit="Gini, 0–1",
    value_range=(0, 1),
    citations=("Gini1912",),
)
def like_gini_posts(data: TurnData) -> float:
    """Inequality of in-run likes over eligible posts, cumulative to this turn [Gini1912].

    G = Σ_i Σ_j |x_i − x_j| / (2 n² x̄) with x_i the likes post i received in
    this run so far, over the n posts that were in some turn's candidate pool
    up to this turn (eligible posts with no likes count as 0; posts never
    eligible are left out, since no feed could serve them).

    Range: [0, 1 − 1/n]; 0 while nobody has liked anything.
    """
    return gini(post_likes(data.state))


@metric(
    "turn.attention.like_gini_authors",
    label="Like concentration over authors",
    unit="Gini, 0–1",
    value_range=(0, 1),
    citations=("Gini1912",),
)
def like_gini_authors(data: TurnData) -> float:
    """Inequality of in-run likes over authors, cumulative to this turn [Gini1912].

    G = Σ_i Σ_j |x_i − x_j| / (2 m² x̄) with x_i the in-run likes summed over
    the eligible posts of account i, over the m accounts that authored at least
    one eligible post (a post in some turn's candidate pool so far).

    Range: [0, 1 − 1/m]; 0 while nobody has liked anything.
    """
    return gini(author_likes(data.pop, data.state))


@metric(
    "run.attention.like_gini_posts",
    label="Like concentration over posts",
    unit="Gini, 0–1",
    value_range=(0, 1),
    citations=("Gini1912",),
)
def run_like_gini_posts(data: RunData) -> float:
    """Inequality of in-run likes over eligible posts at the end of the run [Gini1912].

    G = Σ_i Σ_j |x_i − x_j| / (2 n² x̄) with x_i = final.sim_likes[i], over the n
    posts that were in some turn's candidate pool (``final.eligible``).

    Range: [0, 1 − 1/n]; 0 if nobody liked anything.
    """
    return gini(post_likes(data.final))


@metric(
    "run.attention.like_gini_authors",
    label="Like concentration over authors",
    unit="Gini, 0–1",
    value_range=(0, 1),
    citations=("Gini1912",),
)
def run_like_gini_authors(data: RunData) -> float:
    """Inequality of in-run likes over authors at the end of the run [Gini1912].

    G = Σ_i Σ_j |x_i − x_j| / (2 m² x̄) with x_i the final in-run likes summed
    over the eligible posts of account i, over the m accounts that authored an
    eligible post.

    Range: [0, 1 − 1/m]; 0 if nobody liked anything.
    """
    return gini(author_likes(data.pop, data.final))
