"""Sweeps: a grid of runs (``simlab sweep CONFIG.toml``), on local processes or Ray, resumable.

``SweepConfig`` expands the grid (:mod:`simlab.sweep.config`), :func:`sweep`
and :func:`resume_sweep` run it (:mod:`simlab.sweep.runner`) in per-cell
SQLite shards (:mod:`simlab.sweep.shards`), and :func:`merge_shards` folds
shards into a database (:mod:`simlab.sweep.merge`).
"""

from simlab.sweep.config import SweepConfig
from simlab.sweep.merge import merge_shards
from simlab.sweep.runner import Interrupted, Sweep, resume_sweep, sweep

__all__ = ["Interrupted", "Sweep", "SweepConfig", "merge_shards", "resume_sweep", "sweep"]
