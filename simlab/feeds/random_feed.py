"""Random feed: candidates in uniformly random order, the baseline with no ranking signal.

    score[a, p] ~ Uniform[0, 1), independently for every agent and post

Every draw comes from the run's ``rng``, so the same seed gives the same feeds.
A random recommender is the null baseline in [Chaney2018]; every candidate has
the same chance of any slot.
"""

from __future__ import annotations

import numpy as np

from simlab.feeds.base import FeedInput, Ranked, register
from simlab.params import Params


class RandomParams(Params):
    """The random feed has no parameters."""


@register("random", RandomParams, label="Random", citations=("Chaney2018",), stochastic=True)
def rank(feed: FeedInput, params: RandomParams, rng: np.random.Generator) -> Ranked:
    """Rank candidates by independent uniform draws."""
    scores = rng.random(feed.candidates.shape)
    return Ranked.top_k(scores, feed.candidates, feed.feed_size)
