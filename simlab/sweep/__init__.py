"""Sweeps: a grid of runs (``simlab sweep CONFIG.toml``), on local processes or Ray, resumable.

``SweepConfig`` expands the grid (:mod:`simlab.sweep.config`), :func:`sweep`
and :func:`resume_sweep` run it (:mod:`simlab.sweep.runner`), and
:func:`merge_shards` folds per-cell SQLite shards into a database
(:mod:`simlab.sweep.shards`).
"""

from simlab.sweep.config import SweepConfig
from simlab.sweep.runner import Interrupted, Sweep, resume_sweep, sweep
from simlab.sweep.shards import merge_shards

__all__ = ["Interrupted", "Sweep", "SweepConfig", "merge_shards", "resume_sweep", "sweep"]
