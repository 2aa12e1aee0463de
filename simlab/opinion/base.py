"""The opinion-model interface: what a model sees after a turn, and the registry.

An opinion model is a function ``update(turn: OpinionInput, params, rng) -> leaning``
that returns every agent's new leaning, shape ``(n_agents,)``, in [-1, 1], as a
new array (the input is never changed). It runs once per turn, after the
policy's actions, over the ``n`` agents that were served feeds of ``k`` items.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simlab.params import Params
from simlab.registry import Registry
from simlab.world import Population, SimState


@dataclass(frozen=True)
class OpinionInput:
    """One turn as an opinion model sees it (before the leaning update)."""

    pop: Population
    state: SimState  # after this turn's actions; ``state.leaning`` is not yet updated
    turn: int
    agents: np.ndarray  # (n,) agents that were served feeds this turn
    served: np.ndarray  # (n, k) post indices served, best first; -1 pads short feeds

    @property
    def leaning(self) -> np.ndarray:
        """(n_agents,) every agent's leaning before this turn's update."""
        return self.state.leaning

    @property
    def exposure(self) -> np.ndarray:
        """(n, k) leaning of each served post; NaN for empty slots."""
        return np.where(self.served >= 0, self.pop.post_leaning[np.maximum(self.served, 0)], np.nan)


UpdateFunction = Callable[[OpinionInput, Params, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class OpinionModel:
    """A registered opinion model: name, parameters, update function, docstring, metadata.

    ``label`` is the display name, ``stochastic`` says whether the update draws
    from ``rng``, ``citations`` are keys into ``docs/references.md``.
    """

    name: str
    params: type[Params]
    update: UpdateFunction
    doc: str
    label: str
    stochastic: bool
    citations: tuple[str, ...]

    @property
    def summary(self) -> str:
        """First line of the docstring."""
        return self.doc.strip().splitlines()[0] if self.doc else ""


OPINIONS: Registry[OpinionModel] = Registry("opinion model")


def register(
    name: str,
    params: type[Params],
    *,
    label: str,
    citations: tuple[str, ...],
    stochastic: bool = False,
) -> Callable[[UpdateFunction], UpdateFunction]:
    """Decorator: register an update function as opinion model ``name``.

    The module docstring of the function documents the model (formula first).

    Args:
        name: the registry name (``--opinion NAME``).
        params: the model's Params model.
        label: display name.
        citations: reference keys the docstring cites (may be empty for a baseline).
        stochastic: whether the update draws from ``rng``.
    """

    def build(function: UpdateFunction) -> OpinionModel:
        doc = sys.modules[function.__module__].__doc__ or function.__doc__ or ""
        return OpinionModel(name, params, function, doc, label, stochastic, tuple(citations))

    return OPINIONS.decorator(name, build)
