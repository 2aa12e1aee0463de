"""simlab: agent-based social-media simulation with recorded feeds.

Three lines to a result::

    config = simlab.RunConfig(feed={"name": "personalized"}, turns=20)
    run_id = simlab.run(config, db="data/simlab.db")
    simlab.analytics.turn_metrics(con, run_ids=[run_id])

The names below are imported on first use, so ``import simlab`` stays cheap.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {"RunConfig": "simlab.config", "run": "simlab.engine", "resume": "simlab.engine"}

__all__ = ["RunConfig", "__version__", "resume", "run"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'simlab' has no attribute {name!r}")
