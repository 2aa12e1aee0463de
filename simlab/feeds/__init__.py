"""Feed algorithms: one module each, registered in :data:`FEEDS`.

Importing this package registers every algorithm.
"""

from simlab.feeds import chronological  # noqa: F401  (registers the algorithm)
from simlab.feeds.base import FEEDS, FeedAlgorithm, FeedInput, Ranked, register

__all__ = ["FEEDS", "FeedAlgorithm", "FeedInput", "Ranked", "names", "register"]


def names() -> list[str]:
    """Names of all registered feed algorithms, sorted."""
    return FEEDS.names()
