"""A run played one turn at a time, for the live experiment notebook's Start / Step / Pause / Reset.

:class:`LiveRun` is :func:`simlab.engine.run` unrolled: the same
:func:`~simlab.engine.population_for`, :class:`~simlab.engine.Simulation` and
:class:`~simlab.recorder.Recorder`, but each :meth:`LiveRun.step` computes one
turn and writes it before returning, so a notebook can draw the turn it just
played. The rows are the rows ``simlab run`` writes for the same config (ids
and wall-clock timestamps aside): the turn's randomness depends only on the
seed and the turn number, never on how the turns are paced. A run stopped
before its last turn is marked failed (``stopped: ...``) and ``simlab resume``
finishes it.

:class:`LiveSession` is what the notebook's buttons do; it holds at most one
run and counts its changes (``version``) so the notebook redraws only when a
turn was played.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simlab import metrics
from simlab.config import RunConfig
from simlab.db import make_engine
from simlab.engine import Simulation, population_for
from simlab.errors import InputError
from simlab.ids import new_id
from simlab.recorder import Recorder


class LiveRun:
    """One run in the database, advanced by :meth:`step`.

    Args:
        config: the run's config.
        db: the database (path or URL); the population is read from it.
        run_id: the new run's id (default: a random id, :func:`simlab.ids.new_id`, as ``simlab run``).

    Raises:
        InputError: the database or the population cannot run ``config``.
    """

    def __init__(self, config: RunConfig, db: str, run_id: str | None = None) -> None:
        engine = make_engine(db, must_exist=True)
        self.config = config
        self.run_id = run_id or new_id()
        self.sim = Simulation(config, population_for(config, engine))
        self.next_turn = 0
        self.status = "running"
        self._metrics: list[tuple[int, str, float]] = []
        self._leaning = self.sim.state.leaning.copy()
        self._context = ExitStack()
        if self.sim.policy.context is not None:  # an LLM session, as engine.run opens it
            self.sim.context = self._context.enter_context(
                self.sim.policy.context(config, engine, self.run_id, self.sim.pop, None)
            )
        self.recorder = Recorder(engine, self.run_id, self.sim.pop, self.sim.policy.model_used)
        self.recorder.create_run(config, self.sim.pop.n_agents)

    @property
    def done(self) -> bool:
        """Whether the run has ended (completed, failed or stopped)."""
        return self.status != "running"

    def step(self) -> None:
        """Play the next turn and write it (one transaction); complete the run after the last.

        Raises:
            InputError: the run has ended.
            Exception: whatever the turn raised; the run is then marked failed.
        """
        if self.done:
            raise InputError(f"run {self.run_id} is {self.status}; press Reset for a new run")
        turn = self.next_turn
        try:
            rows = self.sim.step(turn)
            self.recorder.write_turn(rows)
        except BaseException as exc:
            self._end("failed", turn, f"{type(exc).__name__}: {exc}")
            raise
        self._metrics += [(turn, key, float(value)) for key, value in rows.metrics.items()]
        self._leaning = np.asarray(rows.leaning, dtype=float).copy()
        self.next_turn += 1
        if self.next_turn == self.config.turns:
            self.recorder.complete(metrics.compute_run(self.config.metrics, self.sim.run_data()))
            self.status = "completed"
            self._context.close()

    def stop(self, reason: str = "stopped from the live notebook") -> None:
        """End an unfinished run: marked failed at the next turn, resumable with ``simlab resume``."""
        if not self.done:
            self._end("stopped", self.next_turn, f"stopped: {reason}")

    def _end(self, status: str, turn: int, error: str) -> None:
        self.status = status
        try:
            self.recorder.fail(turn, error)
        finally:
            self._context.close()

    def metric_frame(self) -> pd.DataFrame:
        """The turn metrics played so far: columns turn, key, value (NaN where undefined)."""
        return pd.DataFrame(self._metrics, columns=["turn", "key", "value"])

    def leanings(self) -> pd.DataFrame:
        """Every agent's leaning after the last played turn: columns agent_handle, leaning."""
        handles = self.sim.pop.handles
        return pd.DataFrame({"agent_handle": handles.astype(str), "leaning": self._leaning})


@dataclass
class LiveSession:
    """What the live notebook's buttons do: at most one :class:`LiveRun`, running or paused.

    ``version`` grows by one whenever a turn is played or the run is replaced, so
    the notebook redraws only then; ``message`` is the last error, one line.
    """

    db: str
    run: LiveRun | None = None
    running: bool = False
    version: int = 0
    message: str = ""

    def _ensure(self, config: RunConfig | None) -> LiveRun | None:
        if self.run is None or (self.run.done and self.run.status != "completed"):
            if config is None:
                self.message = "The form has an error: fix it first."
                return None
            self.run = LiveRun(config, self.db)
            self.version += 1
        return self.run

    def start(self, config: RunConfig | None) -> int:
        """Start (or continue) playing turns on every :meth:`tick`; returns ``version``."""
        run = self._guarded(self._ensure, config)
        self.running = run is not None and not run.done
        return self.version

    def step(self, config: RunConfig | None) -> int:
        """Pause and play exactly one turn (starting a run if there is none); returns ``version``."""
        self.running = False
        run = self._guarded(self._ensure, config)
        if run is not None and not run.done:
            self._guarded(run.step)
            self.version += 1
        return self.version

    def pause(self) -> int:
        """Stop playing turns on ticks; the run stays open for Start or Step."""
        self.running = False
        return self.version

    def reset(self) -> int:
        """Stop an unfinished run (marked failed, resumable) and forget it."""
        self.running = False
        if self.run is not None:
            self.run.stop()
        self.run, self.message = None, ""
        self.version += 1
        return self.version

    def tick(self) -> bool:
        """Play one turn if running; True if a turn was played (the notebook then redraws)."""
        if not self.running or self.run is None or self.run.done:
            self.running = False
            return False
        self._guarded(self.run.step)
        self.version += 1
        self.running = not self.run.done
        return True

    def _guarded(self, action, *args):
        """Run ``action``; an InputError or a failed turn becomes ``message`` (and pauses)."""
        try:
            self.message = ""
            return action(*args)
        except Exception as exc:  # noqa: BLE001  (shown in the notebook, the run marked failed)
            self.running = False
            self.message = f"{type(exc).__name__}: {exc}".splitlines()[0]
            return None
