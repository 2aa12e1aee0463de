"""Opening a simlab SQLite database in DuckDB, read-only, on or off the network.

``columnar`` (the default, ``connect(db)``)
    Finished runs are read from their Parquet copies beside the database
    (``<db>.columnar/``, one per run, written when the run completes and
    rebuilt on demand when missing or stale: :mod:`simlab.columnar`); runs
    being written, and the tables without a ``run_id`` column, are read
    through the attach (``wheel`` or ``download`` below). A connect waits
    only for the copies that are missing or stale. The catalog is described
    in :mod:`simlab.analytics.catalog`. Without the sqlite extension it falls
    back to ``arrow``; ``connect(db, columnar=False)`` reads only the attach.

Three ways to reach the SQLite file, tried in this order by ``method="auto"``:

``wheel``
    ``LOAD`` the ``sqlite_scanner`` binary shipped by the
    ``duckdb-extension-sqlite-scanner`` wheel (built for exactly the pinned
    duckdb version and one platform; where it does not fit, ``LOAD`` fails and
    the next method is tried), then ``ATTACH ... (TYPE sqlite, READ_ONLY)``.
``download``
    DuckDB's normal extension load: ``LOAD sqlite`` from DuckDB's extension
    directory (``~/.duckdb/extensions``), else ``INSTALL sqlite`` from
    extensions.duckdb.org. The install runs on a throwaway connection in a
    daemon thread that is abandoned after :data:`DOWNLOAD_TIMEOUT_S`, so a
    black-holed network costs seconds, not minutes. ``SIMLAB_OFFLINE=1``
    skips the network attempt.
``arrow``
    No extension: every table is read with Python's ``sqlite3`` (opened
    ``mode=ro``) and copied through Arrow record batches into an in-memory
    DuckDB catalog named ``sim``. Costs: one Python-level pass over every
    row at connect (measured: 105 s and 2.8 GB peak memory for a 4.9 GB
    database, 1.4 s for 74 MB) and the copy's memory for as long as the
    connection lives. The copy is a snapshot taken at connect time, so rows
    committed later are not seen (the attach paths see them on their next
    query); in exchange, aggregate queries on it run several times faster.

``snapshot`` (``connect(db, snapshot=True)``)
    A columnar copy of the SQLite file in a DuckDB file beside it
    (``<db>.analytics.duckdb``), made with ``COPY FROM DATABASE`` through the
    extension inside one read transaction (a consistent snapshot), rebuilt
    whenever the SQLite file or its WAL changed size or mtime, and attached
    READ_ONLY. The scanner cannot use SQLite's indexes or push filters down,
    so on large databases the copy is what makes DuckDB's analytical queries
    fast; the price is the copy time and disk, and rows committed after the
    copy are seen only at the next ``connect``.

Either way the tables appear as ``sim.<table>`` and the views of
:mod:`simlab.analytics.views` are created in the connection. The SQLite file
is never written: attaches are READ_ONLY, which is also the only mode that is
safe while a ``sqlite3`` writer works in the same process (two SQLite
libraries in one process must not both write: with a read-write attach the
WAL files vanished and DuckDB stopped seeing commits, see
``tests/test_analytics.py``).
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from simlab.analytics import pg_attach
from simlab.analytics.catalog import LIVE, create_catalog
from simlab.analytics.extensions import literal, wheel_binary
from simlab.analytics.views import create_views
from simlab.db import existing_sqlite_file, is_postgres, make_engine, require_head, resolve_url
from simlab.errors import InputError
from simlab.sqlite_arrow import batches, file_lock, identifier, open_read_only, table_schema

log = logging.getLogger("simlab.analytics")

SOURCE = "sim"
METHODS = ("wheel", "download", "arrow")
DOWNLOAD_TIMEOUT_S = 5.0
_VARIABLE = "simlab_access_method"


def connect(
    db: str | os.PathLike | None = None,
    method: str = "auto",
    snapshot: bool = False,
    columnar: bool = True,
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the simlab database attached READ_ONLY as ``sim``.

    Args:
        db: a SQLite path or ``sqlite:///`` URL; None means ``$SIMLAB_DB``, else
            ``data/simlab.db`` (see :func:`simlab.db.resolve_url`).
        method: ``auto`` (try ``wheel``, ``download``, ``arrow`` in turn) or one
            of them to force it (tests, ``simlab doctor``).
        snapshot: read a columnar DuckDB copy of the database (made or refreshed
            as needed; see the module docstring) instead of the SQLite file.
        columnar: read finished runs from their per-run columnar copies (the
            default; see the module docstring); False reads everything through
            the attach.

    Returns:
        The connection, with the views of :mod:`simlab.analytics.views`
        (``actions``, ``turn_metrics_long``, ``exposures``, ``feed_items``, ...). Which path
        was taken: :func:`access_method`.

    Raises:
        InputError: the database is missing, not SQLite, behind the head schema
            revision ("run `simlab db upgrade`"), or a forced ``method`` does not
            work here. A PostgreSQL URL is read by
            :func:`simlab.analytics.pg_attach.connect`.
    """
    if is_postgres(resolve_url(db)):
        return pg_attach.connect(resolve_url(db), method)
    path = existing_sqlite_file(db, reader="analytics")
    if method != "auto" and method not in METHODS:
        raise InputError(f"method: {method!r} is not one of auto, {', '.join(METHODS)}")
    con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": "false"})
    try:
        feed_items = None
        if snapshot:
            taken = _attach_snapshot(con, path, method)
        else:
            taken = _open(con, path, method, LIVE if columnar else SOURCE)
            if columnar and taken != "arrow":
                feed_items = create_catalog(con, path, SOURCE)
                taken = "columnar"
        con.execute(f"SET VARIABLE {_VARIABLE} = '{taken}'")
        create_views(con, feed_items)
    except duckdb.CatalogException:  # a table the views read is missing: an older schema?
        con.close()
        require_head(make_engine(path, must_exist=True, require_current=False))
        raise
    except BaseException:
        con.close()
        raise
    log.debug("analytics: %s attached via %s", path, taken)
    return con


def access_method(con: duckdb.DuckDBPyConnection) -> str:
    """How ``con`` reads the database.

    ``"columnar"``, ``"wheel"``, ``"download"``, ``"arrow"`` or ``"snapshot"`` for
    SQLite; ``"postgres"`` for PostgreSQL (:mod:`simlab.analytics.pg_attach`).
    """
    value = con.execute(f"SELECT getvariable('{_VARIABLE}')").fetchone()[0]
    if value is not None:
        return value
    # A cursor of a simlab connection shares its databases but not its variables.
    if con.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE database_name = $name", {"name": LIVE}
    ).fetchone()[0]:
        return "columnar"
    row = con.execute(
        "SELECT type FROM duckdb_databases() WHERE database_name = $name", {"name": SOURCE}
    ).fetchone()
    if row is None:
        raise InputError("this DuckDB connection was not opened by simlab.analytics.connect")
    if row[0] == "postgres":
        return pg_attach.METHOD
    if row[0] != "sqlite":
        return (
            "snapshot"
            if con.execute(
                "SELECT path FROM duckdb_databases() WHERE database_name = $name", {"name": SOURCE}
            ).fetchone()[0]
            else "arrow"
        )
    mode = con.execute(
        "SELECT install_mode FROM duckdb_extensions() WHERE extension_name = 'sqlite_scanner'"
    ).fetchone()
    return "download" if mode is not None and mode[0] == "REPOSITORY" else "wheel"


def _open(con: duckdb.DuckDBPyConnection, path: Path, method: str, alias: str = SOURCE) -> str:
    """Attach ``path`` as ``alias`` with the first method that works; return its name.

    The ``arrow`` fallback always copies into :data:`SOURCE`.
    """
    loaders = {"wheel": _load_wheel, "download": _load_download}
    for name in ("wheel", "download") if method == "auto" else (method,):
        if name == "arrow":
            break
        why = loaders[name](con)
        if why is None:
            try:
                con.execute(f"ATTACH {literal(path)} AS {alias} (TYPE sqlite, READ_ONLY)")
            except duckdb.Error as exc:
                raise InputError(f"--db: cannot open {path} ({_first_line(exc)})") from None
            return name
        log.debug("analytics: sqlite extension via %s unavailable: %s", name, why)
        if method == name:
            raise InputError(f"method: {name!r} does not work here ({why})")
    _copy_via_arrow(con, path)
    return "arrow"


def snapshot_path(path: Path) -> Path:
    """Where the columnar copy of the SQLite file ``path`` lives."""
    return path.with_name(path.name + ".analytics.duckdb")


def _fingerprint(path: Path) -> str:
    """Size and mtime of the SQLite file and its WAL: any commit changes one of them."""
    parts = []
    for file in (path, Path(f"{path}-wal")):
        stat = file.stat() if file.exists() else None
        # An empty WAL holds no commits; readers create one, which must not count.
        parts.append(f"{stat.st_size}:{stat.st_mtime_ns}" if stat and stat.st_size else "-")
    return "|".join(parts)


def _is_current(target: Path, fingerprint: str) -> bool:
    if not target.exists():
        return False
    try:
        with duckdb.connect(str(target), read_only=True) as existing:
            stored = existing.execute("SELECT fingerprint FROM simlab_snapshot").fetchone()
    except duckdb.Error:
        return False  # an unreadable or older copy is rebuilt
    return stored is not None and stored[0] == fingerprint


def refresh_snapshot(path: Path, method: str = "auto") -> Path:
    """Make (or reuse, when still current) the columnar DuckDB copy of ``path``.

    Safe with several processes: builders take an exclusive lock on
    ``<snapshot>.lock`` (readers of a finished copy need none), build under a
    name unique to the process, and rename it into place atomically, so a
    reader sees the old copy or the new one, never half of one.
    """
    target = snapshot_path(path)
    if _is_current(target, _fingerprint(path)):
        return target
    with file_lock(target.with_name(target.name + ".lock")):
        fingerprint = _fingerprint(path)
        if _is_current(target, fingerprint):  # another process built it while we waited
            return target
        scratch = target.with_name(f"{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            _build_snapshot(scratch, path, method, fingerprint)
            os.replace(scratch, target)
        finally:
            for leftover in (scratch, Path(f"{scratch}.wal")):
                leftover.unlink(missing_ok=True)
    log.debug("analytics: wrote snapshot %s", target)
    return target


def _build_snapshot(scratch: Path, path: Path, method: str, fingerprint: str) -> None:
    with duckdb.connect(str(scratch), config={"autoinstall_known_extensions": "false"}) as copy:
        if _open(copy, path, method) == "arrow":
            raise InputError(
                "--snapshot: needs DuckDB's sqlite extension, which is unavailable here"
            )
        own = copy.execute("SELECT current_database()").fetchone()[0]
        copy.execute("BEGIN")
        copy.execute(f"COPY FROM DATABASE {SOURCE} TO {identifier(own)}")
        copy.execute("COMMIT")
        copy.execute("CREATE TABLE simlab_snapshot AS SELECT $f AS fingerprint", {"f": fingerprint})


def _attach_snapshot(con: duckdb.DuckDBPyConnection, path: Path, method: str) -> str:
    target = refresh_snapshot(path, method)
    con.execute(f"ATTACH {literal(target)} AS {SOURCE} (READ_ONLY)")
    return "snapshot"


def wheel_extension() -> Path | None:
    """The sqlite_scanner binary shipped for this duckdb version, if that wheel is installed."""
    return wheel_binary("duckdb_extension_sqlite_scanner", "sqlite_scanner")


def _load_wheel(con: duckdb.DuckDBPyConnection) -> str | None:
    binary = wheel_extension()
    if binary is None:
        return f"no duckdb-extension-sqlite-scanner binary for duckdb {duckdb.__version__}"
    try:
        con.execute(f"LOAD {literal(binary)}")
    except duckdb.Error as exc:
        return _first_line(exc)
    return None


def _load_download(con: duckdb.DuckDBPyConnection) -> str | None:
    try:
        con.execute("LOAD sqlite")  # installed earlier in DuckDB's extension directory
        return None
    except duckdb.Error as exc:
        why = _first_line(exc)
    if os.environ.get("SIMLAB_OFFLINE") == "1":
        return f"{why}; not downloading (SIMLAB_OFFLINE=1)"
    why = _install_with_timeout(DOWNLOAD_TIMEOUT_S)
    if why is not None:
        return why
    try:
        con.execute("LOAD sqlite")
    except duckdb.Error as exc:
        return _first_line(exc)
    return None


def _install() -> None:
    """``INSTALL sqlite`` on a throwaway connection (writes DuckDB's extension directory)."""
    with duckdb.connect(":memory:") as scratch:
        scratch.execute("INSTALL sqlite")


def _install_with_timeout(timeout: float) -> str | None:
    """Run :func:`_install` for at most ``timeout`` seconds; None on success, else why not."""
    outcome: list[str | None] = []

    def target() -> None:
        try:
            _install()
            outcome.append(None)
        except Exception as exc:  # reported, never raised: the caller falls back
            outcome.append(_first_line(exc))

    worker = threading.Thread(target=target, name="simlab-duckdb-install", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return f"extension download still running after {timeout:g} s; gave up"
    return outcome[0]


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


# --- the arrow fallback -------------------------------------------------------------


def _from_arrow(con: duckdb.DuckDBPyConnection, sql: str, data: pa.Table | pa.RecordBatch) -> None:
    """Run ``sql`` with ``data`` registered as ``_simlab_batch`` (in this thread)."""
    con.register("_simlab_batch", data)
    try:
        con.execute(sql)
    finally:
        con.unregister("_simlab_batch")


def _copy_via_arrow(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Copy every table of ``path`` into an in-memory DuckDB catalog ``sim`` (a snapshot)."""
    source = open_read_only(path)
    try:
        source.execute("BEGIN")  # one read transaction: all tables from the same snapshot
        tables = [
            row[0]
            for row in source.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        con.execute(f"ATTACH ':memory:' AS {SOURCE}")
        for table in tables:
            schema = table_schema(source, table)
            target = f"{SOURCE}.{identifier(table)}"
            _from_arrow(
                con, f"CREATE TABLE {target} AS SELECT * FROM _simlab_batch", schema.empty_table()
            )
            for batch in batches(source, f"SELECT * FROM {identifier(table)}", schema):
                _from_arrow(con, f"INSERT INTO {target} SELECT * FROM _simlab_batch", batch)
        log.debug("analytics: copied %d tables from %s through Arrow", len(tables), path)
    finally:
        source.close()
