"""The metric interface: per-turn and per-run data, and the registry of metric keys.

A metric is a plain function of :class:`TurnData` (keys ``turn.<group>.<name>``)
or :class:`RunData` (keys ``run.<group>.<name>``) returning one float (NaN where
undefined, e.g. a correlation over no edges). Its docstring gives the formula,
its range and a citation key from ``docs/references.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simlab.registry import Registry
from simlab.world import Population, SimState


@dataclass(frozen=True)
class TurnData:
    """One finished turn: who was served what, and what they did.

    Shapes: ``n`` active agents this turn, ``k`` feed size.
    """

    pop: Population
    state: SimState  # after this turn's actions and leaning update
    turn: int
    agents: np.ndarray  # (n,) agent indices that were active (got a feed)
    feeds: np.ndarray  # (n, k) post indices served, best first; -1 pads short feeds
    likes: np.ndarray  # (L, 3) int rows (agent, post, rank) with rank 1-based
    comments: np.ndarray  # (C, 3) int rows (agent, post, rank)
    follows: np.ndarray  # (F, 2) int rows (agent, followed account)
    leaning_before: np.ndarray  # (n_agents,) leanings before this turn's update
    n_visible: int  # posts feeds could serve this turn: the candidate pool (coverage denominator)

    @functools.cached_property
    def served(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every served item as parallel arrays (feed row, agent index, post index), once a turn."""
        rows, cols = np.nonzero(self.feeds >= 0)
        return rows, self.agents[rows], self.feeds[rows, cols]


@dataclass(frozen=True)
class RunData:
    """A finished run: the population, the first and last state, and action totals."""

    pop: Population
    initial: SimState  # before turn 0
    final: SimState  # after the last turn
    n_turns: int
    impressions: int  # feed items served over the run
    likes: int
    comments: int
    follows: int


@dataclass(frozen=True)
class Metric:
    """A registered metric: dotted key, function, formula docstring and display metadata.

    ``label`` and ``unit`` make the axis title ``"label (unit)"``; ``unit`` is
    what a reader needs in the parentheses (``"count per turn"``, ``"Gini, 0–1"``).
    ``value_range`` is the closed interval every defined value lies in (the
    metric may also return NaN); ``citations`` are keys into ``docs/references.md``.
    """

    key: str
    compute: Callable
    doc: str
    label: str
    unit: str
    value_range: tuple[float, float]
    citations: tuple[str, ...]

    @property
    def axis_title(self) -> str:
        """``"label (unit)"``, the title charts give the metric's axis."""
        return f"{self.label} ({self.unit})"

    @property
    def scope(self) -> str:
        """``turn`` or ``run``."""
        return self.key.split(".", 1)[0]

    @property
    def summary(self) -> str:
        """First line of the docstring."""
        return self.doc.strip().splitlines()[0] if self.doc else ""


METRICS: Registry[Metric] = Registry("metric")


def metric(
    key: str,
    *,
    label: str,
    unit: str,
    value_range: tuple[float, float],
    citations: tuple[str, ...] = (),
) -> Callable[[Callable], Callable]:
    """Decorator: register ``function`` under ``key`` (``turn.x.y`` or ``run.x.y``).

    Args:
        key: the dotted metric key.
        label: display name, e.g. ``"Engagement rate"``.
        unit: the axis unit, e.g. ``"actions per impression"``.
        value_range: (low, high) bounds of every defined value (``math.inf`` allowed).
        citations: reference keys the docstring cites.
    """
    scope = key.split(".", 1)[0]
    if scope not in ("turn", "run") or key.count(".") != 2:
        raise ValueError(
            f"metric key {key!r} must look like turn.<group>.<name> or run.<group>.<name>"
        )

    def build(function: Callable) -> Metric:
        low, high = value_range
        return Metric(
            key, function, function.__doc__ or "", label, unit, (low, high), tuple(citations)
        )

    return METRICS.decorator(key, build)
