"""Bridging feed: posts engaged with by the other side of the leaning divide rank first.

    L[p], R[p]  = number of left- (l < 0) / right-leaning (l > 0) agents who liked or commented on p
    O[a, p]     = R[p] if l[a] < 0,  L[p] if l[a] > 0,  min(L[p], R[p]) if l[a] = 0
    score[a, p] = w_o * ln(1 + O[a, p])                       out-party engagement
                + w_b * ln(1 + min(L[p], R[p]))               engagement from both sides
                + w_0 * (1 - |l_p[p]|) * ln(1 + E0[p])        prior: cross-cutting appeal
                - ln(2) * age[p] / h                          time decay, as in ``popularity``

``l`` is the agents' current leaning, ``l_p`` the post's leaning, ``E0`` the
post's starting likes + comments (engagement from outside the run, whose side is
unknown), ``age`` is in hours and ``h`` the half-life. ``L`` and ``R`` are
counted from ``state.acted`` over every agent, so they count likes *and*
comments given inside the run, by the side each agent is on now; an agent's
own side adds nothing. Before any in-run engagement the prior ranks posts that
are both engaged with and near the centre of the divide (cross-cutting appeal
``1 - |l_p|``). Ranking by out-party likes is the bridging feed of
[Tornberg2023]; the ``min(L, R)`` term rewards approval from both sides, the
core idea of bridging-based ranking [Ovadya2023]. Ties break on post index.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simlab.feeds.base import FeedInput, Ranked, register
from simlab.feeds.popularity import decay
from simlab.params import Params


class BridgingParams(Params):
    """Weights of out-party, both-sides and prior engagement, and the half-life."""

    out_party_weight: float = Field(
        1.0, ge=0, description="w_o: weight of engagement from the other side"
    )
    balance_weight: float = Field(
        1.0, ge=0, description="w_b: weight of min(left, right) engagement"
    )
    prior_weight: float = Field(
        0.25, ge=0, description="w_0: weight of starting engagement times cross-cutting appeal"
    )
    half_life_hours: float = Field(6.0, gt=0, description="h: hours until a post's score halves")


def engagement_by_side(feed: FeedInput) -> tuple[np.ndarray, np.ndarray]:
    """(P,) in-run likes + comments from left-leaning agents, and from right-leaning agents."""
    acted, leaning = feed.state.acted, feed.state.leaning
    return acted.column_counts(leaning < 0), acted.column_counts(leaning > 0)


@register("bridging", BridgingParams, label="Bridging", citations=("Tornberg2023", "Ovadya2023"))
def rank(feed: FeedInput, params: BridgingParams, rng: np.random.Generator) -> Ranked:
    """Rank candidates by cross-side engagement with time decay."""
    pop = feed.pop
    left, right = engagement_by_side(feed)
    both = np.minimum(left, right)
    leaning = feed.leaning[:, None]
    log_left, log_right, log_both = np.log1p(left), np.log1p(right), np.log1p(both)
    out_party = np.where(leaning < 0, log_right, np.where(leaning > 0, log_left, log_both))
    prior = (1.0 - np.abs(pop.post_leaning)) * np.log1p(pop.post_likes + pop.post_comments)
    per_post = (
        params.balance_weight * log_both
        + params.prior_weight * prior
        + decay(feed, params.half_life_hours)
    )
    scores = params.out_party_weight * out_party + per_post
    return Ranked.top_k(scores, feed.candidates, feed.feed_size)
