"""Schema check: differences between ``simlab.schema`` and what the Alembic migrations create.

`simlab db check` runs it. (Named for the schema, not for leaning drift.)

Alembic's autogenerate compares tables, columns, types, nullability, defaults,
keys and indexes but ignores CHECK constraints, so those are compared here by
name and text against a freshly migrated database.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, inspect
from sqlalchemy.engine import Engine

from simlab.db import make_engine, migrate
from simlab.schema import metadata


def _normalise(sql: str) -> str:
    return re.sub(r"\s+", " ", str(sql)).strip()


def _declared_checks() -> dict[str, set[tuple[str, str]]]:
    declared: dict[str, set[tuple[str, str]]] = {}
    for table in metadata.tables.values():
        checks = {
            (str(c.name), _normalise(c.sqltext))
            for c in table.constraints
            if isinstance(c, CheckConstraint)
        }
        declared[table.name] = checks
    return declared


def check_constraint_differences(engine: Engine) -> list[str]:
    """Check constraints declared in schema.py but not in the database, and vice versa."""
    inspector = inspect(engine)
    problems = []
    for table, declared in _declared_checks().items():
        if not inspector.has_table(table):
            continue  # a missing table is reported by compare_metadata
        actual = {
            (c["name"], _normalise(c["sqltext"])) for c in inspector.get_check_constraints(table)
        }
        problems += [
            f"check {n} on {table} ({t}) missing from migrations"
            for n, t in sorted(declared - actual)
        ]
        problems += [
            f"check {n} on {table} ({t}) not in schema.py" for n, t in sorted(actual - declared)
        ]
    return problems


def find_differences() -> list[str]:
    """Every difference between schema.py and a database migrated to head, as sentences."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(Path(folder) / "schema_check.db")
        try:
            migrate(engine)
            with engine.connect() as connection:
                context = MigrationContext.configure(
                    connection, opts={"compare_type": True, "render_as_batch": True}
                )
                diffs = compare_metadata(context, metadata)
            return [_sentence(diff) for diff in diffs] + check_constraint_differences(engine)
        finally:
            engine.dispose()


def _sentence(diff) -> str:
    if isinstance(diff, list):  # column modifications come grouped
        return "; ".join(_sentence(d) for d in diff)
    kind, *rest = diff
    return f"{kind}: " + ", ".join(str(getattr(r, "name", r)) for r in rest if r is not None)
