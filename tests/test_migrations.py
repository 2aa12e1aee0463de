"""Real Alembic migrations, both ways, on real SQLite files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect

from simlab.db import current_revision, downgrade, head_revision, make_engine, migrate
from simlab.schema import SEED_TABLES

NOW = "2026-01-01T00:00:00+00:00"
LATER = "2026-01-02T00:00:00+00:00"


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA foreign_keys=ON")
    return connection


def _insert_run(connection, run_id="r1", status="running", completed_at=None, turns=3, agents=2):
    connection.execute(
        "INSERT INTO runs (run_id, created_at, total_turns, total_agents, started_at, status, "
        "completed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (run_id, NOW, turns, agents, NOW, status, completed_at),
    )


def _insert_agent(connection, agent_id="a1", handle="a1.test"):
    connection.execute(
        "INSERT INTO agent VALUES (?, ?, 'synthetic', 'A One', ?, ?)", (agent_id, handle, NOW, NOW)
    )


def test_upgrade_creates_every_seed_table_and_sets_pragmas(engine):
    tables = set(inspect(engine).get_table_names())
    assert set(SEED_TABLES) <= tables
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


def test_round_trip_base_and_back_keeps_rows_where_the_schema_allows(db_path):
    connection = _connect(db_path)
    _insert_agent(connection)
    _insert_run(connection)
    connection.commit()
    connection.close()

    downgrade(db_path, "0001_seed_schema")
    connection = _connect(db_path)
    assert connection.execute("SELECT handle FROM agent").fetchall() == [("a1.test",)]
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "agent_traits" not in tables and "agent" in tables
    connection.close()

    downgrade(db_path, "base")
    connection = _connect(db_path)
    tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables.isdisjoint(SEED_TABLES)
    connection.close()

    migrate(db_path)
    connection = _connect(db_path)
    _insert_agent(connection)
    assert connection.execute("SELECT count(*) FROM agent").fetchone() == (1,)
    connection.close()
    assert current_revision(db_path) == head_revision()


@pytest.mark.parametrize(
    ("revision", "tables"),
    [
        ("0001_seed_schema", {"run_configs", "comparisons", "run_lifecycle"}),
        ("0002_simulation", {"comparisons", "run_lifecycle"}),
        ("0003_comparisons", {"run_lifecycle"}),
        ("0004_run_lifecycle", {"account_handles", "post_details", "reposts"}),
        ("0005_import_fidelity", {"llm_calls", "llm_cache", "agent_stances"}),
        ("0006_llm", {"evaluations", "agent_score_history"}),
        ("0010_sweeps", {"run_models"}),
    ],
)
def test_each_revision_downgrades_and_reupgrades(db_path, revision, tables):
    downgrade(db_path, revision)
    engine = make_engine(db_path)
    assert tables.isdisjoint(inspect(engine).get_table_names())
    assert current_revision(engine) == revision
    migrate(engine)
    assert tables <= set(inspect(engine).get_table_names())
    engine.dispose()


@pytest.mark.parametrize(
    ("status", "completed_at", "turns", "agents"),
    [
        ("bogus", None, 3, 2),
        ("running", None, 0, 2),
        ("running", None, 3, 0),
        ("completed", None, 3, 2),
        ("running", LATER, 3, 2),
        ("completed", "2025-01-01T00:00:00+00:00", 3, 2),
    ],
)
def test_runs_checks_reject_bad_rows(db_path, status, completed_at, turns, agents):
    connection = _connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        _insert_run(
            connection, status=status, completed_at=completed_at, turns=turns, agents=agents
        )


@pytest.mark.parametrize(
    ("status", "completed_at"), [("running", None), ("failed", None), ("completed", LATER)]
)
def test_runs_checks_accept_good_rows(db_path, status, completed_at):
    connection = _connect(db_path)
    _insert_run(connection, status=status, completed_at=completed_at)
    assert connection.execute("SELECT status FROM runs").fetchone() == (status,)


@pytest.mark.parametrize("table", ["turn_metadata", "turn_metrics"])
def test_turn_tables_reject_negative_turns(db_path, table):
    connection = _connect(db_path)
    _insert_run(connection)
    payload = "total_actions" if table == "turn_metadata" else "metrics"
    sql = (
        f"INSERT INTO {table} (run_id, turn_number, {payload}, created_at) "
        "VALUES ('r1', ?, '{}', ?)"
    )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        connection.execute(sql, (-1, NOW))
    connection.execute(sql, (0, NOW))


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("likes", "like_id, run_id, turn_number, agent_handle, post_id, created_at"),
        ("follows", "follow_id, run_id, turn_number, agent_handle, user_id, created_at"),
    ],
)
def test_action_tables_check_turns_and_enforce_foreign_keys(db_path, table, columns):
    connection = _connect(db_path)
    _insert_run(connection)
    sql = f"INSERT INTO {table} ({columns}) VALUES (?, ?, ?, 'a1.test', 'p1', ?)"
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        connection.execute(sql, ("x1", "r1", -1, NOW))
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY constraint failed"):
        connection.execute(sql, ("x2", "no-such-run", 0, NOW))
    connection.execute(sql, ("x3", "r1", 0, NOW))
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed"):
        connection.execute(sql, ("x4", "r1", 0, NOW))


def test_comments_check_turn_number(db_path):
    connection = _connect(db_path)
    _insert_run(connection)
    sql = (
        "INSERT INTO comments (comment_id, run_id, turn_number, agent_handle, post_id, text, "
        "created_at) VALUES (?, 'r1', ?, 'a1.test', 'p1', 'hi', ?)"
    )
    with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
        connection.execute(sql, ("c1", -1, NOW))
    connection.execute(sql, ("c2", 0, NOW))


def test_foreign_keys_enforced_on_agent_children(db_path):
    connection = _connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        connection.execute(
            "INSERT INTO agent_persona_bios VALUES ('b1', 'ghost', 'bio', 'synthetic', ?, ?)",
            (NOW, NOW),
        )
    _insert_agent(connection)
    connection.execute(
        "INSERT INTO agent_persona_bios VALUES ('b1', 'a1', 'bio', 'synthetic', ?, ?)", (NOW, NOW)
    )
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        _insert_agent(connection, agent_id="a2", handle="a1.test")


def test_engine_enforces_foreign_keys_through_sqlalchemy(engine):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO generated_feeds VALUES ('f', 'ghost', 0, 'a', '[]', ?)", (NOW,)
        )
