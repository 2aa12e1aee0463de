"""Policies: how agents decide. Importing this package registers every policy."""

from simlab.policies import llm, rule_based  # noqa: F401  (registers the policies)
from simlab.policies.base import ACTION_KINDS, POLICIES, Actions, FeedView, Policy

__all__ = ["ACTION_KINDS", "POLICIES", "Actions", "FeedView", "Policy", "names"]


def names() -> list[str]:
    """Names of all registered policies, sorted."""
    return POLICIES.names()
