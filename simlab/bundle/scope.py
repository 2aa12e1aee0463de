"""Which rows of each table belong to a bundle, decided from the schema metadata alone.

A table's scope follows from its columns and foreign keys, so a table added
in a new revision is picked up with no edit here:

``comparison``
    has a ``comparison_id`` column: rows of the exported comparison (only in a
    ``--comparison`` bundle).
``run``
    has a ``run_id`` column: rows of the exported runs, plus, when ``run_id``
    is nullable, the rows that belong to no run (shared data such as an
    evaluation of a population post).
``run`` / ``comparison`` via a foreign key
    no such column, but a foreign key to a run- or comparison-scoped table:
    rows whose key is among the parent's exported rows.
``run`` by reference (:data:`REFERENCED_BY_RUNS`)
    no run key and no foreign key, but a column that run-scoped rows point
    at: the rows the exported runs point at. ``llm_cache`` is one: it holds
    full prompts and answers for every study ever run against the database,
    so exporting it whole would hand a colleague other studies' prompts; the
    entries the bundle's own ``llm_calls`` used (decisions and judge answers)
    go with it, so ``--llm-cache replay`` still reproduces those runs.
    ``sweeps`` is another: the sweeps the exported runs are cells of.
``population``
    everything else: agents, posts, traits, labels, profiles, the initial
    follow graph. A run reads the whole population in the database (see
    :func:`simlab.world.load_population`), so every row is exported.

:data:`NOT_EXPORTED` lists tables left out on purpose, each with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Column, MetaData, Table, select, true, tuple_
from sqlalchemy.sql.elements import ColumnElement

NOT_EXPORTED: dict[str, str] = {}
"""Tables never written to a bundle, by name, with the reason (none today)."""

REFERENCED_BY_RUNS: dict[str, tuple[str, str]] = {
    "llm_cache": ("llm_calls", "cache_key"),
    "sweeps": ("sweep_cells", "sweep_id"),
}
"""Table -> (run-scoped table, column): rows exported when that column of an exported row names them.

The column has the same name in both tables (``llm_cache.cache_key`` is
referenced by ``llm_calls.cache_key``; there is no foreign key because a call
may also miss the cache or bypass it). ``sweeps`` rows go with the exported
runs' ``sweep_cells`` rows: a bundle of one sweep's runs carries that sweep's
config, not every sweep of the database (other studies' grids, and sweeps
without cells in the target).
"""


@dataclass(frozen=True)
class Scope:
    """How one table's rows are selected for a bundle."""

    kind: str  # "comparison", "run", "population" or "excluded"
    reason: str
    via: str | None = None  # the parent table when the scope comes through a foreign key
    referenced_by: tuple[str, str] | None = None  # (table, column) of REFERENCED_BY_RUNS


@dataclass(frozen=True)
class Selection:
    """What a bundle holds: some runs, and the comparison they form (or None)."""

    run_ids: tuple[str, ...]
    comparison_id: str | None = None


def scope_of(table: Table) -> Scope:
    """The scope of ``table`` (see the module docstring for the rules)."""
    if table.name in NOT_EXPORTED:
        return Scope("excluded", NOT_EXPORTED[table.name])
    if table.name in REFERENCED_BY_RUNS:
        referrer, column = REFERENCED_BY_RUNS[table.name]
        return Scope(
            "run",
            f"rows named by the exported runs' {referrer}.{column} (not the whole table)",
            referenced_by=(referrer, column),
        )
    if "comparison_id" in table.c:
        return Scope("comparison", "has a comparison_id column")
    if "run_id" in table.c:
        return Scope("run", "has a run_id column")
    for fk in sorted(table.foreign_key_constraints, key=lambda f: f.referred_table.name):
        parent = scope_of(fk.referred_table)
        if parent.kind in ("comparison", "run"):
            return Scope(parent.kind, f"foreign key to {fk.referred_table.name}", via=fk.name)
    return Scope("population", "no run or comparison key: population data every run reads")


def bundle_tables(metadata: MetaData, selection: Selection) -> list[Table]:
    """The tables a bundle of ``selection`` holds, parents before children."""
    wanted = {"population", "run"} | ({"comparison"} if selection.comparison_id else set())
    return [t for t in metadata.sorted_tables if scope_of(t).kind in wanted]


def row_filter(table: Table, selection: Selection) -> ColumnElement[bool]:
    """The WHERE clause selecting ``table``'s rows for ``selection``."""
    scope = scope_of(table)
    if scope.kind == "population":
        return true()
    if scope.referenced_by is not None:
        referrer_name, column = scope.referenced_by
        referrer = table.metadata.tables[referrer_name]
        return table.c[column].in_(
            select(referrer.c[column]).where(row_filter(referrer, selection))
        )
    if scope.via is not None:
        fk = next(f for f in table.foreign_key_constraints if f.name == scope.via)
        parent = fk.referred_table
        referred = [element.column for element in fk.elements]
        return tuple_(*fk.columns).in_(select(*referred).where(row_filter(parent, selection)))
    if scope.kind == "comparison":
        return table.c.comparison_id == selection.comparison_id
    run_id = table.c.run_id
    in_runs = run_id.in_(selection.run_ids)
    return in_runs | run_id.is_(None) if run_id.nullable else in_runs


def surrogate_key(table: Table) -> Column | None:
    """The single autoincrement integer primary key column, or None.

    Such ids are local to one database (``populations.population_id``,
    ``run_failures.failure_id``, ...): an import keeps them when they are free
    and otherwise lets the database pick new ones.
    """
    column = table.autoincrement_column
    if column is None or len(table.primary_key.columns) != 1:
        return None
    return column
