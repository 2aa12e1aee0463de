"""simlab: agent-based social-media simulation with recorded feeds.

Three lines to a result, on a database made by ``simlab init``:

>>> import simlab
>>> config = simlab.RunConfig(feed={"name": "personalized"}, turns=5)
>>> run_id = simlab.run(config, db="data/simlab.db")
>>> con = simlab.analytics.connect("data/simlab.db")
>>> frame = simlab.analytics.turn_metrics(con, run_ids=[run_id])
>>> sorted(frame["turn"].unique().tolist())
[0, 1, 2, 3, 4]

``RunConfig``, ``run`` and ``resume`` are the front door; everything else is
reached through its subpackage (``simlab.analytics``, ``simlab.charts``,
``simlab.feeds``, ``simlab.metrics``, ``simlab.compare``, ...). Both are
imported on first use, so ``import simlab`` (and ``simlab --help``) stays cheap.
"""

from importlib import import_module
from importlib.util import find_spec

__version__ = "0.1.0"

_EXPORTS = {"RunConfig": "simlab.config", "run": "simlab.engine", "resume": "simlab.engine"}

__all__ = ["RunConfig", "__version__", "resume", "run"]


def __getattr__(name: str):
    """``simlab.run`` and friends from :data:`_EXPORTS`, and any ``simlab.<module>``, on first use."""
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    if not name.startswith("_") and find_spec(f"{__name__}.{name}") is not None:
        return import_module(f"{__name__}.{name}")  # also binds it as an attribute
    raise AttributeError(f"module 'simlab' has no attribute {name!r}")
