"""Feed algorithms: one module each, registered in :data:`FEEDS`.

Importing this package registers every algorithm.
"""

# Each import registers its module's algorithm.
from simlab.feeds import (  # noqa: F401
    bridging,
    chronological,
    diverse,
    in_network,
    personalized,
    popularity,
    random_feed,
)
from simlab.feeds.base import FEEDS, FeedAlgorithm, FeedInput, Ranked, register

__all__ = ["FEEDS", "FeedAlgorithm", "FeedInput", "Ranked", "names", "register"]


def names() -> list[str]:
    """Names of all registered feed algorithms, sorted."""
    return FEEDS.names()
