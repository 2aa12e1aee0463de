"""Import another SQLite database that has the seed tables of a Bluesky population.

The source needs ``bluesky_profiles``, ``feed_posts`` and ``agent_bios`` with
their seed columns (:mod:`simlab.schema`); it is opened read-only and never
changed. Its rows are copied (``feed_posts`` keep their ``post_id`` and
``source``; ``created_at`` is normalised to UTC), every profile becomes an
agent whose persona bio is its ``agent_bios.generated_bio`` when there is one,
else the profile bio, and posts are labelled and traits inferred as for any
import (:mod:`simlab.population.importing`). ``populations.config_json``
records the source path. Import is all or nothing.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, Table
from sqlalchemy.engine import Engine

from simlab.db import is_sqlite_file
from simlab.errors import InputError
from simlab.limits import MAX_COUNT
from simlab.population.importing import (
    COUNT_FIELDS,
    Post,
    Profile,
    import_population,
    utc_timestamp,
)
from simlab.population.writer import OnDuplicate, Summary
from simlab.schema import agent_bios, bluesky_profiles, feed_posts

SOURCE_TABLES: tuple[Table, ...] = (bluesky_profiles, feed_posts, agent_bios)


def open_readonly(path: Path, name: str) -> sqlite3.Connection:
    """Open ``path`` read-only after checking it is a SQLite file.

    Raises:
        InputError: missing, a directory, unreadable or not SQLite (named ``name``).
    """
    if not path.exists():
        raise InputError(f"import: {name}: no such file")
    if path.is_dir():
        raise InputError(f"import: {name}: is a directory, not a SQLite database")
    try:
        sqlite = is_sqlite_file(path)
    except OSError as exc:
        raise InputError(f"import: {name}: cannot read ({exc.strerror})") from None
    if not sqlite:
        raise InputError(f"import: {name}: not a SQLite database")
    try:
        connection = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise InputError(f"import: {name}: cannot open as SQLite ({exc})") from None
    return connection


def _check_layout(connection: sqlite3.Connection, name: str) -> None:
    present = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    missing = [t.name for t in SOURCE_TABLES if t.name not in present]
    if missing:
        needed = ", ".join(t.name for t in SOURCE_TABLES)
        raise InputError(
            f"import: {name}: missing table(s) {', '.join(missing)}; a source database needs {needed}"
        )
    for table in SOURCE_TABLES:
        columns = {row[1] for row in connection.execute(f'PRAGMA table_info("{table.name}")')}
        lacking = [c.name for c in table.columns if c.name not in columns]
        if lacking:
            raise InputError(
                f"import: {name}: table {table.name} lacks column(s) {', '.join(lacking)}"
            )


def _rows(connection: sqlite3.Connection, table: Table, name: str) -> list[dict[str, Any]]:
    """Every row of ``table``, checked against the seed column types (NULL, text, integer)."""
    columns = [c.name for c in table.columns]
    key = columns[0]
    select = f'SELECT {", ".join(columns)} FROM "{table.name}" ORDER BY "{key}"'
    rows = []
    for i, values in enumerate(connection.execute(select)):
        row = dict(zip(columns, values, strict=True))
        where = f"{table.name}[{row[key]!r}]" if isinstance(row[key], str) else f"{table.name}[{i}]"
        for column in table.columns:
            value = row[column.name]
            wanted = int if isinstance(column.type, Integer) else str
            if value is None:
                raise InputError(f"import: {name}: {where}.{column.name}: missing")
            if not isinstance(value, wanted):
                kind = "an integer" if wanted is int else "text"
                raise InputError(
                    f"import: {name}: {where}.{column.name}: expected {kind}, got {value!r}"
                )
            if column.name.endswith("_count") and not 0 <= value <= MAX_COUNT:
                raise InputError(
                    f"import: {name}: {where}.{column.name}: {value} is outside [0, {MAX_COUNT:.0e}]"
                )
        if table is feed_posts:
            row["created_at"] = utc_timestamp(row["created_at"])
            if row["created_at"] is None:
                raise InputError(f"import: {name}: {where}.created_at: not an ISO 8601 timestamp")
        rows.append(row)
    return rows


def read_source(path: str | os.PathLike) -> tuple[list[Profile], list[Post], list[dict]]:
    """Profiles, posts and agent_bios rows of a source database.

    Raises:
        InputError: the file is missing, not SQLite, lacks a table or column, or
            holds a NULL or mistyped value (naming table, row and column).
    """
    name = os.fspath(path)
    connection = open_readonly(Path(path), name)
    try:
        _check_layout(connection, name)
        profiles_rows, post_rows, bios = (_rows(connection, t, name) for t in SOURCE_TABLES)
    except sqlite3.Error as exc:
        raise InputError(f"import: {name}: cannot read ({exc})") from None
    finally:
        connection.close()
    profiles = [Profile(**row) for row in profiles_rows]
    posts = [
        Post(
            **{k: row[k] for k in ("post_id", "source", "uri", "author_handle", "text")},
            author_display_name=row["author_display_name"],
            created_at=row["created_at"],
            counts={field: row[field] for field in COUNT_FIELDS},
        )
        for row in post_rows
    ]
    return profiles, posts, bios


def import_sqlite(
    engine: Engine, path: str | os.PathLike, on_duplicate: OnDuplicate = "skip"
) -> Summary:
    """Import the profiles, posts and agent bios of another SQLite database, all or nothing.

    Rows seen before follow ``on_duplicate`` ('error', 'skip' or 'update').

    Raises:
        InputError: a bad source (see :func:`read_source`) or a re-import (naming the
            clash); nothing is written.
    """
    profiles, posts, bios = read_source(path)
    config = {"path": os.fspath(path), "labeller": "simlab.population.labels"}
    return import_population(
        engine, profiles, posts, "sqlite", config, bios, on_duplicate=on_duplicate
    )
