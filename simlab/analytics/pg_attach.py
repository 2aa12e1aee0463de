"""Opening a simlab PostgreSQL database in DuckDB, read-only, with no extension download.

The ``postgres_scanner`` binary comes from the ``duckdb-extension-postgres-scanner``
wheel, built for exactly the pinned duckdb version (1.5.5); it is ``LOAD``-ed from
the wheel's folder, never installed from extensions.duckdb.org (auto-install and
auto-load are off). The database is then attached as ``sim``::

    CREATE TEMPORARY SECRET simlab_pg_N (TYPE postgres, HOST ..., PORT ..., USER ...,
                                         PASSWORD ..., DATABASE ...)
    ATTACH '<other libpq options>' AS sim (TYPE postgres, SECRET simlab_pg_N, READ_ONLY)

The connection parameters live in a temporary (in-memory) DuckDB secret, so the
password shows in neither ``duckdb_databases()`` nor any error text
(``duckdb_secrets()`` redacts it). Tables appear as ``sim.<table>`` (schema
``public``), exactly as the SQLite attach gives them, and the views of
:mod:`simlab.analytics.views` are built on them. Each query reads PostgreSQL
live through the binary COPY protocol, so rows committed by a running
simulation are seen by the next query.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
from sqlalchemy.engine import make_url

from simlab.analytics.extensions import literal, wheel_binary
from simlab.errors import InputError

SCANNER_PACKAGE = "duckdb_extension_postgres_scanner"
METHOD = "postgres"
_secret_names = itertools.count()


def scanner_binary() -> Path | None:
    """The postgres_scanner binary shipped for this duckdb version, if that wheel is installed."""
    return wheel_binary(SCANNER_PACKAGE, "postgres_scanner")


def _libpq_value(value: object) -> str:
    """A libpq ``key=value`` value in single quotes, backslash-escaped."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def secret_options(url: str) -> dict[str, str | int]:
    """The DuckDB postgres secret's fields for a SQLAlchemy URL (HOST, PORT, USER, ...)."""
    parsed = make_url(url)
    options = {
        "HOST": parsed.host,
        "PORT": parsed.port,
        "USER": parsed.username,
        "PASSWORD": parsed.password,
        "DATABASE": parsed.database,
    }
    return {key: value for key, value in options.items() if value not in (None, "")}


def attach_string(url: str) -> str:
    """The libpq options of ``url`` that a secret cannot hold (its query: ``sslmode=...``)."""
    query = make_url(url).query
    return " ".join(
        f"{key}={_libpq_value(value if isinstance(value, str) else value[-1])}"
        for key, value in sorted(query.items())
    )


def attach_postgres(con: duckdb.DuckDBPyConnection, url: str, catalog: str) -> str:
    """Load the wheel's scanner and attach the PostgreSQL database ``url`` READ_ONLY as ``catalog``.

    Args:
        con: the DuckDB connection (auto-install of extensions off).
        url: a ``postgresql[+driver]://`` SQLAlchemy URL.
        catalog: the name the database gets in ``con`` (``sim``).

    Returns:
        ``"postgres"``, the access method recorded by :func:`simlab.analytics.access_method`.

    Raises:
        InputError: the wheel is missing or does not fit this platform, or the
            server cannot be reached (one line; the password is never shown).
    """
    binary = scanner_binary()
    if binary is None:
        raise InputError(
            f"--db: reading PostgreSQL needs the duckdb-extension-postgres-scanner wheel "
            f"for duckdb {duckdb.__version__} (uv add duckdb-extension-postgres-scanner"
            f"=={duckdb.__version__})"
        )
    try:
        con.execute(f"LOAD {literal(binary)}")
    except duckdb.Error as exc:
        raise InputError(f"--db: cannot load {binary.name} ({_first_line(exc)})") from None
    secret = f"simlab_pg_{next(_secret_names)}"
    fields = ", ".join(
        f"{key} {value if isinstance(value, int) else literal(value)}"
        for key, value in secret_options(url).items()
    )
    con.execute(f"CREATE TEMPORARY SECRET {secret} (TYPE postgres, {fields})")
    try:
        con.execute(
            f"ATTACH {literal(attach_string(url))} AS {catalog} "
            f"(TYPE postgres, SECRET {secret}, READ_ONLY)"
        )
    except duckdb.Error as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        raise InputError(f"--db: cannot open {shown} ({_first_line(exc)})") from None
    return METHOD


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def connect(url: str, method: str = "auto") -> duckdb.DuckDBPyConnection:
    """:func:`simlab.analytics.connect` for a PostgreSQL URL: the same catalog, views and functions.

    Args:
        url: a ``postgresql[+driver]://`` SQLAlchemy URL.
        method: ``auto`` or ``postgres`` (the only way to read PostgreSQL).

    Returns:
        An in-memory DuckDB connection with the database attached READ_ONLY as
        ``sim`` and the views of :mod:`simlab.analytics.views`. Queries read
        PostgreSQL live: there is no columnar copy (``snapshot`` is ignored).

    Raises:
        InputError: a ``method`` other than ``auto``/``postgres``, or see
            :func:`attach_postgres`.
    """
    from simlab.analytics import connection  # the SQLite module, which dispatches here
    from simlab.analytics.views import create_views

    if method not in ("auto", METHOD):
        raise InputError(f"method: {method!r} cannot read PostgreSQL; use auto or {METHOD}")
    con = duckdb.connect(
        ":memory:",
        config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"},
    )
    try:
        attach_postgres(con, url, connection.SOURCE)
        con.execute(f"SET VARIABLE {connection._VARIABLE} = '{METHOD}'")
        create_views(con)
    except BaseException:
        con.close()
        raise
    return con
