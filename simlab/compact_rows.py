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
"""

from __future__ import annotations

from collections.abc import Callable

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
    compact = f"{explanation} IS NULL AND {metadata} LIKE '[%'"
    return (
        f"CASE WHEN {compact} THEN {sentence} ELSE {explanation} END",
        f"CASE WHEN {compact} THEN {full} ELSE {metadata} END",
    )


def keyed(kind: str, row: list[float]) -> dict:
    """The keyed metadata of a parsed compact ``row`` of ``kind``, as the views expand it.

    Example: ``keyed("like", json.loads(metadata))["logit_terms"]["interest"]``.
    """
    p, draw, rank, *terms = row
    names = LOGIT_TERMS[kind]
    if len(terms) != len(names):
        raise ValueError(f"a compact {kind} row has {3 + len(names)} numbers, not {len(row)}")
    return {"p": p, "draw": draw, "logit_terms": dict(zip(names, terms, strict=True)), "rank": rank}
