"""Running a sweep: record its grid, run every cell on an executor, retry, merge, resume.

:func:`sweep` validates every cell's run config (and the population) before
anything is written, then records the sweep (``sweeps``: the config, draws
included) and one ``sweep_cells`` row per cell (its settings, planned run id,
shard, status and attempts). Each cell is an ordinary run with its full config
in ``run_configs``. Cells run on an executor (:mod:`simlab.executors`); a
failed cell is run again up to ``retries`` times (continuing its run from its
last complete turn, :func:`simlab.engine.resume`) and, if it still fails, is
``failed`` in ``sweep_cells`` and in :attr:`Sweep.failures`, never dropped.

With a SQLite database every cell writes a shard (:mod:`simlab.sweep.shards`)
that the driver merges into the database as soon as the cell completes
(:mod:`simlab.sweep.merge`), while other cells run; with PostgreSQL cells
write the database directly. :func:`resume_sweep` runs a sweep's cells that are not
completed (an interrupted or killed sweep, or failed cells) with the same run
ids and seeds, so the finished sweep has the rows of an uninterrupted one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update

from simlab import columnar_pack, executors
from simlab.compare import with_draws
from simlab.db import make_engine, sqlite_path
from simlab.errors import InputError
from simlab.executors import ExecutorChoice
from simlab.ids import new_id
from simlab.recorder import utc_now
from simlab.schema import sweep_cells, sweeps
from simlab.sweep import merge, shards
from simlab.sweep.config import Cell, SweepConfig
from simlab.sweep.merge import Merged

# on_progress(done, running, failed, total): cells completed, in flight, failed for good.
SweepProgress = Callable[[int, int, int, int], None]


@dataclass
class Sweep:
    """What a sweep produced: run ids by cell, failures (each attempt's error), shards merged."""

    sweep_id: str
    run_ids: dict[int, str]
    settings: dict[int, dict]
    failures: dict[int, list[str]] = field(default_factory=dict)
    merged: list[Merged] = field(default_factory=list)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a sweep; ``message`` says what happened, in one line."""

    def __init__(self, sweep_id: str, interrupted: int, not_started: int) -> None:
        self.sweep_id = sweep_id
        self.message = (
            f"interrupted: sweep {sweep_id}: {interrupted} cells interrupted, {not_started} not "
            f"started; finish it with `simlab sweep --resume {sweep_id}`"
        )
        super().__init__(self.message)


def run_cell(target: str, template: str | None, run_id: str, config_json: str, progress) -> None:
    """Worker task: run cell ``run_id`` into ``target``; continue it if it exists, skip it if done.

    ``template`` given: ``target`` is a shard path, created from the template first.
    """
    from simlab import engine as simulation
    from simlab import lifecycle
    from simlab.config import RunConfig

    if template is not None:
        shards.ensure_shard(template, target)
    engine = make_engine(target, must_exist=True)
    try:
        with engine.connect() as connection:
            state = lifecycle.run_states(connection).get(run_id)
        if state is None:
            config = RunConfig.model_validate_json(config_json)
            simulation.run(config, engine, progress=progress, run_id=run_id)
        elif state != "completed":
            simulation.resume(run_id, engine, progress=progress)
    finally:
        engine.dispose()


def _url(db: str | None) -> str:
    """The URL of an existing database at head (password included, for workers)."""
    engine = make_engine(db, must_exist=True)
    engine.dispose()
    return engine.url.render_as_string(hide_password=False)


def _shard_folder(db: str | None, shard_dir: Path | None, sweep_id: str) -> Path | None:
    """Where a sweep's shards go (None: PostgreSQL, no shards); checked before anything is written."""
    path = sqlite_path(_url(db))
    if path is None:
        if shard_dir is not None:
            raise InputError(
                "--shards: only with a SQLite --db (PostgreSQL cells write it directly)"
            )
        return None
    root = shard_dir if shard_dir is not None else path.parent / f"{path.stem}.shards"
    probe = root if root.exists() else root.parent
    if not probe.is_dir():
        raise InputError(f"--shards: folder {probe} does not exist")
    if root.exists() and not root.is_dir():
        raise InputError(f"--shards: {root} is not a folder")
    return (root / sweep_id).absolute()


def _prepare(config: SweepConfig, db: str | None) -> tuple[SweepConfig, list[Cell]]:
    """Plan the population draws and validate every cell before anything is written."""
    from simlab import engine as simulation

    engine = make_engine(db, must_exist=True)
    try:
        config = with_draws(config, engine)
        cells = config.cells()
        simulation.population_for(cells[0].run, engine)  # refuse a bad agents setting now
    finally:
        engine.dispose()
    return config, cells


def _record(db: str | None, sweep_id: str, config: SweepConfig, cells, run_ids, folder) -> None:
    now = utc_now()
    rows = [
        {"sweep_id": sweep_id, "cell": cell.index, "run_id": run_ids[cell.index],
         "settings_json": json.dumps(cell.settings, sort_keys=True), "status": "pending",
         "attempts": 0, "error": None, "updated_at": now,
         "shard": None if folder is None else str(folder / f"cell-{cell.index:05d}.db")}
        for cell in cells
    ]  # fmt: skip
    engine = make_engine(db, must_exist=True)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(sweeps),
                {"sweep_id": sweep_id, "config_json": config.model_dump_json(), "created_at": now},
            )
            connection.execute(insert(sweep_cells), rows)
    finally:
        engine.dispose()


def sweep(
    config: SweepConfig,
    db: str | None = None,
    jobs: int = 1,
    retries: int = 0,
    executor: ExecutorChoice | None = None,
    shard_dir: Path | None = None,
    on_progress: SweepProgress | None = None,
    sweep_id: str | None = None,
) -> Sweep:
    """Run every cell of ``config`` (module docstring); at most ``jobs`` at once.

    ``sweep_id`` names the sweep (default: a random id); it names the shard folder too.

    Raises:
        InputError: an invalid cell, population or shard folder, or ``sweep_id``
            taken (nothing written).
        Interrupted: Ctrl-C or SIGTERM; finish with :func:`resume_sweep`.
    """
    config, cells = _prepare(config, db)
    sweep_id = sweep_id or new_id()
    if _exists(db, sweep_id):
        raise InputError(f"sweep: id {sweep_id!r} is taken in this database")
    folder = _shard_folder(db, shard_dir, sweep_id)
    run_ids = {cell.index: new_id() for cell in cells}
    _record(db, sweep_id, config, cells, run_ids, folder)
    return _run(sweep_id, db, jobs, retries, executor, on_progress)


def resume_sweep(
    sweep_id: str,
    db: str | None = None,
    jobs: int = 1,
    retries: int = 0,
    executor: ExecutorChoice | None = None,
    on_progress: SweepProgress | None = None,
) -> Sweep:
    """Run the cells of sweep ``sweep_id`` that are not completed, then merge its shards.

    Raises:
        InputError: no such sweep, or one of its runs is still being written.
        Interrupted: as :func:`sweep`.
    """
    if not _exists(db, sweep_id):
        raise InputError(f"--resume: no sweep {sweep_id!r} in the database")
    _refuse_live_cells(db, sweep_id)
    return _run(sweep_id, db, jobs, retries, executor, on_progress)


def _refuse_live_cells(db: str | None, sweep_id: str) -> None:
    """Refuse to resume a sweep while one of its runs is still written by a live process."""
    from simlab import lifecycle

    _, rows = _load(db, sweep_id)
    for cell, row in sorted(rows.items()):
        target = row["shard"] or db
        if row["status"] != "running" or (row["shard"] and not Path(row["shard"]).exists()):
            continue
        engine = make_engine(target, must_exist=True)
        try:
            with engine.connect() as connection:
                state = lifecycle.run_states(connection).get(row["run_id"])
        finally:
            engine.dispose()
        if state == "running":
            raise InputError(
                f"--resume: cell {cell} (run {row['run_id']}) of sweep {sweep_id} is still running"
            )


def _exists(db: str | None, sweep_id: str) -> bool:
    engine = make_engine(db, must_exist=True)
    try:
        with engine.connect() as connection:
            query = select(sweeps.c.sweep_id).where(sweeps.c.sweep_id == sweep_id)
            return connection.execute(query).scalar() is not None
    finally:
        engine.dispose()


def _load(db: str | None, sweep_id: str):
    engine = make_engine(db, must_exist=True)
    try:
        with engine.connect() as connection:
            stored = connection.execute(
                select(sweeps.c.config_json).where(sweeps.c.sweep_id == sweep_id)
            ).scalar_one()
            rows = connection.execute(
                select(sweep_cells).where(sweep_cells.c.sweep_id == sweep_id)
            ).mappings()
            return SweepConfig.model_validate_json(stored), {row["cell"]: dict(row) for row in rows}
    finally:
        engine.dispose()


def _run(sweep_id, db, jobs, retries, executor, on_progress) -> Sweep:
    """Run a recorded sweep's cells that are not completed; merge; the outcome."""
    config, rows = _load(db, sweep_id)
    cells = {cell.index: cell for cell in config.cells()}
    url = _url(db)
    todo = {}
    for index, row in rows.items():
        if row["status"] != "completed":
            shard = row["shard"]
            template = None if shard is None else str(Path(shard).parent / shards.TEMPLATE)
            target = url if shard is None else shard
            todo[index] = (target, template, row["run_id"], cells[index].run.model_dump_json())
    merger = _Merger(db, rows)
    first_shard = next((row["shard"] for row in rows.values() if row["shard"]), None)
    if first_shard is not None and todo:
        folder = Path(first_shard).parent
        merger.check(shards.make_template(sqlite_path(url), folder))
    result = Sweep(sweep_id, {i: r["run_id"] for i, r in rows.items()},
                   {i: json.loads(r["settings_json"]) for i, r in rows.items()})  # fmt: skip
    tracker = _Tracker(db, sweep_id, rows, on_progress, merger)
    try:
        if todo:
            running = (executor or ExecutorChoice()).start(max(1, min(jobs, len(todo))), run_cell)
            try:
                result.failures = executors.execute(running, todo, tracker.on_event, retries)
            except executors.Cancelled as stop:
                tracker.interrupted(stop.interrupted)
                raise Interrupted(sweep_id, len(stop.interrupted), stop.not_started) from stop
    finally:
        tracker.engine.dispose()
    result.merged = merger.finish(tracker.completed)
    columnar_pack.pack_after(url, result.run_ids.values())
    return result


class _Merger:
    """Merges a sweep's shards into its database, each as soon as its cell completes.

    Merging while other cells run leaves no serial merge at the end; a shard
    is merged after the next cell has started (:meth:`completed`). The
    database's population fingerprint and the template's are computed once
    (:mod:`simlab.sweep.merge`); a template that no longer matches the
    database (its population changed since the sweep started) is refused
    before any cell runs. A merge error does not stop the cells in flight:
    it is raised when they have ended.
    """

    def __init__(self, db, rows: dict[int, dict]) -> None:
        self.db, self.rows = db, rows
        self.merged: dict[int, Merged] = {}
        self.pending: list[int] = []
        self.fingerprints: tuple[str, str | None] | None = None
        self.error: InputError | None = None

    def check(self, template: Path) -> None:
        """Refuse a template whose population is not the database's (before anything runs)."""
        population, theirs = merge.database_fingerprint(self.db), merge.file_fingerprint(template)
        if population != theirs:
            raise InputError(
                f"sweep: the population of the database changed since the sweep started "
                f"(template {template} has fingerprint {theirs[:12]}, the database "
                f"{population[:12]}); its shards cannot be merged into this database"
            )
        self.fingerprints = population, theirs

    def completed(self, cell: int) -> None:
        """``cell`` completed: merge it at the next :meth:`flush`, once the next cell started.

        So ``sweep_cells`` shows a cell running while the driver merges, and a
        ``--resume`` of the live sweep is still refused then.
        """
        self.pending.append(cell)

    def flush(self) -> None:
        """Merge the completed cells waiting for it."""
        while self.pending:
            self(self.pending.pop(0))

    def __call__(self, cell: int) -> None:
        """Merge the shard of ``cell``, which has completed (a PostgreSQL cell has none)."""
        shard = self.rows[cell]["shard"]
        if shard is None or self.error is not None:
            return
        if self.fingerprints is None:  # no cell ran: a resume that only merges
            template = Path(shard).parent / shards.TEMPLATE
            if template.exists():
                self.check(template)
            else:  # each shard's own fingerprint is checked
                self.fingerprints = merge.database_fingerprint(self.db), None
        try:
            self.merged[cell] = merge.merge_shard(shard, self.db, *self.fingerprints)
        except InputError as exc:
            self.error = exc

    def finish(self, completed: set[int]) -> list[Merged]:
        """Merge the completed cells not merged yet (a resumed sweep's); the shards merged.

        Raises:
            InputError: a merge failed (the first error).
        """
        self.flush()
        left = sorted(i for i in completed if i not in self.merged and self.rows[i]["shard"])
        present = merge.runs_present(self.db, [self.rows[i]["run_id"] for i in left])
        for cell in left:
            if self.rows[cell]["run_id"] not in present:
                self(cell)
        if self.error is not None:
            raise self.error
        return [self.merged[cell] for cell in sorted(self.merged)]


class _Tracker:
    """Keeps ``sweep_cells`` and the done / running / failed counts up to date from events."""

    def __init__(self, db, sweep_id: str, rows: dict[int, dict], on_progress, merger) -> None:
        self.engine = make_engine(db, must_exist=True)
        self.sweep_id, self.on_progress, self.merger = sweep_id, on_progress, merger
        self.attempts = {i: row["attempts"] for i, row in rows.items()}
        self.completed = {i for i, row in rows.items() if row["status"] == "completed"}
        self.running: set[int] = set()
        self.failed: set[int] = set()
        self.total = len(rows)

    def _write(self, cells: list[int], **values) -> None:
        with self.engine.begin() as connection:
            for cell in cells:
                connection.execute(
                    update(sweep_cells)
                    .where(sweep_cells.c.sweep_id == self.sweep_id, sweep_cells.c.cell == cell)
                    .values(updated_at=utc_now(), attempts=self.attempts[cell], **values)
                )

    def on_event(self, cell: int, kind: str, payload) -> None:
        """An executor event (:mod:`simlab.executors`) for cell ``cell``."""
        if kind == "start":
            self.attempts[cell] += 1
            self.running.add(cell)
            self.failed.discard(cell)
            self._write([cell], status="running", error=None)
            self.merger.flush()
        elif kind == "done":
            self.running.discard(cell)
            if payload is None:
                self.completed.add(cell)
                self._write([cell], status="completed", error=None)
                self.merger.completed(cell)
            else:
                self.failed.add(cell)
                self._write([cell], status="failed", error=payload)
        else:  # a turn of a running cell: merge what completed meanwhile
            self.merger.flush()
            return
        if self.on_progress is not None:
            self.on_progress(len(self.completed), len(self.running), len(self.failed), self.total)

    def interrupted(self, cells: list[int]) -> None:
        """Mark the cells a cancellation interrupted as failed (reason ``interrupted``)."""
        self._write(list(cells), status="failed", error="interrupted")
