"""Engines, SQLite pragmas and migrations: the one place that opens databases.

The database is chosen by an explicit ``db`` argument (a filesystem path or a
SQLAlchemy URL), else the ``SIMLAB_DB`` environment variable, else
``data/simlab.db``. Every SQLite connection gets ``PRAGMA foreign_keys=ON``,
``journal_mode=WAL`` and a busy timeout, so readers (DuckDB, notebooks) never
block the simulation writer.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from simlab.errors import InputError

DEFAULT_DB = Path("data") / "simlab.db"
BUSY_TIMEOUT_MS = 30_000
_SQLITE_HEADER = b"SQLite format 3\x00"
_PACKAGE_DIR = Path(__file__).resolve().parent


def resolve_url(db: str | os.PathLike | None = None) -> str:
    """Return the SQLAlchemy URL for ``db``, ``$SIMLAB_DB`` or ``data/simlab.db``.

    A value containing ``://`` is taken as a URL; anything else is a path.
    """
    value = os.fspath(db) if db is not None else os.environ.get("SIMLAB_DB") or str(DEFAULT_DB)
    if "://" in value:
        try:
            make_url(value)
        except ArgumentError as exc:
            raise InputError(f"--db: {value!r} is not a valid SQLAlchemy URL ({exc})") from None
        return value
    return f"sqlite:///{Path(value).expanduser().absolute()}"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def check_sqlite_target(url: str, must_exist: bool = False) -> None:
    """Refuse a SQLite path that is a directory, unwritable or not a SQLite file.

    Raises:
        InputError: naming the path and what is wrong with it.

    """
    path = sqlite_path(url)
    if path is None:
        return
    if path.is_dir():
        raise InputError(f"--db: {path} is a directory; give a SQLite file path")
    if path.exists():
        with path.open("rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
        if header and header != _SQLITE_HEADER:
            raise InputError(f"--db: {path} exists but is not a SQLite database")
        if not os.access(path, os.W_OK):
            raise InputError(f"--db: {path} is not writable")
        return
    if must_exist:
        raise InputError(f"--db: {path} does not exist; create it with `simlab db upgrade`")
    parent = path.parent
    if not parent.exists():
        if parent == DEFAULT_DB.parent.absolute():
            return  # the default data/ folder is created on demand
        raise InputError(f"--db: folder {parent} does not exist")
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--db: cannot create {path}: folder {parent} is not writable")


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(db: str | os.PathLike | None = None, must_exist: bool = False) -> Engine:
    """Create an engine for ``db`` (see :func:`resolve_url`) with simlab's pragmas.

    Args:
        db: a path, a SQLAlchemy URL, or None for ``$SIMLAB_DB`` / the default.
        must_exist: for SQLite, refuse to create a new file.

    Raises:
        InputError: the target cannot be a simlab database.

    """
    url = resolve_url(db)
    check_sqlite_target(url, must_exist=must_exist)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
        try:
            engine.connect().close()
        except OperationalError as exc:
            engine.dispose()
            raise InputError(f"--db: cannot open {path} ({exc.orig})") from None
    return engine


def migrations_dir() -> Path:
    """The Alembic script directory: inside the package when installed, else the repo's."""
    packaged = _PACKAGE_DIR / "migrations"
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / "migrations"


@cache
def _script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at simlab's migrations (and at ``url`` if given)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def check_revision(revision: str) -> None:
    """Raise InputError unless ``revision`` names a known migration (or head/base)."""
    if revision in ("head", "heads", "base"):
        return
    script = _script_directory()
    try:
        found = script.get_revisions(revision)
    except CommandError:
        found = ()
    if not found:
        known = ", ".join(["base", *[r.revision for r in script.walk_revisions()][::-1], "head"])
        raise InputError(f"unknown revision {revision!r}; known revisions: {known}")


def migrate(db: str | os.PathLike | Engine | None = None, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: the latest)."""
    _run_alembic(db, revision, command.upgrade)


def downgrade(db: str | os.PathLike | Engine | None, revision: str) -> None:
    """Downgrade the database to ``revision`` (``base`` removes every simlab table)."""
    _run_alembic(db, revision, command.downgrade)


def _run_alembic(db, revision: str, operation) -> None:
    check_revision(revision)
    engine = db if isinstance(db, Engine) else make_engine(db)
    config = alembic_config(str(engine.url))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        operation(config, revision)


def current_revision(db: str | os.PathLike | Engine | None = None) -> str | None:
    """The database's Alembic revision, or None for an empty database."""
    engine = db if isinstance(db, Engine) else make_engine(db, must_exist=True)
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest migration's revision id."""
    return _script_directory().get_current_head()
