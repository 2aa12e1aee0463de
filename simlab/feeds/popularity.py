"""Popularity ("hot") feed: engagement with exponential time decay, the same for every agent.

    E[p]        = w_l * likes[p] + w_c * comments[p] + w_r * reposts[p]
    score[a, p] = ln(1 + E[p]) - ln(2) * age[p] / h  =  ln((1 + E[p]) * 2 ** (-age[p] / h))

``likes`` and ``comments`` are the starting counts plus those given inside the
run (so a liked post climbs and gets liked more: a feedback loop); ``reposts``
are the starting repost + quote counts; ``age`` is in hours and ``h`` is the
half-life in hours. The score is the logarithm of Reddit's "hot" ranking
[Reddit2009] with a continuous half-life: each ``h`` hours cost a post a factor
of two in engagement. Working in logs keeps months-old imported posts from
underflowing to a tie. Posts without engagement come newest first; ties break
on post index.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simlab.feeds.base import FeedInput, Ranked, register
from simlab.params import Params


class PopularityParams(Params):
    """Weights of each kind of engagement and the half-life of a post's score."""

    half_life_hours: float = Field(6.0, gt=0, description="h: hours until a post's score halves")
    like_weight: float = Field(1.0, ge=0, description="w_l: weight of one like")
    comment_weight: float = Field(2.0, ge=0, description="w_c: weight of one comment")
    repost_weight: float = Field(1.0, ge=0, description="w_r: weight of one repost or quote")


def engagement(feed: FeedInput, params: PopularityParams) -> np.ndarray:
    """(P,) weighted engagement ``E[p]`` per post, in-run likes and comments included."""
    return (
        params.like_weight * feed.likes
        + params.comment_weight * feed.comments
        + params.repost_weight * feed.pop.post_reposts
    )


def decay(feed: FeedInput, half_life_hours: float) -> np.ndarray:
    """(P,) the log time decay ``-ln(2) * age[p] / h``."""
    return -np.log(2.0) * feed.age_hours / half_life_hours


def hot(feed: FeedInput, params: PopularityParams) -> np.ndarray:
    """(P,) the hot score ``ln(1 + E[p]) - ln(2) * age[p] / h`` of every post."""
    return np.log1p(engagement(feed, params)) + decay(feed, params.half_life_hours)


@register("popularity", PopularityParams, label="Popularity (hot)", citations=("Reddit2009",))
def rank(feed: FeedInput, params: PopularityParams, rng: np.random.Generator) -> Ranked:
    """Rank candidates by hot score."""
    scores = np.broadcast_to(hot(feed, params), feed.candidates.shape)
    return Ranked.top_k(scores, feed.candidates, feed.feed_size)
