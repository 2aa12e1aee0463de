"""Write a built population in one transaction, with a policy for rows seen before.

Every generator and importer builds plain row dicts per table and hands them to
:func:`write_population`, which checks them against the database, inserts a
``populations`` row and every table's rows (in foreign-key order) inside one
transaction: either all of it is written or none of it.

Rows seen before: a new row whose primary key is already stored (an agent's
DID, a post id, ...) is handled by ``on_duplicate``:

- ``'error'``: refuse the whole import with an :class:`~simlab.errors.InputError`
  naming the first clash (nothing is written);
- ``'skip'`` (the importers' default): keep the stored row, insert the rest;
- ``'update'``: overwrite the stored row's other columns with the new values.

A row that repeats a stored *unique* key under a different primary key (a new
DID with a handle an agent already has) is always refused: it cannot be
merged. Handle-history rows (``account_handles``) are merged in every mode,
widening their first/last seen times. The :class:`Summary` counts what was
new, skipped and updated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Table, UniqueConstraint, and_, func, select
from sqlalchemy.engine import Connection, Engine

from simlab.errors import InputError
from simlab.schema import (
    account_handles,
    agent,
    agent_bios,
    agent_inferences,
    agent_persona_bios,
    agent_traits,
    bluesky_profiles,
    feed_posts,
    imported_engagement,
    initial_follows,
    populations,
    post_annotations,
    post_details,
    post_inferences,
    post_labels,
    reposts,
    user_agent_profile_metadata,
)

Rows = dict[str, list[dict[str, Any]]]
"""Rows to insert, by table name."""

OnDuplicate = Literal["error", "skip", "update"]
ON_DUPLICATE: tuple[str, ...] = ("error", "skip", "update")

INSERT_ORDER: tuple[Table, ...] = (
    agent,
    agent_persona_bios,
    user_agent_profile_metadata,
    agent_traits,
    agent_inferences,
    bluesky_profiles,
    agent_bios,
    account_handles,
    feed_posts,
    post_annotations,
    post_inferences,
    post_details,
    post_labels,
    reposts,
    imported_engagement,
    initial_follows,
)


@dataclass(frozen=True)
class Summary:
    """What one ``simlab init`` / ``simlab import`` wrote."""

    population_id: int
    source: str  # 'synthetic', 'bluesky', 'sqlite' or 'oasis'
    agents: int
    posts: int
    follows: int  # initial_follows rows
    profiles: int  # bluesky_profiles rows
    skipped: dict[str, int] = field(default_factory=dict)  # rows seen before, kept, by table
    updated: dict[str, int] = field(default_factory=dict)  # rows seen before, overwritten
    extra: dict[str, int] = field(default_factory=dict)  # other counts (reposts, hidden, ...)

    def __str__(self) -> str:
        line = (
            f"population {self.population_id} ({self.source}): {self.agents} agents, "
            f"{self.posts} posts, {self.follows} initial follows, {self.profiles} profiles"
        )
        seen = [
            f"{n} {table} {verb}"
            for verb, counts in (("skipped", self.skipped), ("updated", self.updated))
            for table, n in counts.items()
            if n and table in ("agent", "feed_posts")
        ]
        if self.skipped or self.updated:
            line += "; seen before: " + (", ".join(seen) or "none")
        more = [f"{n} {name}" for name, n in self.extra.items() if n]
        return line + (f"; {', '.join(more)}" if more else "")


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


def _primary_key(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.primary_key.columns)


def _unique_keys(table: Table) -> list[tuple[str, ...]]:
    return [
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]


def _stored(connection: Connection, table: Table, columns: tuple[str, ...]) -> set[tuple]:
    return {tuple(row) for row in connection.execute(select(*(table.c[c] for c in columns)))}


def _clash_error(context: str, table: Table, columns, row, n: int, total: int, hint: str):
    key = ", ".join(f"{c}={row[c]!r}" for c in columns)
    return InputError(
        f"{context}: {table.name} {key} is already in the database ({n} of {total} new rows "
        f"clash); {hint}"
    )


def _first_of_each_key(table: Table, rows: list[dict]) -> list[dict]:
    """Rows of one import with a repeated primary key: the first occurrence wins."""
    pk, seen, kept = _primary_key(table), set(), []
    for row in rows:
        key = tuple(row[c] for c in pk)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def _split(connection, table: Table, new: list[dict], context: str, mode: str):
    """(rows to insert, rows to update, number skipped) for one table (module docstring)."""
    pk = _primary_key(table)
    new = _first_of_each_key(table, new)
    stored_pk = _stored(connection, table, pk)
    seen = [r for r in new if tuple(r[c] for c in pk) in stored_pk]
    fresh = [r for r in new if tuple(r[c] for c in pk) not in stored_pk]
    for columns in _unique_keys(table):
        stored = _stored(connection, table, columns)
        clashes = [r for r in fresh if tuple(r[c] for c in columns) in stored]
        if clashes:
            raise _clash_error(context, table, columns, clashes[0], len(clashes), len(new),
                               "it belongs to another account: use a new --db")  # fmt: skip
    if seen and mode == "error" and table is not account_handles:
        raise _clash_error(context, table, pk, seen[0], len(seen), len(new),
                           "re-imports are refused with --on-duplicate error; use skip or update")  # fmt: skip
    if table is account_handles or mode == "update":
        return fresh, seen, 0
    return fresh, [], len(seen)


def _merge_handles(connection: Connection, rows: list[dict]) -> list[dict]:
    """Stored handle-history rows widened to the new first/last seen times."""
    merged = []
    for row in rows:
        where = and_(account_handles.c.did == row["did"], account_handles.c.handle == row["handle"])
        old = connection.execute(select(account_handles).where(where)).one()
        merged.append({**row, "first_seen_at": min(old.first_seen_at, row["first_seen_at"]),
                       "last_seen_at": max(old.last_seen_at, row["last_seen_at"])})  # fmt: skip
    return merged


def _update(connection: Connection, table: Table, rows: list[dict]) -> None:
    pk = _primary_key(table)
    for row in rows:
        where = and_(*(table.c[c] == row[c] for c in pk))
        keep = set(pk) | ({"created_at"} if "updated_at" in table.c else set())
        values = {k: v for k, v in row.items() if k not in keep}
        if values:
            connection.execute(table.update().where(where).values(**values))


def write_population(
    engine: Engine,
    rows: Rows,
    source: str,
    config: dict[str, Any],
    created_at: str,
    context: str,
    on_duplicate: OnDuplicate = "error",
    extra: dict[str, int] | None = None,
) -> Summary:
    """Insert ``rows`` and one ``populations`` row in a single transaction.

    Args:
        engine: a database migrated to head.
        rows: row dicts by table name (tables of :data:`INSERT_ORDER`; missing means none).
        source: 'synthetic', 'bluesky', 'sqlite' or 'oasis'.
        config: stored as ``populations.config_json``.
        created_at: ISO 8601 timestamp for the ``populations`` row.
        context: prefix of error messages ("init", "import").
        on_duplicate: what to do with rows already stored (module docstring).
        extra: other counts for the summary line.

    Raises:
        InputError: a clash the policy refuses, or an unknown policy (nothing is written).
    """
    if on_duplicate not in ON_DUPLICATE:
        raise InputError(
            f"--on-duplicate: {on_duplicate!r} is not one of {', '.join(ON_DUPLICATE)}"
        )
    inserted: dict[str, int] = {}
    skipped: dict[str, int] = {}
    updated: dict[str, int] = {}
    with engine.begin() as connection:
        plan = []
        for table in INSERT_ORDER:
            new = rows.get(table.name) or []
            if not new:
                continue
            fresh, seen, n_skipped = _split(connection, table, new, context, on_duplicate)
            if table is account_handles and seen:
                seen = _merge_handles(connection, seen)
            plan.append((table, fresh, seen))
            inserted[table.name], skipped[table.name] = len(fresh), n_skipped
            updated[table.name] = len(seen) if table is not account_handles else 0
        result = connection.execute(
            populations.insert().values(
                source=source, config_json=json.dumps(config, sort_keys=True), created_at=created_at
            )
        )
        for table, fresh, seen in plan:
            _update(connection, table, seen)
            if fresh:
                connection.execute(table.insert(), fresh)
    new_details = next((fresh for table, fresh, _ in plan if table is post_details), [])
    extra = {"reposts": inserted.get("reposts", 0),
             "labelled posts not served": sum(1 for r in new_details if not r["served"]),
             **(extra or {})}  # fmt: skip
    mode_counts = on_duplicate != "error" and any((*skipped.values(), *updated.values()))
    return Summary(
        population_id=result.inserted_primary_key[0],
        source=source,
        agents=inserted.get("agent", 0),
        posts=inserted.get("feed_posts", 0),
        follows=inserted.get("initial_follows", 0),
        profiles=inserted.get("bluesky_profiles", 0),
        skipped={k: v for k, v in skipped.items() if v} if mode_counts else {},
        updated={k: v for k, v in updated.items() if v} if mode_counts else {},
        extra=extra,
    )
