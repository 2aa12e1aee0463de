"""Personalized feed: a linear relevance model of interest, like-mindedness, follows and popularity.

    score[a, p] = w_i * I[a, topic(p)] / max_k I[a, k]       interest in the post's topic
                + w_s * (1 - |l[a] - l_p[p]| / 2)            leaning closeness, in [0, 1]
                + w_f * F[a, p]                              1 if a follows p's author
                + w_p * ln(1 + E[p]) / max_q ln(1 + E[q])    popularity, in [0, 1]
                + w_r * 2 ** (-age[p] / h_r)                 recency, in (0, 1]

``I`` is the (n_agents, n_topics) interest matrix (each row is scaled by its
maximum, so every term lies in [0, 1] and the weights are comparable); ``l[a]``
is the agent's current leaning and ``l_p[p]`` the post's; ``E`` is the
engagement of the ``popularity`` feed with its default weights (in-run likes and
comments included), normalised by its maximum over the posts already created;
``age`` is in hours. Recommending what agents already like and agree with is
the confounded recommender of [Chaney2018], whose feedback loop homogenises
what users see. Ties break on post index.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import Field

from simlab.feeds.base import FeedInput, Ranked, Scratch, register
from simlab.feeds.popularity import PopularityParams, engagement
from simlab.params import Params


class PersonalizedParams(Params):
    """Weights of the relevance terms."""

    # Defaults calibrated against [Bakshy2015] by ``simlab validate`` (docs/validation.md).
    interest_weight: float = Field(0.5, ge=0, description="w_i: weight of topic interest")
    leaning_weight: float = Field(0.19, ge=0, description="w_s: weight of leaning closeness")
    follow_weight: float = Field(0.5, ge=0, description="w_f: bonus for a followed author")
    popularity_weight: float = Field(0.5, ge=0, description="w_p: weight of normalised popularity")
    recency_weight: float = Field(0.1, ge=0, description="w_r: weight of the recency term")
    recency_half_life_hours: float = Field(
        24.0, gt=0, description="h_r: hours until the recency term halves"
    )


def relevance(feed: FeedInput, params: PersonalizedParams) -> np.ndarray:
    """(n, P) the personalized score of every post for every agent of the block."""
    return scorer(feed, params)(slice(None))


def scorer(feed: FeedInput, params: PersonalizedParams) -> Callable[[slice], np.ndarray]:
    """The block's scores a slice of rows at a time: ``scorer(feed, params)(rows)`` is (r, P).

    What does not depend on the (agent, post) pair is computed once here: the
    scaled interest rows, the block's follows (as sparse cells) and the per-post
    popularity and recency terms. Every score has the bits :func:`relevance` gives it. The
    returned array is scratch space, overwritten by the next call (fresh
    arrays of this size cost more to allocate than to fill).
    """
    pop = feed.pop
    interests = pop.interests[feed.agents]
    interests = interests / np.maximum(interests.max(axis=1, keepdims=True), 1e-12)
    interests *= params.interest_weight  # scaling before the take: the same products
    leaning = feed.leaning[:, None]
    follow_row, follow_post = feed.follow_cells()
    per_post = post_terms(feed, params)
    scratch = Scratch()

    def score(rows: slice) -> np.ndarray:
        chunk = interests[rows]
        scores, closeness = scratch.arrays(2, (len(chunk), pop.n_posts))
        np.take(chunk, pop.post_topic, axis=1, out=scores)
        # w_s * (1 - |l - l_p| / 2), in place but in the same order of operations (same bits)
        np.subtract(leaning[rows], pop.post_leaning[None, :], out=closeness)
        np.abs(closeness, out=closeness)
        closeness *= 0.5  # the bits of / 2.0 (exact either way), at a multiply's cost
        np.subtract(1.0, closeness, out=closeness)
        closeness *= params.leaning_weight
        scores += closeness
        # + w_f * F: only the followed cells change (adding 0.0 to the others, all >= +0, would not)
        lo, hi = np.searchsorted(follow_row, [rows.start or 0, rows.stop or len(interests)])
        scores[follow_row[lo:hi] - (rows.start or 0), follow_post[lo:hi]] += params.follow_weight
        scores += per_post
        return scores

    return score


def post_terms(feed: FeedInput, params: PersonalizedParams) -> np.ndarray:
    """(P,) the terms that depend on the post only: ``w_p * popularity + w_r * recency``."""
    age = feed.age_hours
    popularity = np.log1p(engagement(feed, PopularityParams()))
    top = popularity[age >= 0].max(initial=0.0)
    popularity = popularity / top if top > 0 else np.zeros_like(popularity)
    recency = 2.0 ** (-np.maximum(age, 0.0) / params.recency_half_life_hours)
    return params.popularity_weight * popularity + params.recency_weight * recency


def max_relevance(params: PersonalizedParams) -> float:
    """The largest score ``relevance`` can give: the sum of the weights (each term is <= 1)."""
    return (
        params.interest_weight
        + params.leaning_weight
        + params.follow_weight
        + params.popularity_weight
        + params.recency_weight
    )


@register("personalized", PersonalizedParams, label="Personalized", citations=("Chaney2018",))
def rank(feed: FeedInput, params: PersonalizedParams, rng: np.random.Generator) -> Ranked:
    """Rank candidates by personalized relevance."""
    return Ranked.top_k_of(scorer(feed, params), feed.candidates, feed.feed_size)
