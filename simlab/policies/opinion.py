"""Opinion dynamics: how exposure moves an agent's leaning (bounded confidence).

For agent ``a`` with leaning ``x_a`` served posts with leanings ``x_p``:

    Δ_a = μ · mean_{p : |x_p − x_a| < ε} (x_p − x_a)                 (assimilation)
        − μ · β · mean_{p : |x_p − x_a| > ρ} sign(x_p − x_a)·(1 − |x_a|)   (backfire)

and ``x_a ← clip(x_a + Δ_a, −1, 1)``. Posts within the confidence bound ε pull
the agent toward them [Deffuant2000][Hegselmann2002]; with β > 0, posts further
than ρ push it away (set β = 0, the default, for pure bounded confidence).
Agents that were not active this turn do not move.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class OpinionParams(BaseModel):
    """Bounded-confidence drift parameters (``enabled = false`` freezes leanings)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(True, description="whether leanings drift with exposure")
    epsilon: float = Field(0.5, gt=0, le=2, description="ε: confidence bound for assimilation")
    mu: float = Field(0.05, ge=0, le=1, description="μ: step size per turn")
    backfire: float = Field(0.0, ge=0, le=1, description="β: strength of repulsion (0 = off)")
    rejection: float = Field(1.2, gt=0, le=2, description="ρ: distance beyond which posts repel")


def update(
    leaning: np.ndarray, agents: np.ndarray, exposure: np.ndarray, params: OpinionParams
) -> np.ndarray:
    """New leanings after one turn of exposure (the module docstring's formula).

    Args:
        leaning: (n_agents,) current leanings.
        agents: (n,) indices of the agents that were served feeds.
        exposure: (n, k) leanings of the served posts, NaN for empty slots.
        params: the drift parameters.

    Returns:
        (n_agents,) updated leanings (a new array).
    """
    new = leaning.copy()
    if not params.enabled or len(agents) == 0:
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
