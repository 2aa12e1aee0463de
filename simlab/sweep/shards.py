"""Per-cell SQLite shards of a sweep: the template, a cell's shard, the shards named for a merge.

With a SQLite database, each cell of a sweep writes its run into a shard file
of its own, so no two processes write one SQLite file and a shard may live on
a worker's disk or a shared file system. A shard starts as a copy of the
sweep's template: a fresh database at head holding the population tables of
the sweep's database (:func:`simlab.sweep.fingerprint.population_tables`),
made once per sweep and copied per cell (a page copy, no migration or
population insert per cell). :mod:`simlab.sweep.merge` merges shards back.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from simlab import lifecycle
from simlab.db import make_engine, migrate
from simlab.errors import InputError
from simlab.schema import metadata
from simlab.sweep.fingerprint import population_tables

TEMPLATE = "template.db"


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
