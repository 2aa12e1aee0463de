"""Deffuant–Weisbuch bounded confidence: each served post by another agent is a meeting.

Every served item whose author is an agent ``b`` is a meeting between the
viewer ``a`` and ``b`` [Deffuant2000]. Meetings are played one at a time, in an
order drawn from ``rng``; in each, with the current leanings ``x_a``, ``x_b``:

    if |x_a − x_b| < ε:   x_a ← x_a + μ (x_b − x_a)
                          x_b ← x_b + μ (x_a − x_b)     (both with the pre-meeting values)

so both sides move (the author too, active this turn or not) and stay in
[-1, 1]. Items by outside accounts are no meeting and move nobody. Leanings
here span [-1, 1], twice the unit interval of the paper, so its ε is ``2 ε``
here (the paper's ε = 0.25 is ``epsilon = 0.5``); μ is the same (0 < μ ≤ 0.5,
0.5 meaning both meet in the middle). The meetings are a Python loop, one
step per agent-authored served item.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simlab.opinion.base import OpinionInput, register
from simlab.params import Params


class DeffuantParams(Params):
    """Confidence bound and convergence rate of the pairwise meetings."""

    epsilon: float = Field(
        0.5, gt=0, le=2, description="ε: leanings closer than this meet (scale [-1, 1])"
    )
    mu: float = Field(0.3, gt=0, le=0.5, description="μ: share of the gap each side closes")


def meetings(turn: OpinionInput) -> tuple[np.ndarray, np.ndarray]:
    """(M,) viewers and (M,) agent authors of every agent-authored served item, feed order."""
    rows, slots = np.nonzero(turn.served >= 0)
    authors = turn.pop.post_author[turn.served[rows, slots]]
    by_agent = authors < turn.pop.n_agents
    return turn.agents[rows[by_agent]], authors[by_agent]


@register(
    "deffuant",
    DeffuantParams,
    label="Deffuant pairwise meetings",
    citations=("Deffuant2000",),
    stochastic=True,
)
def update(turn: OpinionInput, params: DeffuantParams, rng: np.random.Generator) -> np.ndarray:
    """New leanings after this turn's meetings, in an order drawn from ``rng``."""
    viewers, authors = meetings(turn)
    order = rng.permutation(len(viewers))
    x = turn.leaning.astype(float).tolist()
    epsilon, mu = params.epsilon, params.mu
    for a, b in zip(viewers[order].tolist(), authors[order].tolist(), strict=True):
        gap = x[b] - x[a]
        if abs(gap) < epsilon:
            x[a] += mu * gap
            x[b] -= mu * gap
    return np.clip(np.array(x), -1.0, 1.0)
