"""The policy interface: how agents decide what to do with the feed they were served.

A policy is a function ``decide(view: FeedView, params, rng) -> list[Action]``
over every active agent of a turn at once, returning actions in a deterministic
order. Shapes: ``n`` active agents, ``k`` feed size. Each action carries the
explanation and generation metadata that end up in the action tables; the
registered policy's ``model_used`` names who decided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simlab.params import Params
from simlab.registry import Registry
from simlab.world import Population, SimState


@dataclass(frozen=True)
class FeedView:
    """What the active agents of one turn were served."""

    pop: Population
    state: SimState  # before this turn's actions
    turn: int
    agents: np.ndarray  # (n,) agent indices
    feeds: np.ndarray  # (n, k) post indices, best first; -1 pads short feeds
    scores: np.ndarray  # (n, k) feed scores (NaN for padding)


@dataclass(frozen=True)
class Action:
    """One like, comment or follow, with its provenance."""

    kind: str  # "like" | "comment" | "follow"
    row: int  # row in FeedView.agents / feeds
    slot: int  # 0-based position in the feed (rank - 1)
    text: str | None  # comment text
    explanation: str
    metadata_json: str


DecideFunction = Callable[[FeedView, Params, np.random.Generator], list[Action]]


@dataclass(frozen=True)
class Policy:
    """A registered policy: name, parameters, decide function, and classifier metadata."""

    name: str
    version: str
    params: type[Params]
    decide: DecideFunction
    doc: str
    stochastic: bool = True
    uses_llm: bool = False

    @property
    def model_used(self) -> str:
        """The value written to ``model_used`` on every action."""
        return f"{self.name}/{self.version}"

    @property
    def summary(self) -> str:
        """First line of the docstring."""
        return self.doc.strip().splitlines()[0] if self.doc else ""


POLICIES: Registry[Policy] = Registry("policy")


def register(
    name: str,
    version: str,
    params: type[Params],
    *,
    stochastic: bool = True,
    uses_llm: bool = False,
) -> Callable[[DecideFunction], DecideFunction]:
    """Decorator: register a decide function as policy ``name`` (its module docstring documents it)."""

    def build(function: DecideFunction) -> Policy:
        import sys

        doc = sys.modules[function.__module__].__doc__ or ""
        return Policy(name, version, params, function, doc, stochastic, uses_llm)

    return POLICIES.decorator(name, build)
