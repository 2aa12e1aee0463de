"""Revision 0011's lean rows: what compact actions no longer store, and the views that rebuild it.

Revision 0010's recorder wrote one wall clock per turn into every row of the
turn (``created_at`` of the turn's actions and ``turn_metadata``, and the
actions' ``generation_created_at``) and the policy's ``model_used`` into every
rule-based action. Since 0011 a compact action stores neither; the checks here
run real engines on migrated SQLite files and compare the views with those
values, and migrate files with runs down to 0010 and up again.
"""

from __future__ import annotations

import sqlite3

import pytest

from simlab import analytics
from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import downgrade, migrate
from simlab.policies import POLICIES

from .conftest import copy_database, failing_turn, synthetic_database

CONFIG = {"seed": 9, "turns": 4, "feed": {"name": "personalized"}}
TABLES = {"like": "likes", "comment": "comments", "follow": "follows"}
OLD_HEAD = "0010_sweeps"


def _all(db, sql, *params):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def _content(db, run_id):
    """Every action through the views, without ids and wall clocks, and the feed scores."""
    found = {
        table: _all(
            db,
            f"SELECT turn_number, agent_handle, {'user_id' if kind == 'follow' else 'post_id'}, "
            f"explanation, model_used, generation_metadata_json FROM {table}_explained "
            "WHERE run_id = ? ORDER BY 1, 2, 3",
            run_id,
        )
        for kind, table in TABLES.items()
    }
    found["feed_scores"] = _all(
        db,
        "SELECT turn_number, agent_handle, scores FROM feed_scores WHERE run_id = ? ORDER BY 1, 2",
        run_id,
    )
    return found


def _full_rows(db, run_id):
    """Every column of every action through the views, and every feed score row."""
    found = {
        table: _all(db, f"SELECT * FROM {table}_explained WHERE run_id = ? ORDER BY 1", run_id)
        for table in TABLES.values()
    }
    found["feed_scores"] = _all(
        db, "SELECT * FROM feed_scores WHERE run_id = ? ORDER BY 2, 3", run_id
    )
    return found


def _without_rowid(db) -> bool:
    [(sql,)] = _all(db, "SELECT sql FROM sqlite_master WHERE name = 'feed_scores'")
    return "WITHOUT ROWID" in sql.upper()


@pytest.fixture(scope="module")
def population_db(tmp_path_factory):
    return synthetic_database(
        tmp_path_factory.mktemp("lean") / "pop.db", agents=80, posts=400, seed=2
    )


@pytest.fixture(scope="module")
def run_db(population_db, tmp_path_factory):
    """A 4-turn personalized run (posting on) on a copy of the population, and its id."""
    db = copy_database(population_db, tmp_path_factory.mktemp("lean_run") / "run.db")
    return db, simulation.run(RunConfig.model_validate(CONFIG), db)


def test_compact_actions_store_neither_and_the_views_give_what_0010_wrote(run_db):
    db, run_id = run_db
    model = POLICIES.get("rule_based").model_used
    assert _all(db, "SELECT model_used FROM run_models WHERE run_id = ?", run_id) == [(model,)]
    for kind, table in TABLES.items():
        stored = _all(
            db,
            f"SELECT s.model_used, s.generation_created_at, v.model_used, "
            f"v.generation_created_at, s.created_at, m.created_at "
            f"FROM {table} AS s JOIN {table}_explained AS v USING ({kind}_id) "
            f"JOIN turn_metadata AS m ON m.run_id = s.run_id AND m.turn_number = s.turn_number "
            f"WHERE s.run_id = ?",
            run_id,
        )
        assert stored, table
        for model_stored, at_stored, model_read, at_read, created, turn_clock in stored:
            assert (model_stored, at_stored) == (None, None)
            assert model_read == model
            assert at_read == created == turn_clock  # the turn's one wall clock


def test_duckdb_actions_rebuild_model_used(run_db):
    db, run_id = run_db
    con = analytics.connect(db)
    try:
        duck = con.execute(
            "SELECT action, turn_number, agent_handle, target, model_used FROM actions "
            "WHERE run_id = $r ORDER BY ALL",
            {"r": run_id},
        ).fetchall()
    finally:
        con.close()
    expected = sorted(
        (kind, *row[:3], row[4])
        for kind, table in TABLES.items()
        for row in _content(db, run_id)[table]
    )
    assert duck == expected
    assert {row[4] for row in duck} == {POLICIES.get("rule_based").model_used}


def test_downgrade_writes_the_0010_rows_and_upgrade_reads_them_unchanged(run_db, tmp_path):
    db = copy_database(run_db[0], tmp_path / "migrated.db")
    run_id = run_db[1]
    before = _full_rows(db, run_id)
    assert _without_rowid(db)
    downgrade(db, OLD_HEAD)
    assert _all(db, "SELECT name FROM sqlite_master WHERE name = 'run_models'") == []
    assert not _without_rowid(db)
    for kind, table in TABLES.items():  # the stored rows hold 0010's values: nothing left NULL
        stored = _all(
            db,
            f"SELECT {kind}_id, model_used, generation_created_at FROM {table} "
            "WHERE run_id = ? ORDER BY 1",
            run_id,
        )
        assert stored == [(row[0], row[-3], row[-1]) for row in before[table]]
        assert all(model is not None and at is not None for _, model, at in stored)
    assert _full_rows(db, run_id) == before  # and the views of 0009 read them
    migrate(db)
    assert _without_rowid(db)
    assert _full_rows(db, run_id) == before  # old rows pass through the new views
    nulls = _all(
        db, "SELECT count(*) FROM likes WHERE model_used IS NULL OR generation_created_at IS NULL"
    )
    assert nulls == [(0,)]  # upgrading rewrites no action row
    again = simulation.run(RunConfig.model_validate(CONFIG), db)  # a lean run beside the old one
    assert _all(db, "SELECT count(*) FROM likes WHERE run_id = ? AND model_used IS NULL", again)[0][
        0
    ] == len(before["likes"])
    assert _content(db, again) == _content(db, run_id)


def test_resuming_a_run_begun_before_0011_stores_its_model(population_db, tmp_path, monkeypatch):
    db = copy_database(population_db, tmp_path / "resumed.db")
    with failing_turn(monkeypatch, 2):
        with pytest.raises(RuntimeError):
            simulation.run(RunConfig.model_validate(CONFIG), db, run_id="old")
    downgrade(db, OLD_HEAD)  # as if written by revision 0010's code
    migrate(db)
    assert _all(db, "SELECT count(*) FROM run_models") == [(0,)]
    simulation.resume("old", db)
    resumed = _all(
        db, "SELECT DISTINCT model_used FROM likes WHERE run_id = 'old' AND turn_number >= 2"
    )
    assert resumed == [(POLICIES.get("rule_based").model_used,)]  # no run_models row: stored
    clean = simulation.run(RunConfig.model_validate(CONFIG), db)
    assert _content(db, "old") == _content(db, clean)


def test_postgres_runs_store_lean_rows_and_migrate_down_and_up(pg_url, run_db):
    """A run on PostgreSQL stores the same lean rows; 0011 goes down to 0010 and back there too."""
    from sqlalchemy import text

    from simlab.db import make_engine
    from simlab.population import SyntheticConfig, create_synthetic

    migrate(pg_url)
    engine = make_engine(pg_url)
    try:
        create_synthetic(engine, SyntheticConfig(agents=80, posts=400, seed=2))
        run_id = simulation.run(RunConfig.model_validate(CONFIG), engine)

        def read(sql):
            with engine.connect() as connection:
                return [tuple(r) for r in connection.execute(text(sql), {"r": run_id})]

        views = {
            table: read(
                f"SELECT turn_number, agent_handle, model_used, generation_created_at, created_at "
                f"FROM {table}_explained WHERE run_id = :r ORDER BY 1, 2, {kind}_id"
            )
            for kind, table in TABLES.items()
        }
        assert read("SELECT count(*) FROM likes WHERE run_id = :r AND model_used IS NOT NULL") == [
            (0,)
        ]
        model = POLICIES.get("rule_based").model_used
        assert all(row[2] == model and row[3] == row[4] for rows in views.values() for row in rows)
        downgrade(engine, OLD_HEAD)
        for kind, table in TABLES.items():  # 0010's rows: the values stored, not NULL
            assert (
                read(
                    f"SELECT turn_number, agent_handle, model_used, generation_created_at, "
                    f"created_at FROM {table} WHERE run_id = :r ORDER BY 1, 2, {kind}_id"
                )
                == views[table]
            )
        migrate(engine)
        for kind, table in TABLES.items():
            assert (
                read(
                    f"SELECT turn_number, agent_handle, model_used, generation_created_at, "
                    f"created_at FROM {table}_explained WHERE run_id = :r ORDER BY 1, 2, {kind}_id"
                )
                == views[table]
            )
    finally:
        engine.dispose()
    sqlite_db, sqlite_run = run_db  # the same config on the same population, on SQLite
    assert [row[:3] for row in views["likes"]] == [
        row[:3]
        for row in _all(
            sqlite_db,
            "SELECT turn_number, agent_handle, model_used FROM likes_explained "
            "WHERE run_id = ? ORDER BY 1, 2, like_id",
            sqlite_run,
        )
    ]
