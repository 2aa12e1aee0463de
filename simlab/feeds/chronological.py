"""Reverse-chronological feed: newest posts first (the schema's default algorithm).

    score[a, p] = -age_hours[p]

Every agent sees the newest visible candidates; ties break on post id. The
baseline against which algorithmic feeds are compared in [Guess2023].
"""

from __future__ import annotations

import numpy as np

from simlab.feeds.base import FeedInput, Ranked, register
from simlab.params import Params


class ChronologicalParams(Params):
    """The chronological feed has no parameters."""


@register("chronological", ChronologicalParams, label="Chronological", citations=("Guess2023",))
def rank(feed: FeedInput, params: ChronologicalParams, rng: np.random.Generator) -> Ranked:
    """Rank candidates newest first."""
    scores = np.broadcast_to(-feed.age_hours, feed.candidates.shape)
    return Ranked.top_k(scores, feed.candidates, feed.feed_size)
