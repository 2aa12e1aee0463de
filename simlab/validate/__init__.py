"""``simlab validate``: published results reproduced by simlab's own models and engine.

:func:`run` returns one :class:`Outcome` per check (check | published result |
simlab | pass). What each check compares, and why, is in ``docs/validation.md``;
the published figures and tolerances are data in :mod:`simlab.validate.targets`.
"""

from simlab.validate.suite import CHECKS, Outcome, run

__all__ = ["CHECKS", "Outcome", "run"]
