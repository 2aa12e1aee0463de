"""Behavioural trait priors shared by the synthetic generator and the importers.

Propensities are per-impression base probabilities of an action, before the
policy's interest, agreement, popularity and position terms. They are set to
the order of engagement seen on public platforms: a few percent of items are
liked, around one percent commented on, fewer still lead to a follow.
"""

from __future__ import annotations

TRAIT_PRIORS: dict[str, tuple[float, float]] = {
    "activity_rate": (2.0, 5.0),  # Beta(2, 5): mean 0.29 of turns active
    "like_propensity": (1.5, 25.0),  # mean 0.057
    "comment_propensity": (1.2, 100.0),  # mean 0.012
    "follow_propensity": (1.1, 150.0),  # mean 0.007
}
"""Beta(a, b) priors of each trait."""

TRAIT_MEANS: dict[str, float] = {name: a / (a + b) for name, (a, b) in TRAIT_PRIORS.items()}
"""Prior means: the traits an import cannot observe."""
