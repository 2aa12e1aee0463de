"""Hegselmann–Krause bounded confidence: move to the mean of the exposures within reach.

For an agent ``a`` served items with leanings ``x_p`` this turn [Hegselmann2002]:

    I_a        = {p served to a : |x_p − x_a| ≤ ε}
    x_a ← (x_a + Σ_{p ∈ I_a} x_p) / (1 + |I_a|)

the mean of the agent's own leaning and every in-confidence exposure (the
agent counts itself, as in the paper's ``I(i, x) ∋ i``). All agents update at
once from the leanings before the turn. The exposures are the served posts'
leanings (the posts do not move); agents that were not served a feed stay.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simlab.opinion.base import OpinionInput, register
from simlab.params import Params


class HegselmannKrauseParams(Params):
    """The confidence bound."""

    epsilon: float = Field(
        0.4, gt=0, le=2, description="ε: exposures at most this far count (scale [-1, 1])"
    )


@register(
    "hegselmann_krause",
    HegselmannKrauseParams,
    label="Hegselmann–Krause mean of the confidence set",
    citations=("Hegselmann2002",),
)
def update(
    turn: OpinionInput, params: HegselmannKrauseParams, rng: np.random.Generator
) -> np.ndarray:
    """Each served agent's new leaning: the mean over itself and its in-confidence exposures."""
    new = turn.leaning.astype(float).copy()
    x = new[turn.agents][:, None]
    exposure = turn.exposure
    within = ~np.isnan(exposure) & (np.abs(exposure - x) <= params.epsilon)
    total = x[:, 0] + np.where(within, exposure, 0.0).sum(axis=1)
    new[turn.agents] = np.clip(total / (1 + within.sum(axis=1)), -1.0, 1.0)
    return new
