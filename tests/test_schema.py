"""The migrated database matches the seed-schema contract exactly."""

from __future__ import annotations

import pytest

from simlab.schema import SEED_TABLES
from simlab.schema_doc import parse, reflect_tables

from .conftest import REPO, SPEC


def _seed_view(docs):
    """Seed tables only, with 'referenced by' limited to seed tables (new tables may add to it)."""
    view = {}
    for name in SEED_TABLES:
        doc = docs[name]
        referenced = [r for r in doc.referenced_by if r.split("`")[1] in SEED_TABLES]
        view[name] = (
            doc.columns,
            doc.primary_key,
            doc.foreign_keys,
            doc.unique_constraints,
            doc.indexes,
            doc.check_constraints,
            referenced,
        )
    return view


@pytest.mark.skipif(not SPEC.is_file(), reason="shared/spec is not beside this checkout")
def test_migrated_database_matches_the_spec(engine):
    spec = parse(SPEC.read_text())
    assert sorted(spec) == sorted(SEED_TABLES)
    assert _seed_view(reflect_tables(engine)) == _seed_view(spec)


def test_parse_reads_every_section_of_the_spec_form(engine):
    docs = reflect_tables(engine)
    runs = docs["runs"]
    assert runs.primary_key == (None, ("run_id",))
    assert ("`feed_algorithm`", "`TEXT`", "no", "`'chronological'`", "``") in runs.columns
    assert (
        "`ck_runs_status_valid`: `status IN ('running', 'completed', 'failed')`"
        in runs.check_constraints
    )
    assert docs["generated_feeds"].primary_key == (
        "pk_generated_feeds",
        ("agent_handle", "run_id", "turn_number"),
    )


def test_committed_doc_describes_the_seed_tables_like_the_spec(engine):
    committed = parse((REPO / "docs" / "db" / "schema.md").read_text())
    assert _seed_view(committed) == _seed_view(reflect_tables(engine))
