"""The evaluator interface: dimensions with ranges, per-text scores, the registry.

An evaluator scores texts on named dimensions. Registering one is a module
holding a ``build(options) -> Scorer`` function and one :func:`register` call
with its metadata: name, version, dimensions (each with its range and the
threshold above which an agent is flagged ``has_high_<dimension>``), citation
keys into ``docs/references.md``, and whether it calls an LLM.

A :class:`Scorer` turns a batch of texts into one :class:`Score` each, in
order. A score is either ``ok`` (every dimension within its range) or
``failed`` (no scores, a note saying why). Errors that say nothing about the
text (an unreachable endpoint) are raised instead, so the evaluation stops and
resumes later rather than recording a failure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from simlab.registry import Registry


@dataclass(frozen=True)
class Dimension:
    """One scored dimension: its name, range [low, high] and flagging threshold."""

    name: str
    low: float
    high: float
    threshold: float  # an agent is flagged has_high_<name> when its mean is >= threshold
    description: str

    def contains(self, value: float) -> bool:
        """Whether ``value`` is a finite number inside [low, high]."""
        return math.isfinite(value) and self.low <= value <= self.high

    def rescale(self, value: float) -> float:
        """``value`` as a share of the range: (value - low) / (high - low), in [0, 1]."""
        return (value - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class Score:
    """One text's evaluation: scores by dimension (None when failed) and provenance."""

    scores: dict[str, float] | None
    notes: str | None = None
    model: str | None = None
    latency_ms: float | None = None

    @property
    def status(self) -> str:
        """``ok`` when there are scores, else ``failed``."""
        return "ok" if self.scores is not None else "failed"


class Scorer(Protocol):
    """A ready evaluator: its recorded version, and a batch scoring function."""

    version: str

    def score(self, texts: Sequence[str]) -> list[Score]:
        """One score per text, in order."""
        ...


class EvaluatorOptions(BaseModel):
    """Settings an evaluator may need; embedded evaluators ignore them all."""

    model_config = ConfigDict(extra="forbid")

    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1"
    )
    llm_model: str = Field("default", description="model name sent to the endpoint")
    concurrency: int = Field(8, ge=1, le=256, description="parallel LLM requests")
    timeout_s: float = Field(60.0, gt=0, description="seconds per LLM request")


@dataclass(frozen=True)
class Evaluator:
    """A registered evaluator and its metadata."""

    name: str
    version: str
    dimensions: tuple[Dimension, ...]
    citations: tuple[str, ...]
    build: Callable[[EvaluatorOptions], Scorer]
    uses_llm: bool
    batch_size: int
    doc: str

    @property
    def dimension_names(self) -> list[str]:
        """The dimensions' names, in declared order."""
        return [d.name for d in self.dimensions]

    def dimension(self, name: str) -> Dimension:
        """The dimension called ``name`` (KeyError if there is none)."""
        return {d.name: d for d in self.dimensions}[name]


EVALUATORS: Registry[Evaluator] = Registry("evaluator")


def register(
    name: str,
    *,
    version: str,
    dimensions: Sequence[Dimension],
    citations: Sequence[str],
    uses_llm: bool = False,
    batch_size: int = 1000,
) -> Callable[[Callable[[EvaluatorOptions], Scorer]], Callable[[EvaluatorOptions], Scorer]]:
    """Decorator: register a ``build(options) -> Scorer`` function as evaluator ``name``.

    The documentation is the docstring of the module defining ``build``.
    """

    def entry(build: Callable[[EvaluatorOptions], Scorer]) -> Evaluator:
        import sys

        doc = sys.modules[build.__module__].__doc__ or build.__doc__ or ""
        return Evaluator(
            name, version, tuple(dimensions), tuple(citations), build, uses_llm, batch_size, doc
        )

    return EVALUATORS.decorator(name, entry)


def per_text_latency(started: float, finished: float, n: int) -> float | None:
    """Milliseconds per text when ``n`` texts were scored together between two clock reads."""
    return None if n == 0 else 1000.0 * (finished - started) / n


def recorded_version(version: str, model: str) -> str:
    """The version stored with each row: ``<evaluator version>/<model>``.

    Scoring with another model (a new package release, another LLM) therefore
    appends new rows instead of being skipped as already done.
    """
    return f"{version}/{model}"
