"""The policy interface: how agents decide what to do with the feed they were served.

A policy is a function ``decide(view: FeedView, params, rng) -> Actions``
over every active agent of a turn at once, returning its actions in a
deterministic order as one columnar record (:class:`Actions`), which travels
unchanged to the recorder. Shapes: ``n`` active agents, ``k`` feed size, ``m``
actions. Each action carries the explanation and generation metadata that end
up in the action tables; the registered policy's ``model_used`` names who decided.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

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


ACTION_KINDS = ("like", "comment", "follow")


@dataclass(frozen=True)
class Actions:
    """One turn's likes, comments and follows as columns, in the policy's order.

    Build it with :meth:`from_choices`, which resolves each (row, slot) choice to
    the agent, the served post and the action's target once; the engine, the
    metrics and the recorder all read these columns.
    """

    kind: np.ndarray  # (m,) int: index into ACTION_KINDS
    row: np.ndarray  # (m,) int: row in FeedView.agents / feeds
    slot: np.ndarray  # (m,) int: 0-based position in the feed (rank - 1)
    agent: np.ndarray  # (m,) int: agent index
    post: np.ndarray  # (m,) int: the served post acted on (for a follow: whose author)
    target: np.ndarray  # (m,) int: the post liked / commented on, or the account followed
    text: list[str | None]  # (m,) comment text; None for likes and follows
    explanation: list[str | None]  # (m,) one sentence each; None: built when read
    metadata_json: list[str]  # (m,) generation metadata, JSON
    model_used: list[str] | None = None  # (m,) who decided each action; None: the policy

    @classmethod
    def from_choices(
        cls,
        view: FeedView,
        kind: np.ndarray,
        row: np.ndarray,
        slot: np.ndarray,
        text: list[str | None],
        explanation: list[str | None],
        metadata_json: list[str],
    ) -> Actions:
        """The record of ``m`` chosen actions on ``view``'s feeds.

        Args:
            view: the feeds the actions were chosen from.
            kind: (m,) indices into :data:`ACTION_KINDS`.
            row: (m,) feed rows.
            slot: (m,) 0-based feed positions (each must hold a post).
            text: comment text per action (None where not a comment).
            explanation: one sentence per action (None: the views build it when read).
            metadata_json: generation metadata per action, as JSON.
        """
        kind, row, slot = (np.asarray(a, dtype=np.int64).reshape(-1) for a in (kind, row, slot))
        post = view.feeds[row, slot]
        target = np.where(kind == ACTION_KINDS.index("follow"), view.pop.post_author[post], post)
        columns = (list(text), list(explanation), list(metadata_json))
        if any(len(column) != len(kind) for column in columns):
            raise ValueError("every Actions column needs one entry per action")
        return cls(kind, row, slot, view.agents[row], post, target, *columns)

    def __len__(self) -> int:
        return len(self.kind)

    def of(self, kind: str) -> np.ndarray:
        """(m_kind,) positions of the actions of ``kind``, in the policy's order."""
        return np.flatnonzero(self.kind == ACTION_KINDS.index(kind))

    def counts(self) -> dict[str, int]:
        """Actions per kind, in :data:`ACTION_KINDS` order."""
        tally = np.bincount(self.kind, minlength=len(ACTION_KINDS))
        return dict(zip(ACTION_KINDS, tally.tolist(), strict=True))

    def targets(self, kind: str) -> np.ndarray:
        """Likes or comments as (L, 3) rows (agent, post, rank); follows as (F, 2) (agent, account)."""
        at = self.of(kind)
        if kind == "follow":
            return np.stack([self.agent[at], self.target[at]], axis=1).reshape(-1, 2)
        return np.stack([self.agent[at], self.target[at], self.slot[at] + 1], axis=1).reshape(-1, 3)


DecideFunction = Callable[[FeedView, Params, np.random.Generator], Actions]


class RunStopped(Exception):
    """A policy ends the run on purpose (e.g. an LLM budget that blocks); the message says why."""


class PolicyContext(Protocol):
    """Per-run state of a policy that needs more than ``decide`` (an LLM session).

    The engine calls :meth:`decide` instead of the registered function,
    :meth:`settle_leaning` after the opinion update, and writes the turn's own
    rows with :meth:`turn_writer` inside the turn's transaction.
    """

    def decide(self, view: FeedView, params: Params, rng: np.random.Generator) -> Actions:
        """The turn's actions (may raise :class:`RunStopped`)."""

    def settle_leaning(self, turn: int, leaning: np.ndarray) -> np.ndarray:
        """Leanings after the policy's own changes (e.g. stated stances)."""

    def turn_writer(self, turn: int) -> Callable[[Any], None] | None:
        """Writes this turn's extra rows on the turn's connection."""


ContextFactory = Callable[..., AbstractContextManager[PolicyContext]]


@dataclass(frozen=True)
class Policy:
    """A registered policy: name, parameters, decide function, and classifier metadata.

    ``stochastic`` says whether ``decide`` draws from ``rng``, ``uses_llm`` whether
    it calls a language model; ``citations`` are keys into ``docs/references.md``.
    """

    name: str
    version: str
    params: type[Params]
    decide: DecideFunction
    doc: str
    stochastic: bool = True
    uses_llm: bool = False
    citations: tuple[str, ...] = ()
    context: ContextFactory | None = None  # (config, engine, run_id, pop, resumed_after)

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
    citations: tuple[str, ...] = (),
    context: ContextFactory | None = None,
) -> Callable[[DecideFunction], DecideFunction]:
    """Decorator: register a decide function as policy ``name`` (its module docstring documents it)."""

    def build(function: DecideFunction) -> Policy:
        import sys

        doc = sys.modules[function.__module__].__doc__ or ""
        return Policy(
            name, version, params, function, doc, stochastic, uses_llm, tuple(citations), context
        )

    return POLICIES.decorator(name, build)
