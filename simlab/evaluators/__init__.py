"""Content evaluators: one module each, registered in :data:`EVALUATORS`.

Importing this package registers every evaluator. ``sentiment`` and
``offensive`` are embedded (no network); ``llm_judge`` needs an
OpenAI-compatible endpoint.
"""

# Each import registers its module's evaluator.
from simlab.evaluators import llm_judge, offensive, sentiment  # noqa: F401
from simlab.evaluators.base import (
    EVALUATORS,
    Dimension,
    Evaluator,
    EvaluatorOptions,
    Score,
    Scorer,
    register,
)

__all__ = [
    "EVALUATORS",
    "Dimension",
    "Evaluator",
    "EvaluatorOptions",
    "Score",
    "Scorer",
    "embedded",
    "names",
    "register",
]


def names() -> list[str]:
    """Names of all registered evaluators, sorted."""
    return EVALUATORS.names()


def embedded() -> list[str]:
    """Names of the evaluators that need no LLM endpoint (the default set), sorted."""
    return [e.name for e in EVALUATORS if not e.uses_llm]
