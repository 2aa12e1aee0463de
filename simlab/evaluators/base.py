"""The evaluator interface: dimensions with ranges, per-text scores, the registry.

An evaluator scores texts on named dimensions. Registering one is a module
holding a ``build(options) -> Scorer`` function and one :func:`register` call
with its metadata: name, version, dimensions (each with its range and the
threshold above which an agent is flagged ``has_high_<dimension>``), citation
keys into ``docs/references.md``, and whether it calls an LLM.

A :class:`Scorer` turns a batch of texts into one :class:`Score` each, in
order. A score is either ``ok`` (every dimension within its range) or
``failed`` (no scores, a note saying why). Errors that say nothing about the
text (an unreachable endpoint, an exhausted budget) raise
:class:`EvaluationStopped` instead, so the evaluation stops and resumes later
rather than recording a failure. A scorer may keep side records (the judge's
``llm_calls`` rows): :meth:`Scorer.write` adds them to the batch's transaction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from simlab.registry import Registry

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from simlab.evaluators.targets import Item


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


class EvaluationStopped(RuntimeError):
    """The evaluator cannot go on (endpoint down, budget exhausted): not the text's fault."""


class Scorer(Protocol):
    """A ready evaluator: its recorded version, batch scoring, side records, cleanup."""

    version: str

    def score(self, texts: Sequence[str], sources: Sequence[Item] | None = None) -> list[Score]:
        """One score per text, in order; ``sources`` say where each text came from."""
        ...

    def write(self, connection: Connection) -> None:
        """Insert the side records kept since the last call (in the batch's transaction)."""
        ...

    def close(self) -> None:
        """Release what the scorer holds (an embedded model server, connections)."""
        ...


class StatelessScorer:
    """Base of scorers that are pure functions of the text: nothing to write or close."""

    def write(self, connection: Connection) -> None:
        """Nothing to write."""

    def close(self) -> None:
        """Nothing to release."""


class EvaluatorOptions(BaseModel):
    """Settings an evaluator may need; embedded evaluators ignore them all."""

    model_config = ConfigDict(extra="forbid")

    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint (None: the embedded model)"
    )
    llm_model: str | None = Field(None, description="model name sent (None: the embedded one)")
    llm_api_key_env: str | None = Field(None, description="environment variable with the key")
    llm_cache: Literal["record", "replay", "off"] = "record"
    llm_max_tokens: int = Field(300, ge=16, le=32768, description="judge answer length cap")
    llm_prompt_price: float = Field(0.0, ge=0, description="USD per 1M prompt tokens")
    llm_completion_price: float = Field(0.0, ge=0, description="USD per 1M completion tokens")
    budget_tokens: int | None = Field(None, gt=0, description="token budget of the command")
    budget_cost: float | None = Field(None, gt=0, description="cost budget (USD)")
    budget_alert: float = Field(0.8, gt=0, le=1, description="alert at this fraction")
    budget_action: Literal["warn", "block"] = "warn"
    concurrency: int = Field(8, ge=1, le=256, description="parallel LLM requests")
    timeout_s: float = Field(60.0, gt=0, description="seconds per LLM request")


@dataclass(frozen=True)
class Evaluator:
    """A registered evaluator and its metadata."""

    name: str
    version: str
    dimensions: tuple[Dimension, ...]
    citations: tuple[str, ...]
    build: Callable[[EvaluatorOptions, Engine | None], Scorer]
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


Build = Callable[[EvaluatorOptions, "Engine | None"], Scorer]


def register(
    name: str,
    *,
    version: str,
    dimensions: Sequence[Dimension],
    citations: Sequence[str],
    uses_llm: bool = False,
    batch_size: int = 1000,
) -> Callable[[Build], Build]:
    """Decorator: register a ``build(options, engine) -> Scorer`` function as evaluator ``name``.

    ``engine`` is the database being evaluated (None outside ``simlab evaluate``);
    only evaluators with side records (the judge's cache and accounting) use it.
    The documentation is the docstring of the module defining ``build``.
    """

    def entry(build: Build) -> Evaluator:
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
