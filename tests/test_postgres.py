"""The Alembic migrations and the seed contract on a private PostgreSQL cluster."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from simlab.db import alembic_config, current_revision, downgrade, head_revision, migrate
from simlab.postgres import reset_sequences, with_driver
from simlab.schema import SEED_TABLES
from simlab.schema_doc import TableDoc, parse, reflect_tables

from .conftest import REPO, SPEC
from .test_schema import _seed_view

NOW = "2026-01-01T00:00:00+00:00"
LATER = "2026-01-02T00:00:00+00:00"
MAPPING_ROW = re.compile(r"^\| `([A-Z ]+)` \| `([A-Z ]+)` \|$")


def _type_mapping() -> dict[str, str]:
    """SQLite type -> PostgreSQL type, read from the table in docs/postgresql.md."""
    doc = (REPO / "docs" / "postgresql.md").read_text()
    mapping = dict(m.groups() for line in doc.splitlines() if (m := MAPPING_ROW.match(line)))
    assert mapping, "docs/postgresql.md lost its type mapping table"
    return mapping


def _revisions() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in script.walk_revisions()][::-1]


def _is_serial(column: dict) -> bool:
    return "nextval(" in str(column.get("default") or "")


def _structure(engine, pg: bool) -> dict:
    """Tables, columns (SQLite spelling), keys, indexes and check names, comparable across dialects."""
    to_sqlite = {pg_type: lite for lite, pg_type in _type_mapping().items()}
    inspector = inspect(engine)
    result = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        columns = []
        for column in inspector.get_columns(table):
            spelled = str(column["type"])
            if pg:
                spelled = "INTEGER" if _is_serial(column) else to_sqlite.get(spelled, spelled)
            columns.append((column["name"], spelled, column["nullable"]))
        uniques = {
            (u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
        }
        indexes = {
            (i["name"], tuple(i["column_names"]), bool(i["unique"]))
            for i in inspector.get_indexes(table)
            if (i["name"], tuple(i["column_names"])) not in uniques  # PG: a constraint's index
        }
        foreign_keys = {
            (f["name"], tuple(f["constrained_columns"]), f["referred_table"])
            + (tuple(f["referred_columns"]),)
            for f in inspector.get_foreign_keys(table)
        }
        result[table] = {
            "columns": columns,
            "primary_key": tuple(inspector.get_pk_constraint(table)["constrained_columns"]),
            "foreign_keys": foreign_keys,
            "unique": uniques,
            "indexes": indexes,
            "checks": {c["name"] for c in inspector.get_check_constraints(table)},
        }
    return result


def test_private_cluster_is_local_and_unprivileged(pg_cluster, pg_engine):
    with pg_engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW listen_addresses").scalar() == "127.0.0.1"
        assert connection.exec_driver_sql("SHOW unix_socket_directories").scalar() == ""
        assert connection.exec_driver_sql("SHOW server_version_num").scalar() >= "150000"
    uid_line = next(
        line
        for line in open(f"/proc/{pg_cluster.pid}/status").read().splitlines()
        if line.startswith("Uid:")
    )
    assert set(uid_line.split()[1:]) != {"0"}, "postgres must not run as root"


def test_every_revision_matches_sqlite_up_and_down(pg_engine, tmp_path):
    """Each revision, upgraded one at a time and then downgraded, builds the SQLite layout."""
    sqlite = create_engine(f"sqlite:///{tmp_path / 'twin.db'}")
    revisions = _revisions()
    assert revisions[-1] == head_revision()
    up = [(migrate, revision) for revision in revisions]
    down = [(downgrade, revision) for revision in [*revisions[-2::-1], "base"]]
    for move, revision in up + down:
        move(pg_engine, revision)
        move(sqlite, revision)
        assert current_revision(pg_engine) == (None if revision == "base" else revision)
        assert _structure(pg_engine, pg=True) == _structure(sqlite, pg=False), revision
    assert set(inspect(pg_engine).get_table_names()) == {"alembic_version"}
    migrate(pg_engine)
    assert current_revision(pg_engine) == head_revision()
    sqlite.dispose()


def _as_spec(docs: dict[str, TableDoc]) -> dict[str, TableDoc]:
    """PostgreSQL's reflection spelled like the spec (types, default casts, pk names and flags)."""
    to_sqlite = {pg_type: lite for lite, pg_type in _type_mapping().items()}
    for name, doc in docs.items():
        pk_name, pk_columns = doc.primary_key
        doc.primary_key = (None if pk_name == f"{name}_pkey" else pk_name, pk_columns)
        doc.columns = [
            (
                column,
                f"`{to_sqlite.get(kind.strip('`'), kind.strip('`'))}`",
                nullable,
                re.sub(r"::[a-z ]+`$", "`", default),
                f"`{pk_columns.index(column.strip('`')) + 1}`"
                if column.strip("`") in pk_columns
                else "``",
            )
            for column, kind, nullable, default, _ in doc.columns
        ]
        unique_names = {u.split(":")[0] for u in doc.unique_constraints}
        doc.indexes = [i for i in doc.indexes if i.split(":")[0] not in unique_names]
    return docs


def _check_names(view: dict) -> dict:
    """The seed view with each check constraint reduced to its name."""
    return {
        table: (*parts[:5], sorted(c.split(":")[0] for c in parts[5]), parts[6])
        for table, parts in view.items()
    }


@pytest.mark.skipif(not SPEC.is_file(), reason="shared/spec is not beside this checkout")
def test_migrated_postgres_matches_the_seed_spec(pg_engine):
    migrate(pg_engine)
    spec = parse(SPEC.read_text())
    actual = _as_spec(reflect_tables(pg_engine))
    assert _check_names(_seed_view(actual)) == _check_names(_seed_view(spec))


def test_seed_json_columns_stay_text(pg_engine):
    migrate(pg_engine)
    inspector = inspect(pg_engine)
    json_columns = [
        (table, column["name"], str(column["type"]))
        for table in SEED_TABLES
        for column in inspector.get_columns(table)
        if column["name"] in {"post_ids", "metrics", "total_actions", "metric_keys"}
        or column["name"].endswith("_json")
    ]
    assert len(json_columns) >= 6
    assert {kind for *_, kind in json_columns} == {"TEXT"}


def test_no_four_byte_numbers_at_head(pg_engine):
    """Every integer and float column has SQLite's 8-byte width (except serial keys)."""
    migrate(pg_engine)
    inspector = inspect(pg_engine)
    narrow = [
        f"{table}.{column['name']} {column['type']}"
        for table in inspector.get_table_names()
        for column in inspector.get_columns(table)
        if str(column["type"]) in {"INTEGER", "REAL", "SMALLINT"} and not _is_serial(column)
    ]
    assert narrow == []


def _insert_run(connection, run_id="r1", status="running", completed_at=None, turns=3, agents=2):
    connection.execute(
        text(
            "INSERT INTO runs (run_id, created_at, total_turns, total_agents, started_at, status,"
            " completed_at) VALUES (:r, :now, :turns, :agents, :now, :status, :completed)"
        ),
        {"r": run_id, "now": NOW, "turns": turns, "agents": agents, "status": status}
        | {"completed": completed_at},
    )


@pytest.mark.parametrize(
    ("status", "completed_at", "turns", "agents", "accepted"),
    [
        ("bogus", None, 3, 2, False),
        ("running", None, 0, 2, False),
        ("running", None, 3, 0, False),
        ("completed", None, 3, 2, False),
        ("running", LATER, 3, 2, False),
        ("completed", "2025-01-01T00:00:00+00:00", 3, 2, False),
        ("running", None, 3, 2, True),
        ("failed", None, 3, 2, True),
        ("completed", LATER, 3, 2, True),
    ],
)
def test_runs_checks_behave_as_on_sqlite(pg_engine, status, completed_at, turns, agents, accepted):
    migrate(pg_engine)
    with pg_engine.connect() as connection:
        if accepted:
            _insert_run(connection, status=status, completed_at=completed_at, turns=turns)
            assert connection.execute(text("SELECT status FROM runs")).scalar() == status
            return
        with pytest.raises(IntegrityError, match="violates check constraint"):
            _insert_run(
                connection, status=status, completed_at=completed_at, turns=turns, agents=agents
            )


def test_foreign_keys_and_ranges_are_enforced(pg_engine):
    migrate(pg_engine)
    with pg_engine.connect() as connection:
        with pytest.raises(IntegrityError, match="foreign key"):
            connection.execute(
                text("INSERT INTO run_metrics VALUES ('ghost', '{}', :now)"), {"now": NOW}
            )
        connection.rollback()
        _insert_run(connection)
        sql = text("INSERT INTO agent_leaning_changes VALUES ('r1', 'a.test', 0, :leaning)")
        with pytest.raises(IntegrityError, match="ck_agent_leaning_changes_leaning_range"):
            connection.execute(sql, {"leaning": 1.5})


def test_seeds_and_leanings_keep_sqlite_precision(pg_engine):
    migrate(pg_engine)
    seed, leaning = 2**32 - 1, 0.1 + 0.2
    with pg_engine.begin() as connection:
        _insert_run(connection)
        connection.execute(
            text("INSERT INTO run_configs VALUES ('r1', :seed, 'rule_based', '{}', '0', :now)"),
            {"seed": seed, "now": NOW},
        )
        connection.execute(
            text("INSERT INTO agent_leaning_changes VALUES ('r1', 'a.test', 0, :leaning)"),
            {"leaning": leaning},
        )
        connection.execute(
            text("INSERT INTO turn_metadata VALUES ('r1', 0, '{}', :now)"), {"now": NOW}
        )
    with pg_engine.connect() as connection:
        assert connection.execute(text("SELECT seed FROM run_configs")).scalar() == seed
        # the agent_leanings view forward-fills the changes to the full panel
        assert connection.execute(text("SELECT leaning FROM agent_leanings")).scalar() == leaning


def test_reset_sequences_moves_past_explicit_ids(pg_engine):
    migrate(pg_engine)
    insert = text(
        "INSERT INTO populations (population_id, source, config_json, created_at)"
        " VALUES (:id, 'synthetic', '{}', :now)"
    )
    with pg_engine.begin() as connection:
        connection.execute(insert, {"id": 7, "now": NOW})
        assert "populations.population_id" in reset_sequences(connection)
        new_id = connection.execute(
            text(
                "INSERT INTO populations (source, config_json, created_at)"
                " VALUES ('synthetic', '{}', :now) RETURNING population_id"
            ),
            {"now": NOW},
        ).scalar()
    assert new_id == 8


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5/d", "postgresql+psycopg://u@h:5/d"),
        ("postgresql+psycopg://u:pw@h/d", "postgresql+psycopg://u:pw@h/d"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_with_driver_picks_psycopg_3(url, expected):
    assert with_driver(url) == expected


def test_schema_tables_bind_wide_values_on_postgres(pg_engine):
    """Inserts built from simlab.schema cast parameters to BIGINT / DOUBLE PRECISION."""
    from sqlalchemy import insert, select

    from simlab.schema import agent_leaning_changes, run_configs

    migrate(pg_engine)
    seed, leaning = 2**32 - 1, 1 / 3
    with pg_engine.begin() as connection:
        _insert_run(connection)
        connection.execute(
            insert(run_configs),
            {"run_id": "r1", "seed": seed, "policy": "rule_based", "config_json": "{}"}
            | {"simlab_version": "0", "created_at": NOW},
        )
        connection.execute(
            insert(agent_leaning_changes),
            {"run_id": "r1", "turn_number": 0, "agent_handle": "a.test", "leaning": leaning},
        )
    with pg_engine.connect() as connection:
        assert connection.execute(select(run_configs.c.seed)).scalar() == seed
        assert connection.execute(select(agent_leaning_changes.c.leaning)).scalar() == leaning


def test_evaluation_tables_are_append_only(pg_url):
    migrate(pg_url)
    engine = create_engine(pg_url)
    with engine.begin() as connection:
        _insert_run(connection)
        connection.execute(
            text(
                "INSERT INTO evaluations (evaluator, evaluator_version, target_kind, target_id,"
                " run_id, turn_number, agent_handle, status, scores, created_at) VALUES"
                " ('sentiment', '1/x', 'comments', 'c1', 'r1', 0, 'ann', 'ok', '{}', :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO agent_score_history (run_id, turn_number, agent_handle, evaluator,"
                " evaluator_version, items, dimension_means, overall_mean, top_dimension,"
                " top_score, high_flags, created_at) VALUES"
                " ('r1', 0, 'ann', 'sentiment', '1/x', 1, '{}', 0.5, 'pos', 0.5, '{}', :now)"
            ),
            {"now": NOW},
        )
    for table in ("evaluations", "agent_score_history"):
        for statement, verb in (
            (f"UPDATE {table} SET created_at = 'x'", "UPDATE"),
            (f"DELETE FROM {table}", "DELETE"),
            (f"TRUNCATE {table} CASCADE", "TRUNCATE"),
        ):
            with pytest.raises(DBAPIError, match=f"{table} is append-only: {verb} is not allowed"):
                with engine.begin() as connection:
                    connection.execute(text(statement))
        with engine.connect() as connection:
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 1
    engine.dispose()
    downgrade(pg_url, "0006_llm")  # drops the tables, their triggers and the function
    engine = create_engine(pg_url)
    with engine.connect() as connection:
        found = "SELECT count(*) FROM pg_proc WHERE proname = 'simlab_append_only'"
        assert connection.execute(text(found)).scalar() == 0
    engine.dispose()
    migrate(pg_url)
    assert current_revision(pg_url) == head_revision()
