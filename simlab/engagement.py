"""Engagement from outside the run, as it stood at each turn: no future information.

Feeds and the policy see, for post ``p`` at turn clock ``t``,

    likes_p(t)    = L0_p + ⌊λ_l · h_p(t)⌋ + (likes given inside the run before t)
    comments_p(t) = C0_p + ⌊λ_c · h_p(t)⌋ + (comments written inside the run before t)
    reposts_p(t)  = R0_p
    h_p(t)        = max(0, t − o_p) / 3600   (hours since the origin o_p)

``history = "causal"`` (the default): a post starts from what existed when the
run could have observed it. A post *observed* on a real platform (any source
but ``synthetic``) and created before the simulation start carries its stored
counts (``L0, C0, R0`` = like, reply, repost + quote counts; they stand for
the engagement up to the start) and its origin is the start; every other post
(all synthetic posts, imported posts created after the start, agent posts)
starts at 0 at its creation time ``o_p = created_p``. The exogenous
*background* ``λ_l`` likes and ``λ_c`` comments per post-hour stand for the
platform outside the simulated population; they accrue as their expected
counts (a fluid approximation of a Poisson process, so they need no random
draws and a resumed run rebuilds them from the clock). Every term is
non-decreasing in ``t`` and a post has 0 likes at birth unless it was observed
before the start.

``history = "lifetime"`` is the behaviour before issue 10, kept only to
reproduce old runs: every post carries its stored (lifetime) counts from birth.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simlab.feeds.base import SECONDS_PER_HOUR
from simlab.world import Population


class EngagementConfig(BaseModel):
    """Which starting engagement posts carry, and the exogenous background rates."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    history: Literal["causal", "lifetime"] = Field(
        "causal",
        description="causal: counts only for observed posts older than the start, else 0 at "
        "birth; lifetime: stored counts from birth (the pre-issue-10 behaviour)",
    )
    background_likes_per_hour: float = Field(
        0.05, ge=0, le=1e4, description="λ_l: exogenous likes per post per hour"
    )
    background_comments_per_hour: float = Field(
        0.01, ge=0, le=1e4, description="λ_c: exogenous comments per post per hour"
    )


@dataclass(frozen=True)
class Exogenous:
    """Per-post starting counts and origins (module docstring), extended as posts arrive."""

    likes: np.ndarray  # (P,) int L0
    comments: np.ndarray  # (P,) int C0
    reposts: np.ndarray  # (P,) int R0
    origin: np.ndarray  # (P,) float POSIX seconds o_p

    @classmethod
    def at_start(cls, pop: Population, start: float, config: EngagementConfig) -> Exogenous:
        """Starting counts of ``pop``'s posts for a run whose turn 0 is at ``start``."""
        if config.history == "lifetime":
            carried = np.ones(pop.n_posts, dtype=bool)
        else:
            observed = pop.post_observed
            if observed is None:
                observed = np.ones(pop.n_posts, dtype=bool)
            carried = observed & (pop.post_created <= start)
        origin = np.where(carried & (pop.post_created <= start), start, pop.post_created)
        return cls(
            np.where(carried, pop.post_likes, 0).astype(np.int64),
            np.where(carried, pop.post_comments, 0).astype(np.int64),
            np.where(carried, pop.post_reposts, 0).astype(np.int64),
            origin.astype(float),
        )

    def extend(self, created: np.ndarray) -> Exogenous:
        """The same with new posts (no engagement yet) created at ``created``."""
        zeros = np.zeros(len(created), dtype=np.int64)
        return Exogenous(
            np.concatenate([self.likes, zeros]),
            np.concatenate([self.comments, zeros]),
            np.concatenate([self.reposts, zeros]),
            np.concatenate([self.origin, np.asarray(created, dtype=float)]),
        )

    def visible(self, pop: Population, now: float, config: EngagementConfig) -> Population:
        """``pop`` with ``post_likes / post_comments / post_reposts`` as seen at ``now``.

        The run's own likes and comments are not included (they are in the state).
        """
        hours = np.maximum(now - self.origin, 0.0) / SECONDS_PER_HOUR
        likes = self.likes + np.floor(config.background_likes_per_hour * hours).astype(np.int64)
        comments = self.comments + np.floor(config.background_comments_per_hour * hours).astype(
            np.int64
        )
        return replace(pop, post_likes=likes, post_comments=comments, post_reposts=self.reposts)
