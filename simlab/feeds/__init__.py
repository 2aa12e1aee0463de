"""Feed algorithms: one module each, registered in :data:`FEEDS`.

Importing this package registers every algorithm. Adding a feed is one module
(decorated with :func:`register`) plus one import line below; the import order
is the registration order, which fixes each feed's chart colour
(:mod:`simlab.charts.palette`), so append new feeds at the end.
"""

# isort: off
# Each import registers its module's algorithm, in this order.
from simlab.feeds import chronological  # noqa: F401
from simlab.feeds import popularity  # noqa: F401
from simlab.feeds import personalized  # noqa: F401
from simlab.feeds import random_feed  # noqa: F401
from simlab.feeds import in_network  # noqa: F401
from simlab.feeds import bridging  # noqa: F401
from simlab.feeds import diverse  # noqa: F401

# isort: on
from simlab.feeds.base import FEEDS, FeedAlgorithm, FeedInput, Ranked, register

__all__ = ["FEEDS", "FeedAlgorithm", "FeedInput", "Ranked", "names", "register"]


def names() -> list[str]:
    """Names of all registered feed algorithms, sorted."""
    return FEEDS.names()
