"""Diverse feed: maximal marginal relevance (MMR) re-ranking of the personalized feed.

    rel[a, p]  = personalized score (see ``personalized``) / the sum of its weights, in [0, 1]
    pool[a]    = the agent's top M = pool_factor * k candidates by rel
    sim(p, q)  = (1 - b) * [topic(p) = topic(q)] + b * (1 - |l_p[p] - l_p[q]| / 2)
    pick_t     = argmax over unpicked p in pool[a] of
                 lam * rel[a, p] - (1 - lam) * max over picked q of sim(p, q)

Slots are filled greedily, t = 1..k; the first pick is the most relevant post
(nothing is picked yet, so the max is 0). ``sim`` is 1 for two posts on the same
topic with the same leaning ``l_p``, ``1 - b`` for the same topic at opposite
ends, and at most ``b`` across topics. ``mmr_lambda = 1`` gives the personalized feed;
smaller ``mmr_lambda`` trades relevance for topic and viewpoint variety. The returned
score of each slot is its MMR value when picked, which never increases from one
slot to the next. MMR is from [Carbonell1998]. Ties break on relevance, then
post index.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simlab.feeds.base import FeedInput, Ranked, register
from simlab.feeds.personalized import PersonalizedParams, max_relevance, relevance


class DiverseParams(PersonalizedParams):
    """MMR trade-off and pool size, plus the relevance weights of ``personalized``."""

    mmr_lambda: float = Field(
        0.7, ge=0, le=1, description="λ: weight of relevance against redundancy"
    )
    pool_factor: int = Field(
        5, ge=1, le=100, description="M = pool_factor * k: top candidates by relevance to re-rank"
    )
    leaning_similarity: float = Field(
        0.3, ge=0, le=1, description="b: share of post similarity from leaning closeness"
    )


@register("diverse", DiverseParams, label="Diverse (MMR)", citations=("Carbonell1998",))
def rank(feed: FeedInput, params: DiverseParams, rng: np.random.Generator) -> Ranked:
    """Re-rank each agent's most relevant candidates greedily by MMR."""
    k = feed.feed_size
    pool = Ranked.top_k(relevance(feed, params), feed.candidates, params.pool_factor * k)
    valid = pool.post_idx >= 0
    rel = np.where(valid, pool.scores / (max_relevance(params) or 1.0), 0.0)
    topic = feed.pop.post_topic[pool.post_idx]
    leaning = feed.pop.post_leaning[pool.post_idx]
    b, lam = params.leaning_similarity, params.mmr_lambda
    n, rows = len(rel), np.arange(len(rel))
    max_sim = np.zeros_like(rel)
    open_ = valid.copy()
    post_idx = np.full((n, k), -1, dtype=np.int64)
    scores = np.full((n, k), np.nan)
    for t in range(k):
        mmr = np.where(open_, lam * rel - (1 - lam) * max_sim, -np.inf)
        pick = mmr.argmax(axis=1)
        found = open_[rows, pick]
        post_idx[:, t] = np.where(found, pool.post_idx[rows, pick], -1)
        scores[:, t] = np.where(found, mmr[rows, pick], np.nan)
        open_[rows, pick] = False
        same_topic = topic == topic[rows, pick][:, None]
        closeness = 1.0 - np.abs(leaning - leaning[rows, pick][:, None]) / 2.0
        max_sim = np.maximum(max_sim, (1 - b) * same_topic + b * closeness)
    return Ranked(post_idx, scores)
