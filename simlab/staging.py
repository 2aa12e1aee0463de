"""Filling a database all or nothing: a failed ``init`` or import leaves no new file behind.

A command that fills a database (``simlab init``, ``simlab import ...``) gets
its engine from :func:`population_target`:

- a SQLite path that does not exist yet (or is an empty 0-byte file) is built
  as a hidden staging file beside it, migrated to head, filled, checkpointed
  and renamed into place only when the command succeeded; on any error the
  staging file is deleted, so the path stays absent (or 0 bytes);
- an existing database must be at the head revision (:func:`simlab.db.require_head`);
  the fill itself is one transaction, so a failure changes nothing in it;
- another server (a SQLAlchemy URL) is migrated when it has no simlab tables yet.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import Engine

from simlab import db as database


@contextmanager
def population_target(db: str | os.PathLike | None = None) -> Iterator[Engine]:
    """An engine on ``db`` at head, published only if the ``with`` body succeeds.

    Raises:
        InputError: ``db`` is not usable (see :func:`simlab.db.make_engine`) or an
            existing database is not at head.
    """
    url = database.resolve_url(db)
    path = database.sqlite_path(url)
    if path is None:
        engine = database.make_engine(db)
        if database.current_revision(engine) is None:
            database.migrate(engine)
        yield from _disposing(engine)
        return
    if path.exists() and path.stat().st_size > 0:
        yield from _disposing(database.make_engine(db, must_exist=True))
        return
    database.check_sqlite_target(url)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.staging")
    engine = database.make_engine(staging)
    try:
        database.migrate(engine)
        yield engine
        database.checkpoint_wal(engine)
    except BaseException:
        engine.dispose()
        _remove(staging)
        raise
    engine.dispose()
    os.replace(staging, path)
    _remove(staging, main=False)


def _disposing(engine: Engine) -> Iterator[Engine]:
    try:
        yield engine
    finally:
        engine.dispose()


def _remove(staging: Path, main: bool = True) -> None:
    """Delete a staging database and its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm", "-journal")[0 if main else 1 :]:
        Path(f"{staging}{suffix}").unlink(missing_ok=True)
