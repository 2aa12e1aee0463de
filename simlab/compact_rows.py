"""Compact action rows of the rule-based policy, and the SQL that expands them again.

A rule-based like, comment or follow stores (since revision ``0009_compact_rows``)

* ``generation_metadata_json`` = ``[p,draw,rank,term_1,...,term_n]``: a JSON array
  of numbers, the logit terms in the order of :data:`LOGIT_TERMS` for the action's
  kind, each number written as Python's ``repr`` of the rounded value (``p`` and
  ``draw`` to 6 decimals, the terms to 4), so no key is repeated on every row;
* ``explanation`` = NULL: the sentence is built when read.

The views ``likes_explained``, ``comments_explained`` and ``follows_explained``
(SQLite and PostgreSQL, made by the migration) and the DuckDB ``actions`` view
(:mod:`simlab.analytics.views`) expand such a row with :func:`expanded_columns`:

* ``generation_metadata_json`` =
  ``{"p": P, "draw": D, "logit_terms": {"base": B, ...}, "rank": R}``, byte for
  byte what the policy stored before revision 0009 (the numbers are copied as
  stored text, never re-formatted);
* ``explanation`` = ``"<kind> at rank R: p P > draw D; logit terms base B, ..."``.

Rows that are not compact (an LLM's decisions, rows written before 0009) have
an explanation and pass through unchanged. The layout is part of revision 0009:
changing it needs a new revision.

Since revision ``0011_lean_rows`` a compact row also stores

* ``generation_created_at`` = NULL: it was always the row's ``created_at`` (one
  wall clock per turn), and the views return ``created_at``;
* ``model_used`` = NULL when it is the run's policy's ``model_used``, which
  ``run_models.model_used`` records once per run; the views return that.

A compact row that stores either value (every row written before 0011, an LLM
run's rule-based fallback rows) passes it through unchanged.
:func:`explained_view` gives the ``*_explained`` view of either revision.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat

import numpy as np

LOGIT_TERMS: dict[str, tuple[str, ...]] = {
    "like": ("base", "interest", "agreement", "popularity", "position"),
    "comment": ("base", "interest", "stance", "position"),
    "follow": ("base", "interest", "agreement", "liked", "position"),
}
"""The logit terms of each action kind, in stored order (see :mod:`simlab.policies.rule_based`)."""

HEAD = ("p", "draw", "rank")
"""The first three numbers of every compact row."""


def template(kind: str) -> str:
    """The ``%`` template of one compact row of ``kind``: p, draw (%r), rank (%d), terms (%r)."""
    return "[%r,%r,%d," + ",".join(["%r"] * len(LOGIT_TERMS[kind])) + "]"


def item_sql(dialect: str, column: str) -> Callable[[int], str]:
    """SQL giving the stored text of the ``i``-th number of a compact ``column`` in ``dialect``.

    SQLite's ``->`` returns a JSON number's text as written; PostgreSQL and DuckDB
    split the array text on commas. Either way the text is the stored one.
    """
    if dialect == "sqlite":
        return lambda i: f"({column} -> '$[{i}]')"
    trim = "btrim" if dialect == "postgresql" else "trim"
    return lambda i: f"split_part({trim}({column}, '[]'), ',', {i + 1})"


def expanded_columns(kind: str, dialect: str, explanation: str, metadata: str) -> tuple[str, str]:
    """SQL for the (explanation, generation_metadata_json) of a ``kind`` row in ``dialect``.

    Args:
        kind: ``like``, ``comment`` or ``follow``.
        dialect: ``sqlite``, ``postgresql`` or ``duckdb``.
        explanation: the stored explanation column (qualified as needed).
        metadata: the stored generation_metadata_json column.

    Returns:
        Two SQL expressions: the expanded values for compact rows, the stored ones otherwise.
    """
    item = item_sql(dialect, metadata)
    terms = LOGIT_TERMS[kind]
    keyed = " || ', ' || ".join(f"'\"{name}\": ' || {item(3 + n)}" for n, name in enumerate(terms))
    full = (
        f"""'{{"p": ' || {item(0)} || ', "draw": ' || {item(1)} || ', "logit_terms": {{' """
        f"""|| {keyed} || '}}, "rank": ' || {item(2)} || '}}'"""
    )
    sentence_terms = " || ', ' || ".join(
        f"'{name} ' || {item(3 + n)}" for n, name in enumerate(terms)
    )
    sentence = (
        f"'{kind} at rank ' || {item(2)} || ': p ' || {item(0)} || ' > draw ' || {item(1)} "
        f"|| '; logit terms ' || {sentence_terms}"
    )
    compact = is_compact(explanation, metadata)
    return (
        f"CASE WHEN {compact} THEN {sentence} ELSE {explanation} END",
        f"CASE WHEN {compact} THEN {full} ELSE {metadata} END",
    )


def is_compact(explanation: str, metadata: str) -> str:
    """SQL true for a compact row: no stored explanation and array metadata."""
    return f"{explanation} IS NULL AND {metadata} LIKE '[%'"


def compact_mask(explanation: np.ndarray, metadata: np.ndarray) -> np.ndarray:
    """(m,) bool: the rows :func:`is_compact` is true for, from (m,) object arrays of both columns.

    What the recorder tests before storing less; no Python call per row.
    """
    found = np.equal(explanation, None) & np.not_equal(metadata, None)
    at = np.flatnonzero(found)
    found[at] = np.fromiter(map(str.startswith, metadata[at], repeat("[")), bool, len(at))
    return found


def lean_columns(kind: str, dialect: str, table: str) -> dict[str, str]:
    """SQL rebuilding the four generation columns of a ``kind`` row of ``table`` (revision 0011).

    Args:
        kind: ``like``, ``comment`` or ``follow``.
        dialect: ``sqlite``, ``postgresql`` or ``duckdb``.
        table: the name or alias of the action table in the query (``run_models``
            is looked up by its ``run_id``, as ``run_models`` in SQLite and
            PostgreSQL and ``sim.run_models`` in DuckDB).

    Returns:
        explanation, model_used, generation_metadata_json and generation_created_at,
        each the value the row held before it was stored compactly.
    """
    explanation, metadata = f"{table}.explanation", f"{table}.generation_metadata_json"
    compact = is_compact(explanation, metadata)
    models = "sim.run_models" if dialect == "duckdb" else "run_models"
    policy_model = f"(SELECT m.model_used FROM {models} AS m WHERE m.run_id = {table}.run_id)"
    full_explanation, full_metadata = expanded_columns(kind, dialect, explanation, metadata)
    return {
        "explanation": full_explanation,
        "model_used": f"CASE WHEN {table}.model_used IS NULL AND {compact} THEN {policy_model} "
        f"ELSE {table}.model_used END",
        "generation_metadata_json": full_metadata,
        "generation_created_at": f"CASE WHEN {table}.generation_created_at IS NULL AND {compact} "
        f"THEN {table}.created_at ELSE {table}.generation_created_at END",
    }


EXPLAINED_TABLES: dict[str, tuple[str, str]] = {
    "likes": ("like", "like_id, run_id, turn_number, agent_handle, post_id, created_at"),
    "comments": (
        "comment",
        "comment_id, run_id, turn_number, agent_handle, post_id, text, created_at",
    ),
    "follows": ("follow", "follow_id, run_id, turn_number, agent_handle, user_id, created_at"),
}
"""The tables with an ``<table>_explained`` view: kind and the columns passed through."""


def explained_view(table: str, dialect: str, lean: bool = True) -> str:
    """``CREATE VIEW <table>_explained``: the seed columns of ``table``, every row in full.

    Args:
        table: ``likes``, ``comments`` or ``follows``.
        dialect: ``sqlite`` or ``postgresql``.
        lean: the view of revision 0011 (also rebuilds ``model_used`` and
            ``generation_created_at``); False: the view of revision 0009.
    """
    kind, columns = EXPLAINED_TABLES[table]
    if lean:
        rebuilt = lean_columns(kind, dialect, table)
    else:
        explanation, metadata = expanded_columns(
            kind, dialect, "explanation", "generation_metadata_json"
        )
        rebuilt = {
            "explanation": explanation,
            "model_used": "model_used",
            "generation_metadata_json": metadata,
            "generation_created_at": "generation_created_at",
        }
    select = ", ".join(f"{sql} AS {name}" for name, sql in rebuilt.items())
    return f"CREATE VIEW {table}_explained AS SELECT {columns}, {select} FROM {table}"


def keyed(kind: str, row: list[float]) -> dict:
    """The keyed metadata of a parsed compact ``row`` of ``kind``, as the views expand it.

    Example: ``keyed("like", json.loads(metadata))["logit_terms"]["interest"]``.
    """
    p, draw, rank, *terms = row
    names = LOGIT_TERMS[kind]
    if len(terms) != len(names):
        raise ValueError(f"a compact {kind} row has {3 + len(names)} numbers, not {len(row)}")
    return {"p": p, "draw": draw, "logit_terms": dict(zip(names, terms, strict=True)), "rank": rank}
