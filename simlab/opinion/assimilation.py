"""Fixed-media assimilation: served posts within a confidence bound pull an agent's leaning.

For agent ``a`` with leaning ``x_a`` served posts with leanings ``x_p``:

    Δ_a = μ · mean_{p : |x_p − x_a| < ε} (x_p − x_a)                        (assimilation)
        − μ · β · mean_{p : |x_p − x_a| > ρ} sign(x_p − x_a) · (1 − |x_a|)     (backfire)

and ``x_a ← clip(x_a + Δ_a, −1, 1)``. The bounded-confidence rule (only close
opinions pull) is that of [Deffuant2000] and [Hegselmann2002], but this is
neither model: the other side of each "meeting" is a post, whose leaning never
moves (fixed media), and the step is μ times the *mean* difference, so one
in-range post moves an agent as far as twenty that agree. With β > 0, posts
further than ρ push the agent away (β = 0, the default, turns that off).
Agents that were not served a feed this turn do not move.

``aggregation = "per_item"`` makes the model exposure-weighted: each served
item acts on its own, in feed order (slot 1 first), with the current ``x_a``:

    |x_p − x_a| < ε:   x_a ← clip(x_a + μ · (x_p − x_a), −1, 1)
    |x_p − x_a| > ρ:   x_a ← clip(x_a − μ · β · sign(x_p − x_a) · (1 − |x_a|), −1, 1)

so twenty in-range items move an agent further than one. The default,
``"mean"``, is the formula above (and what every run used before the option).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from simlab.opinion.base import OpinionInput, register
from simlab.params import Params


class AssimilationParams(Params):
    """Confidence bound, step size and optional backfire."""

    epsilon: float = Field(0.5, gt=0, le=2, description="ε: confidence bound for assimilation")
    mu: float = Field(0.05, ge=0, le=1, description="μ: step size per turn")
    backfire: float = Field(0.0, ge=0, le=1, description="β: strength of repulsion (0 = off)")
    rejection: float = Field(1.2, gt=0, le=2, description="ρ: distance beyond which posts repel")
    aggregation: Literal["mean", "per_item"] = Field(
        "mean", description="mean: one step of μ times the mean pull; per_item: a step per item"
    )


@register(
    "assimilation",
    AssimilationParams,
    label="Fixed-media assimilation",
    citations=("Deffuant2000", "Hegselmann2002"),
)
def update(turn: OpinionInput, params: AssimilationParams, rng: np.random.Generator) -> np.ndarray:
    """New leanings after one turn of exposure (the module docstring's formula).

    Returns:
        (n_agents,) updated leanings (a new array).
    """
    leaning, agents, exposure = turn.leaning, turn.agents, turn.exposure
    new = leaning.copy()
    if len(agents) == 0:
        return new
    if params.aggregation == "per_item":
        new[agents] = per_item(leaning[agents], exposure, params)
        return new
    x = leaning[agents][:, None]
    diff = exposure - x
    served = ~np.isnan(exposure)
    close = served & (np.abs(diff) < params.epsilon)
    far = served & (np.abs(diff) > params.rejection)
    pull = np.where(close, diff, 0.0).sum(axis=1) / np.maximum(close.sum(axis=1), 1)
    push = np.where(far, np.sign(diff), 0.0).sum(axis=1) / np.maximum(far.sum(axis=1), 1)
    delta = params.mu * pull - params.mu * params.backfire * push * (1 - np.abs(x[:, 0]))
    new[agents] = np.clip(x[:, 0] + delta, -1.0, 1.0)
    return new


def per_item(x: np.ndarray, exposure: np.ndarray, params: AssimilationParams) -> np.ndarray:
    """(n,) leanings after each of the (n, k) exposures acted in turn (``per_item`` formula)."""
    for item in exposure.T:  # one slot at a time, for every served agent at once
        diff = item - x
        close = np.abs(diff) < params.epsilon
        far = np.abs(diff) > params.rejection
        pull = np.where(close, params.mu * diff, 0.0)
        push = np.where(far, params.mu * params.backfire * np.sign(diff) * (1 - np.abs(x)), 0.0)
        x = np.clip(x + pull - push, -1.0, 1.0)
    return x
