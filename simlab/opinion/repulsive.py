"""Assimilation and repulsion (social judgement theory): close items attract, distant ones repel.

Each item served to agent ``a`` moves it in turn, in feed order (slot 1 first),
as in the attitude model of [Jager2005]; with ``d = x_p − x_a``:

    |d| < u          x_a ← x_a + μ d           (latitude of acceptance: assimilation)
    u ≤ |d| ≤ t      no change                 (non-commitment)
    |d| > t          x_a ← x_a − μ d           (latitude of rejection: repulsion)

and ``x_a`` is clipped to [-1, 1] after every step. Because each item acts on
its own, twenty accepted items move an agent further than one. The thresholds
are on the [-1, 1] scale (the paper's attitude scale spans the same range).
Agents that were not served a feed stay.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from simlab.errors import InputError
from simlab.opinion.base import OpinionInput, register
from simlab.params import Params


class RepulsiveParams(Params):
    """Latitudes of acceptance and rejection, and the step size."""

    acceptance: float = Field(0.4, gt=0, le=2, description="u: items closer than this attract")
    rejection: float = Field(1.2, gt=0, le=2, description="t: items further than this repel")
    mu: float = Field(0.05, gt=0, le=0.5, description="μ: share of the gap one item moves")

    @model_validator(mode="after")
    def _ordered(self) -> RepulsiveParams:
        if self.acceptance > self.rejection:
            raise InputError(
                "opinion model 'repulsive': acceptance must not exceed rejection "
                f"(got {self.acceptance} > {self.rejection})"
            )
        return self


@register(
    "repulsive",
    RepulsiveParams,
    label="Assimilation and repulsion (Jager–Amblard)",
    citations=("Jager2005",),
)
def update(turn: OpinionInput, params: RepulsiveParams, rng: np.random.Generator) -> np.ndarray:
    """Apply each served item's attraction or repulsion in feed order (module docstring)."""
    new = turn.leaning.astype(float).copy()
    x = new[turn.agents]
    for item in turn.exposure.T:  # one slot at a time, for every served agent at once
        gap = item - x
        distance = np.abs(gap)
        step = np.where(distance < params.acceptance, gap, 0.0)
        step = np.where(distance > params.rejection, -gap, step)
        x = np.clip(x + params.mu * np.where(np.isnan(item), 0.0, step), -1.0, 1.0)
    new[turn.agents] = x
    return new
