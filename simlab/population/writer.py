"""Write a built population in one transaction, refusing rows that are already there.

Every generator and importer builds plain row dicts per table and hands them to
:func:`write_population`, which checks them against the database, inserts a
``populations`` row and every table's rows (in foreign-key order) inside one
transaction: either all of it is written or none of it.

Re-imports: a row whose primary key or unique key (an agent's id or handle, a
profile's handle, a post id, ...) is already in the database is refused with an
:class:`~simlab.errors.InputError` naming the first clash, and nothing is
written. Adding *new* accounts and posts to a database that already holds a
population is allowed; each import adds its own ``populations`` row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, UniqueConstraint, func, select
from sqlalchemy.engine import Connection, Engine

from simlab.errors import InputError
from simlab.schema import (
    agent,
    agent_bios,
    agent_persona_bios,
    agent_traits,
    bluesky_profiles,
    feed_posts,
    initial_follows,
    populations,
    post_annotations,
    user_agent_profile_metadata,
)

Rows = dict[str, list[dict[str, Any]]]
"""Rows to insert, by table name."""

INSERT_ORDER: tuple[Table, ...] = (
    agent,
    agent_persona_bios,
    user_agent_profile_metadata,
    agent_traits,
    bluesky_profiles,
    agent_bios,
    feed_posts,
    post_annotations,
    initial_follows,
)


@dataclass(frozen=True)
class Summary:
    """What one ``simlab init`` / ``simlab import`` wrote."""

    population_id: int
    source: str  # 'synthetic', 'bluesky' or 'sqlite'
    agents: int
    posts: int
    follows: int  # initial_follows rows
    profiles: int  # bluesky_profiles rows

    def __str__(self) -> str:
        return (
            f"population {self.population_id} ({self.source}): {self.agents} agents, "
            f"{self.posts} posts, {self.follows} initial follows, {self.profiles} profiles"
        )


def records(**columns: Any) -> list[dict[str, Any]]:
    """Row dicts from equal-length column lists; a non-list value is repeated in every row.

    >>> records(a=[1, 2], b="x")
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    n = max((len(v) for v in columns.values() if isinstance(v, list)), default=0)
    lists = [v if isinstance(v, list) else [v] * n for v in columns.values()]
    return [dict(zip(columns, values, strict=True)) for values in zip(*lists, strict=True)]


def count_rows(connection: Connection, table: Table) -> int:
    """Number of rows in ``table``."""
    return connection.execute(select(func.count()).select_from(table)).scalar_one()


def _unique_keys(table: Table) -> list[tuple[str, ...]]:
    """Unique constraints first (an agent's handle reads better than its id), then the key."""
    keys = [
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    return [*keys, tuple(c.name for c in table.primary_key.columns)]


def refuse_clashes(connection: Connection, rows: Rows, context: str) -> None:
    """Raise InputError if any new row repeats a primary or unique key already stored.

    Raises:
        InputError: naming the table, key and first clashing value.
    """
    for table in INSERT_ORDER:
        new = rows.get(table.name) or []
        if not new or count_rows(connection, table) == 0:
            continue
        for columns in _unique_keys(table):
            stored = {
                tuple(row) for row in connection.execute(select(*(table.c[c] for c in columns)))
            }
            clashes = [r for r in new if tuple(r[c] for c in columns) in stored]
            if clashes:
                key = ", ".join(f"{c}={clashes[0][c]!r}" for c in columns)
                raise InputError(
                    f"{context}: {table.name} {key} is already in the database ({len(clashes)} "
                    f"of {len(new)} new rows clash); re-imports are refused: use a new --db or "
                    "leave out what was imported before"
                )


def write_population(
    engine: Engine, rows: Rows, source: str, config: dict[str, Any], created_at: str, context: str
) -> Summary:
    """Insert ``rows`` and one ``populations`` row in a single transaction.

    Args:
        engine: a database migrated to head.
        rows: row dicts by table name (tables of :data:`INSERT_ORDER`; missing means none).
        source: 'synthetic', 'bluesky' or 'sqlite'.
        config: stored as ``populations.config_json``.
        created_at: ISO 8601 timestamp for the ``populations`` row.
        context: prefix of error messages ("init", "import").

    Raises:
        InputError: a row is already in the database (nothing is written).
    """
    with engine.begin() as connection:
        refuse_clashes(connection, rows, context)
        result = connection.execute(
            populations.insert().values(
                source=source, config_json=json.dumps(config, sort_keys=True), created_at=created_at
            )
        )
        for table in INSERT_ORDER:
            if rows.get(table.name):
                connection.execute(table.insert(), rows[table.name])
    return Summary(
        population_id=result.inserted_primary_key[0],
        source=source,
        agents=len(rows.get("agent", [])),
        posts=len(rows.get("feed_posts", [])),
        follows=len(rows.get("initial_follows", [])),
        profiles=len(rows.get("bluesky_profiles", [])),
    )
