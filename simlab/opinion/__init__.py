"""Opinion models: how what agents are served moves their leanings, one module each.

Registered in :data:`OPINIONS`; importing this package registers every model.
Adding a model is one module (decorated with :func:`register`) plus one import
line below. ``assimilation`` is the default (see :class:`simlab.config.OpinionConfig`).
"""

# isort: off
# Each import registers its module's model, in this order.
from simlab.opinion import assimilation  # noqa: F401
from simlab.opinion import no_dynamics  # noqa: F401
from simlab.opinion import deffuant  # noqa: F401
from simlab.opinion import hegselmann_krause  # noqa: F401
from simlab.opinion import repulsive  # noqa: F401

# isort: on
from simlab.opinion.base import OPINIONS, OpinionInput, OpinionModel, register

__all__ = ["OPINIONS", "OpinionInput", "OpinionModel", "names", "register"]


def names() -> list[str]:
    """Names of all registered opinion models, sorted."""
    return OPINIONS.names()
