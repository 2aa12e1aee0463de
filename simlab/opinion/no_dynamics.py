"""No opinion dynamics: every leaning stays where it started (the baseline).

    x_a(t + 1) = x_a(t)   for every agent a

Use it to separate what feeds change in exposure and engagement from what an
opinion model adds on top.
"""

from __future__ import annotations

import numpy as np

from simlab.opinion.base import OpinionInput, register
from simlab.params import Params


class NoDynamicsParams(Params):
    """The baseline has no parameters."""


@register("none", NoDynamicsParams, label="No opinion dynamics", citations=())
def update(turn: OpinionInput, params: NoDynamicsParams, rng: np.random.Generator) -> np.ndarray:
    """The leanings, unchanged (a new array)."""
    return turn.leaning.copy()
