"""In-network feed: a fixed share of slots from followed authors, the rest from everyone else.

    k_in  = round(s * k)                                   target in-network slots
    n_in  = min(c_in[a], max(k_in, k - c_out[a]))          in-network slots used
    n_out = min(c_out[a], k - n_in)                        out-of-network slots used

    in-network  score[a, p] = -age[p]      (order=chronological)   or  hot[p] (order=popularity)
    out-network score[a, p] = hot[p] = ln(1 + E[p]) - ln(2) * age[p] / h

``s`` is the in-network share, ``k`` the feed size, ``c_in[a]`` / ``c_out[a]``
the agent's candidates whose author it follows / does not follow, and ``hot``
the score of the ``popularity`` feed (default engagement weights, half-life
``h``). When one pool runs short the other fills the slots. The feed lists the
``n_in`` best in-network posts first, then the ``n_out`` best out-of-network
posts, so scores are non-increasing within each part but not across them (the
two scores are not comparable). The follow-ratio knob of Y Social's
``rchrono_followers`` feed and MOSAIC's followee-plus-others feed; the
in-network condition of [Tornberg2023].
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from simlab.feeds.base import FeedInput, Ranked, register
from simlab.feeds.popularity import PopularityParams, hot
from simlab.params import Params


class InNetworkParams(Params):
    """The share of in-network slots and how each pool is ordered."""

    in_network_share: float = Field(
        0.8, ge=0, le=1, description="s: share of feed slots for posts by followed authors"
    )
    order: Literal["chronological", "popularity"] = Field(
        "chronological", description="order of in-network posts: newest first or by hot score"
    )
    half_life_hours: float = Field(6.0, gt=0, description="h: half-life of the hot score, in hours")


@register(
    "in_network",
    InNetworkParams,
    label="In-network",
    citations=("Tornberg2023",),
    monotone_scores=False,  # in-network part, then out-of-network part
)
def rank(feed: FeedInput, params: InNetworkParams, rng: np.random.Generator) -> Ranked:
    """Fill the in-network share of each feed, then the rest from out-of-network posts."""
    k = feed.feed_size
    followed = feed.follows_author
    inside = feed.candidates & followed
    outside = feed.candidates & ~followed
    popular = hot(feed, PopularityParams(half_life_hours=params.half_life_hours))
    in_scores = -feed.age_hours if params.order == "chronological" else popular
    shape = feed.candidates.shape
    best_in = Ranked.top_k(np.broadcast_to(in_scores, shape), inside, k)
    best_out = Ranked.top_k(np.broadcast_to(popular, shape), outside, k)
    c_in = inside.sum(axis=1, keepdims=True)
    c_out = outside.sum(axis=1, keepdims=True)
    n_in = np.minimum(c_in, np.maximum(int(np.floor(params.in_network_share * k + 0.5)), k - c_out))
    n_out = np.minimum(c_out, k - n_in)
    slot = np.arange(k)
    keep = np.concatenate([slot < n_in, slot < n_out], axis=1)
    post_idx = np.concatenate([best_in.post_idx, best_out.post_idx], axis=1)
    scores = np.concatenate([best_in.scores, best_out.scores], axis=1)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    kept = np.take_along_axis(keep, order, axis=1)
    return Ranked(
        np.where(kept, np.take_along_axis(post_idx, order, axis=1), -1),
        np.where(kept, np.take_along_axis(scores, order, axis=1), np.nan),
    )
