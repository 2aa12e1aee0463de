"""Per-cell SQLite shards of a sweep, and ``simlab merge``: shard rows into the sweep's database.

With a SQLite database, each cell of a sweep writes its run into a shard file
of its own, so no two processes write one SQLite file and a shard may live on
a worker's disk or a shared file system. A shard starts as a copy of the
sweep's template: a fresh database at head holding the population tables of
the sweep's database (the tables of scope ``population`` in
:mod:`simlab.bundle.scope`, the sweep tables excepted).

Merging a shard is a bundle round trip: its completed runs are exported
(:func:`simlab.bundle.export.export_bundle`) and imported
(:func:`simlab.bundle.load.import_bundle`), so a merge follows the import's
rules: one transaction per shard; a row whose key is already in the database
must be identical (a conflicting run id is refused, naming the shard and the
row, and nothing of that shard is written) and is skipped, so merging twice
adds nothing. Runs of a shard that are not completed are left out and counted.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from simlab import lifecycle
from simlab.bundle.scope import scope_of
from simlab.db import existing_sqlite_file, make_engine, migrate
from simlab.errors import InputError
from simlab.schema import metadata, sweep_cells, sweeps

TEMPLATE = "template.db"
UNSHARDED = {sweeps.name, sweep_cells.name}


@dataclass(frozen=True)
class Merged:
    """What merging one shard did: runs merged, runs left out (not completed), rows added."""

    shard: Path
    runs: tuple[str, ...]
    left_out: int
    added: int


def population_tables() -> list[str]:
    """The tables a shard copies from the sweep's database, parents first."""
    return [
        t.name
        for t in metadata.sorted_tables
        if scope_of(t).kind == "population" and t.name not in UNSHARDED
    ]


def make_template(source: Path, folder: Path) -> Path:
    """``folder/template.db``: a fresh database at head with ``source``'s population rows.

    Kept when it exists already (a resumed sweep reuses its template).
    """
    template = folder / TEMPLATE
    if template.exists():
        return template
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".partial-{os.getpid()}-{TEMPLATE}"
    partial.unlink(missing_ok=True)
    engine = make_engine(partial)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    target = sqlite3.connect(partial)
    try:
        target.execute("ATTACH DATABASE ? AS source", (str(source),))
        for name in population_tables():
            columns = ", ".join(f'"{c.name}"' for c in metadata.tables[name].columns)
            target.execute(
                f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM source."{name}"'
            )
        target.commit()
        target.execute("DETACH DATABASE source")
        target.execute("PRAGMA journal_mode = DELETE")  # one self-contained file to rename
    finally:
        target.close()
    os.replace(partial, template)
    return template


def ensure_shard(template: str | os.PathLike, shard: str | os.PathLike) -> None:
    """Create ``shard`` as a copy of ``template`` unless it exists (atomically: copy, then rename)."""
    shard = Path(shard)
    if shard.exists():
        return
    partial = shard.with_name(f".partial-{os.getpid()}-{shard.name}")
    src, dst = sqlite3.connect(template), sqlite3.connect(partial)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode = DELETE")
    finally:
        src.close()
        dst.close()
    os.replace(partial, shard)


def completed_runs(shard: Path) -> tuple[list[str], int]:
    """The completed runs of ``shard`` (sorted) and how many others it holds."""
    engine = make_engine(shard, must_exist=True)
    try:
        with engine.connect() as connection:
            states = lifecycle.run_states(connection)
    finally:
        engine.dispose()
    done = sorted(run for run, state in states.items() if state == "completed")
    return done, len(states) - len(done)


def merge_shard(shard: str | os.PathLike, db: str | os.PathLike | None) -> Merged:
    """Merge the completed runs of ``shard`` into ``db`` (module docstring).

    Raises:
        InputError: ``shard`` is not a simlab SQLite file, or its rows conflict
            with ``db``'s (nothing of the shard is written then).
    """
    from simlab.bundle.export import export_bundle
    from simlab.bundle.load import import_bundle

    shard = existing_sqlite_file(shard, reader="merge")
    runs, left_out = completed_runs(shard)
    if not runs:
        return Merged(shard, (), left_out, 0)
    with tempfile.TemporaryDirectory(prefix="simlab-merge-") as scratch:
        bundle = Path(scratch) / "bundle"
        export_bundle(shard, bundle, run_ids=runs)
        try:
            imported = import_bundle(bundle, db)
        except InputError as exc:
            reason = str(exc).removeprefix("bundle: ")
            reason = reason.replace("; the bundle does not fit this database", "")
            raise InputError(
                f"merge: shard {shard}: {reason} (a conflicting id); nothing of this shard merged"
            ) from None
    return Merged(shard, tuple(runs), left_out, sum(imported.added.values()))


def shard_files(paths: list[Path]) -> list[Path]:
    """The shard files named by ``paths``: files as given, folders by the ``*.db`` files inside.

    Raises:
        InputError: a path does not exist, or a folder holds no shard.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            shards = sorted(
                p for p in path.rglob("*.db") if p.name != TEMPLATE and not p.name.startswith(".")
            )
            if not shards:
                raise InputError(f"merge: folder {path} holds no shard (*.db)")
            found.extend(shards)
        elif path.exists():
            found.append(path)
        else:
            raise InputError(f"merge: {path} does not exist; give shard files or their folder")
    return found


def merge_shards(paths: list[Path], db: str | os.PathLike | None) -> list[Merged]:
    """Merge every shard named by ``paths`` into ``db``, one transaction per shard.

    Raises:
        InputError: as :func:`shard_files` and :func:`merge_shard`; shards merged
            before the failing one stay merged.
    """
    shards = shard_files(paths)
    make_engine(db, must_exist=True).dispose()  # an existing database at head
    return [merge_shard(shard, db) for shard in shards]


def runs_present(db: str | os.PathLike | None, run_ids: list[str]) -> set[str]:
    """Which of ``run_ids`` are completed in ``db`` already (merged before)."""
    engine = make_engine(db, must_exist=True)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT run_id FROM runs WHERE status = 'completed'")
            ).scalars()
            return set(rows) & set(run_ids)
    finally:
        engine.dispose()
