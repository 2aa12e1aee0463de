"""Engines, SQLite pragmas and migrations: the one place that opens databases.

The database is chosen by an explicit ``db`` argument (a filesystem path or a
SQLAlchemy URL), else the ``SIMLAB_DB`` environment variable, else
``data/simlab.db``. Every SQLite connection gets ``PRAGMA foreign_keys=ON``,
``journal_mode=WAL`` and a busy timeout, so readers (DuckDB, notebooks) never
block the simulation writer. A new file gets 16 KiB pages (:data:`PAGE_SIZE`).

This module is also the one home of the database-path rules: :func:`resolve_url`
turns ``db`` into a URL, :func:`sqlite_path` finds the file behind it,
:func:`check_sqlite_target` / :func:`existing_sqlite_file` check that file
(:data:`SQLITE_HEADER`), and :func:`require_head` is the schema guard every
writer passes: at head -> go; behind -> "run `simlab db upgrade`"; a revision
this simlab does not know -> refused, nothing written. Non-SQLite URLs fail
with one line (missing driver, no server, unsupported dialect).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from simlab.errors import InputError

if TYPE_CHECKING:  # imported where they are used: alembic ~0.9 s, sqlalchemy ~0.2 s at start-up
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import Engine

DEFAULT_DB = Path("data") / "simlab.db"
BUSY_TIMEOUT_MS = 30_000
PAGE_SIZE = 16_384
"""Page size of new SQLite files: 3% fewer bytes per run than 4 KiB pages (docs/storage.md).

It takes effect only on a file with no pages yet (existing files keep theirs)."""
SQLITE_HEADER = b"SQLite format 3\x00"
_PACKAGE_DIR = Path(__file__).resolve().parent


def _parsed(url: str):
    """``url`` parsed by SQLAlchemy (imported here, not at start-up)."""
    from sqlalchemy.engine import make_url

    return make_url(url)


def resolve_url(db: str | os.PathLike | None = None) -> str:
    """Return the SQLAlchemy URL for ``db``, ``$SIMLAB_DB`` or ``data/simlab.db``.

    A value containing ``://`` is taken as a URL; anything else is a path.
    """
    value = os.fspath(db) if db is not None else os.environ.get("SIMLAB_DB") or str(DEFAULT_DB)
    if "://" in value:
        from sqlalchemy.exc import ArgumentError

        from simlab.postgres import with_driver

        try:
            _parsed(value)
        except ArgumentError as exc:
            raise InputError(f"--db: {value!r} is not a valid SQLAlchemy URL ({exc})") from None
        return with_driver(value)
    return f"sqlite:///{Path(value).expanduser().absolute()}"


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL, or None for other databases and in-memory SQLite."""
    parsed = _parsed(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def is_postgres(url: str) -> bool:
    """True when ``url`` is a PostgreSQL SQLAlchemy URL (any driver)."""
    return _parsed(url).get_backend_name() == "postgresql"


def display_url(url: str) -> str:
    """``url`` fit to print: the file path for SQLite, else the URL with its password masked."""
    path = sqlite_path(url)
    if path is not None:
        return str(path)
    return _parsed(url).render_as_string(hide_password=True)


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` starts with the SQLite header (a 0-byte file does not).

    The file is probed through SQLite, never with a plain ``open()``: closing a
    file descriptor drops every POSIX lock the process holds on that file, so a
    plain read would silently unlock this process's open connections (and let
    other writers checkpoint under their snapshots: "database disk image is
    malformed"). SQLite defers such closes while its connections hold locks.

    Raises:
        OSError: the file cannot be read.
    """
    import sqlite3
    from contextlib import closing

    if path.stat().st_size < len(SQLITE_HEADER):
        return False
    try:
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA schema_version").fetchall()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            return False
        raise OSError(str(exc)) from None
    return True


def check_sqlite_target(url: str, must_exist: bool = False) -> None:
    """Refuse a SQLite path that is a directory, unwritable or not a SQLite file.

    A 0-byte file is accepted only when ``must_exist`` is False (it becomes the
    new database); a command that reads an existing database refuses it, so the
    file is never turned into a SQLite file behind the user's back.

    Raises:
        InputError: naming the path and what is wrong with it.

    """
    path = sqlite_path(url)
    if path is None:
        return
    if path.is_dir():
        raise InputError(f"--db: {path} is a directory; give a SQLite file path")
    if path.exists():
        _check_existing_file(path, allow_empty=not must_exist)
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


def _check_existing_file(path: Path, allow_empty: bool) -> None:
    try:
        empty = path.stat().st_size == 0
        sqlite = not empty and is_sqlite_file(path)
    except OSError as exc:
        raise InputError(f"--db: cannot read {path} ({exc.strerror})") from None
    if empty and not allow_empty:
        raise InputError(
            f"--db: {path} is an empty file (0 bytes), not a simlab database; "
            "create one with `simlab db upgrade` or `simlab init`"
        )
    if not empty and not sqlite:
        raise InputError(f"--db: {path} exists but is not a SQLite database")


def existing_sqlite_file(db: str | os.PathLike | None = None, reader: str = "simlab") -> Path:
    """The path of an existing, non-empty SQLite database (``db``, ``$SIMLAB_DB`` or the default).

    For readers that open the file themselves (DuckDB, the notebooks).

    Args:
        db: a path, a ``sqlite:///`` URL, or None.
        reader: who needs the file, for the message (e.g. "analytics").

    Raises:
        InputError: not SQLite, in-memory, missing, empty or not a SQLite file.

    """
    url = resolve_url(db)
    backend = _parsed(url).get_backend_name()
    if backend != "sqlite":
        raise InputError(f"--db: {reader} reads SQLite files only, not {backend}")
    path = sqlite_path(url)
    if path is None:
        raise InputError(f"--db: {reader} needs a SQLite file, not an in-memory database")
    if not path.exists():
        raise InputError(f"--db: {path} does not exist; create it with `simlab db upgrade`")
    if not path.is_file():
        raise InputError(f"--db: {path} is not a file; give a SQLite file path")
    _check_existing_file(path, allow_empty=False)
    return path


def _set_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")  # before WAL: the file's first page
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(
    db: str | os.PathLike | None = None,
    must_exist: bool = False,
    require_current: bool | None = None,
) -> Engine:
    """Create an engine for ``db`` (see :func:`resolve_url`) with simlab's pragmas.

    Args:
        db: a path, a SQLAlchemy URL, or None for ``$SIMLAB_DB`` / the default.
        must_exist: for SQLite, refuse to create a new file (or use a 0-byte one).
        require_current: refuse a database whose schema is not at head
            (:func:`require_head`); default: the same as ``must_exist``, so every
            command that works on an existing database is guarded.

    Raises:
        InputError: the target cannot be a simlab database, cannot be reached,
            or (``require_current``) is not at the head revision.

    """
    from sqlalchemy import event
    from sqlalchemy.exc import DBAPIError

    url = resolve_url(db)
    check_sqlite_target(url, must_exist=must_exist)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = _create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    try:
        engine.connect().close()
    except DBAPIError as exc:
        engine.dispose()
        raise InputError(
            f"--db: cannot open {display_url(url)} ({_first_line(exc.orig)})"
        ) from None
    if require_current if require_current is not None else must_exist:
        try:
            require_head(engine)
        except InputError:
            engine.dispose()
            raise
    return engine


def _create_engine(url: str) -> Engine:
    """``create_engine`` with a missing driver or an unknown dialect as one-line errors."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import NoSuchModuleError

    parsed = _parsed(url)
    try:
        return create_engine(url)
    except NoSuchModuleError:
        raise InputError(
            f"--db: unsupported database dialect {parsed.drivername!r} in {display_url(url)}; "
            "use a SQLite path or a sqlite:/// URL"
        ) from None
    except ImportError as exc:
        raise InputError(
            f"--db: the {parsed.get_backend_name()} driver {exc.name or parsed.drivername!r} "
            f"is not installed (needed for {display_url(url)})"
        ) from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def checkpoint_wal(engine: Engine) -> None:
    """Fold a SQLite database's WAL back into the file and truncate it (writers, at run end).

    Best effort: while a reader holds an old snapshot the checkpoint stops early,
    which is harmless (the next one finishes the job).
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def migrations_dir() -> Path:
    """The Alembic script directory: inside the package when installed, else the repo's."""
    packaged = _PACKAGE_DIR / "migrations"
    return packaged if packaged.is_dir() else _PACKAGE_DIR.parent / "migrations"


@cache
def _script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at simlab's migrations (and at ``url`` if given)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def check_revision(revision: str) -> None:
    """Raise InputError unless ``revision`` names a known migration (or head/base)."""
    if revision in ("head", "heads", "base"):
        return
    from alembic.util.exc import CommandError

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
    from alembic import command

    _run_alembic(db, revision, command.upgrade)


def downgrade(db: str | os.PathLike | Engine | None, revision: str) -> None:
    """Downgrade the database to ``revision`` (``base`` removes every simlab table)."""
    from alembic import command

    _run_alembic(db, revision, command.downgrade)


def _run_alembic(db, revision: str, operation) -> None:
    from alembic.util.exc import CommandError
    from sqlalchemy.engine import Engine

    check_revision(revision)
    engine = db if isinstance(db, Engine) else make_engine(db)
    config = alembic_config(str(engine.url))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            operation(config, revision)
    except CommandError as exc:  # e.g. the database is at a revision this simlab lacks
        raise InputError(f"--db: {display_url(str(engine.url))}: {_first_line(exc)}") from None


def current_revision(db: str | os.PathLike | Engine | None = None) -> str | None:
    """The database's Alembic revision, or None for an empty database."""
    from sqlalchemy.engine import Engine

    engine = (
        db if isinstance(db, Engine) else make_engine(db, must_exist=True, require_current=False)
    )
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest migration's revision id."""
    return _script_directory().get_current_head()


def known_revisions() -> list[str]:
    """Every migration's revision id, oldest first."""
    return [r.revision for r in _script_directory().walk_revisions()][::-1]


def require_head(engine: Engine) -> None:
    """The schema guard: pass only when ``engine``'s database is at the head revision.

    Raises:
        InputError: behind head ("run `simlab db upgrade`"), empty, or at a
            revision this simlab does not know (written by a newer simlab).

    """
    revision, head = current_revision(engine), head_revision()
    if revision == head:
        return
    where = display_url(str(engine.url))
    if revision is None:
        raise InputError(
            f"--db: {where} has no simlab tables; run `simlab db upgrade` (or `simlab init`)"
        )
    if revision in known_revisions():
        raise InputError(
            f"--db: {where} is at schema revision {revision}, behind {head}: "
            "run `simlab db upgrade`"
        )
    raise InputError(
        f"--db: {where} is at schema revision {revision!r}, which this simlab does not know "
        f"(its newest is {head}); use the simlab version that wrote it"
    )
