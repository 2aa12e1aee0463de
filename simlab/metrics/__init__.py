"""Metrics: one plain function per dotted key, registered in :data:`METRICS`.

Turn metrics (``turn.<group>.<name>``) take a :class:`TurnData`, run metrics
(``run.<group>.<name>``) a :class:`RunData`; each returns one float. Importing
this package registers every metric. Modules are split by concept:
:mod:`~simlab.metrics.actions`, :mod:`~simlab.metrics.exposure`,
:mod:`~simlab.metrics.attention`, :mod:`~simlab.metrics.leanings` (keys ``*.opinion.*``),
:mod:`~simlab.metrics.network`.
"""

from __future__ import annotations

from collections.abc import Iterable

from simlab.metrics import actions, attention, exposure, leanings, network  # noqa: F401  (register)
from simlab.metrics.base import METRICS, Metric, RunData, TurnData, metric

__all__ = [
    "METRICS",
    "Metric",
    "RunData",
    "TurnData",
    "compute_run",
    "compute_turn",
    "metric",
    "names",
    "resolve_keys",
]


def names(scope: str | None = None) -> list[str]:
    """Registered metric keys, sorted; only ``turn.*`` or ``run.*`` keys if ``scope`` is given."""
    return [key for key in METRICS.names() if scope is None or key.split(".", 1)[0] == scope]


def resolve_keys(keys: Iterable[str] | None) -> list[str]:
    """The metric keys a user asked for, validated, sorted and deduplicated.

    Each entry is an exact key (``turn.exposure.topic_entropy``) or a dotted
    prefix standing for every key under it (``turn.exposure``, ``run``).

    Args:
        keys: keys or prefixes; None or empty means every registered key.

    Returns:
        Sorted, distinct metric keys.

    Raises:
        InputError: an entry is neither a key nor a prefix of one; the message
            lists every allowed key.
    """
    every = METRICS.names()
    if not keys:
        return every
    chosen: set[str] = set()
    for wanted in keys:
        matches = [key for key in every if key == wanted or key.startswith(f"{wanted}.")]
        if not matches:
            METRICS.get(wanted)  # neither key nor prefix: raises InputError listing every key
        chosen.update(matches)
    return sorted(chosen)


def compute_turn(keys: Iterable[str] | None, data: TurnData) -> dict[str, float]:
    """Compute the ``turn.*`` metrics among ``keys`` (see :func:`resolve_keys`) for one turn.

    Returns:
        ``{key: value}`` in key order; values are Python floats, NaN where undefined.
    """
    return _compute(keys, "turn", data)


def compute_run(keys: Iterable[str] | None, data: RunData) -> dict[str, float]:
    """Compute the ``run.*`` metrics among ``keys`` (see :func:`resolve_keys`) for a finished run.

    Returns:
        ``{key: value}`` in key order; values are Python floats, NaN where undefined.
    """
    return _compute(keys, "run", data)


def _compute(keys: Iterable[str] | None, scope: str, data: TurnData | RunData) -> dict[str, float]:
    return {
        key: float(METRICS.get(key).compute(data))
        for key in resolve_keys(keys)
        if key.split(".", 1)[0] == scope
    }
