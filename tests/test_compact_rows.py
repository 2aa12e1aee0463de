"""Revision 0009's compact rows: leaning changes, compact action metadata, compact scores.

Every check reads a real run on a migrated SQLite file and compares the views
with an independent computation: the engine's own per-turn leanings, and the
pre-0009 metadata and sentence built in Python from the parsed numbers.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from simlab import analytics
from simlab import engine as simulation
from simlab.compact_rows import LOGIT_TERMS, keyed
from simlab.config import RunConfig
from simlab.db import downgrade, make_engine, migrate
from simlab.population import SyntheticConfig, create_synthetic
from simlab.world import load_population

from .conftest import copy_database

CONFIG = {"seed": 4, "turns": 5, "feed": {"name": "personalized"}}
TABLES = {"like": "likes", "comment": "comments", "follow": "follows"}


@pytest.fixture(scope="module")
def run_db(tmp_path_factory):
    """A 120-agent personalized run of 5 turns, and its id."""
    path = tmp_path_factory.mktemp("compact") / "run.db"
    migrate(path)
    engine = make_engine(path)
    create_synthetic(engine, SyntheticConfig(agents=120, posts=500, seed=5))
    run_id = simulation.run(RunConfig.model_validate(CONFIG), engine)
    engine.dispose()
    return path, run_id


def _all(db, sql, *params):
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def _engine_leanings(db) -> list[np.ndarray]:
    """Every agent's leaning after each turn, as the engine computes them (no database read)."""
    engine = make_engine(db)
    config = RunConfig.model_validate(CONFIG)
    sim = simulation.Simulation(config, simulation.population_for(config, engine))
    engine.dispose()
    return [sim.step(turn).leaning.copy() for turn in range(config.turns)]


def test_the_leaning_view_is_the_engines_full_panel(run_db):
    db, run_id = run_db
    with make_engine(db).connect() as connection:
        handles = load_population(connection).handles.tolist()
    panel = _all(
        db,
        "SELECT turn_number, agent_handle, leaning FROM agent_leanings WHERE run_id = ?",
        run_id,
    )
    stored = {(t, h): x for t, h, x in panel}
    expected = {
        (t, h): x
        for t, leaning in enumerate(_engine_leanings(db))
        for h, x in zip(handles, leaning.tolist(), strict=True)
    }
    assert stored == expected


def test_only_changed_leanings_are_written_after_turn_0(run_db):
    db, run_id = run_db
    changes = _all(
        db,
        "SELECT turn_number, agent_handle, leaning FROM agent_leaning_changes WHERE run_id = ?",
        run_id,
    )
    panel = {
        (t, h): x
        for t, h, x in _all(
            db,
            "SELECT turn_number, agent_handle, leaning FROM agent_leanings WHERE run_id = ?",
            run_id,
        )
    }
    written = {(t, h) for t, h, _ in changes}
    moved = {(t, h) for (t, h), x in panel.items() if t == 0 or panel[(t - 1, h)] != x}
    assert written == moved
    assert len(changes) < len(panel)  # inactive agents keep their leaning and cost no row


def _stored_items(metadata: str) -> list[str]:
    return metadata[1:-1].split(",")


def _pre_0009_metadata(kind: str, metadata: str) -> str:
    """The keyed metadata the policy stored before 0009, rebuilt from the parsed numbers."""
    meta = keyed(kind, json.loads(metadata))
    terms = ", ".join(f'"{name}": {value!r}' for name, value in meta["logit_terms"].items())
    return (
        f'{{"p": {meta["p"]!r}, "draw": {meta["draw"]!r}, "logit_terms": {{{terms}}}, '
        f'"rank": {meta["rank"]}}}'
    )


def _sentence(kind: str, metadata: str) -> str:
    p, draw, rank, *terms = _stored_items(metadata)
    named = ", ".join(f"{n} {v}" for n, v in zip(LOGIT_TERMS[kind], terms, strict=True))
    return f"{kind} at rank {rank}: p {p} > draw {draw}; logit terms {named}"


@pytest.mark.parametrize("kind", TABLES)
def test_explained_views_rebuild_metadata_and_sentence(run_db, kind):
    db, run_id = run_db
    table = TABLES[kind]
    rows = _all(
        db,
        f"SELECT s.explanation, s.generation_metadata_json, v.explanation, "
        f"v.generation_metadata_json, s.generation_created_at, v.generation_created_at, "
        f"s.created_at FROM {table} AS s JOIN {table}_explained AS v USING ({kind}_id) "
        f"WHERE s.run_id = ?",
        run_id,
    )
    assert rows
    for stored_text, stored_meta, text, meta, stored_at, at, created_at in rows:
        assert stored_text is None and stored_meta.startswith("[")
        assert meta == _pre_0009_metadata(kind, stored_meta)
        assert text == _sentence(kind, stored_meta)
        assert stored_at is None and at == created_at  # revision 0011_lean_rows
        rank = json.loads(meta)["rank"]
        assert json.loads(stored_meta)[2] == rank


def test_rows_with_an_explanation_pass_through(run_db, tmp_path):
    db = copy_database(run_db[0], tmp_path / "llm.db")
    run_id = run_db[1]
    with sqlite3.connect(db) as connection:
        connection.execute(
            "UPDATE likes SET explanation = 'the model liked it', "
            'generation_metadata_json = \'{"status": "ok"}\' WHERE like_id = ?',
            (f"{run_id}-0-l0",),
        )
    rows = _all(
        db,
        "SELECT explanation, generation_metadata_json FROM likes_explained WHERE like_id = ?",
        f"{run_id}-0-l0",
    )
    assert rows == [("the model liked it", '{"status": "ok"}')]


def test_duckdb_reads_the_same_explanations_and_panel(run_db):
    db, run_id = run_db
    con = analytics.connect(db)
    try:
        duck = con.execute(
            "SELECT action, agent_handle, turn_number, target, explanation FROM actions "
            "WHERE run_id = $r ORDER BY ALL",
            {"r": run_id},
        ).fetchall()
        panel = con.execute(
            "SELECT turn_number, agent_handle, leaning FROM agent_leanings "
            "WHERE run_id = $r ORDER BY ALL",
            {"r": run_id},
        ).fetchall()
    finally:
        con.close()
    sqlite_rows = []
    for kind, table in TABLES.items():
        target = "user_id" if kind == "follow" else "post_id"
        sqlite_rows += [
            (kind, *row)
            for row in _all(
                db,
                f"SELECT agent_handle, turn_number, {target}, explanation "
                f"FROM {table}_explained WHERE run_id = ?",
                run_id,
            )
        ]
    assert duck == sorted(sqlite_rows)
    assert panel == _all(
        db,
        "SELECT turn_number, agent_handle, leaning FROM agent_leanings WHERE run_id = ? "
        "ORDER BY 1, 2, 3",
        run_id,
    )


def test_feed_scores_keep_six_significant_digits(run_db):
    db, run_id = run_db
    feeds = _all(
        db,
        "SELECT g.post_ids, f.scores FROM generated_feeds AS g JOIN feed_scores AS f "
        "USING (run_id, turn_number, agent_handle) WHERE g.run_id = ?",
        run_id,
    )
    assert feeds
    for post_ids, scores in feeds:
        values = json.loads(scores)
        assert len(values) == len(json.loads(post_ids))
        assert scores == "[" + ",".join(f"{v:.6g}" for v in values) + "]"
        assert values == sorted(values, reverse=True)  # best first, as ranked


def test_migration_carries_old_leanings_over_and_back(tmp_path):
    db = tmp_path / "old.db"
    migrate(db, "0008_agent_posts")
    now = "2026-01-01T00:00:00+00:00"
    panel = [
        ("r1", t, h, x)
        for t, row in enumerate([(0.1, -0.2), (0.1, -0.3), (0.1, -0.3), (0.4, -0.3)])
        for h, x in zip(("a.test", "b.test"), row, strict=True)
    ]
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO runs (run_id, created_at, total_turns, total_agents, started_at, status)"
            " VALUES ('r1', ?, 4, 2, ?, 'running')",
            (now, now),
        )
        connection.executemany(
            "INSERT INTO turn_metadata VALUES ('r1', ?, '{}', ?)", [(t, now) for t in range(4)]
        )
        connection.executemany("INSERT INTO agent_leanings VALUES (?, ?, ?, ?)", panel)
    migrate(db)
    read = "SELECT run_id, turn_number, agent_handle, leaning FROM agent_leanings ORDER BY 2, 3"
    assert _all(db, read) == panel
    assert _all(db, "SELECT count(*) FROM agent_leaning_changes") == [(2 + 1 + 1,)]
    downgrade(db, "0008_agent_posts")
    assert _all(db, read) == panel
    assert _all(db, "SELECT type FROM sqlite_master WHERE name = 'agent_leanings'") == [("table",)]


def test_postgres_views_build_the_strings_sqlite_builds(run_db, pg_engine):
    """The same stored rows give the same views on PostgreSQL as on SQLite."""
    from sqlalchemy import text

    db, run_id = run_db
    migrate(pg_engine)
    copy = {
        "runs": "run_id, created_at, total_turns, total_agents, started_at, status",
        "run_models": "run_id, model_used",
        "turn_metadata": "run_id, turn_number, total_actions, created_at",
        "agent_leaning_changes": "run_id, agent_handle, turn_number, leaning",
        "likes": "like_id, run_id, turn_number, agent_handle, post_id, created_at, "
        "explanation, model_used, generation_metadata_json, generation_created_at",
        "follows": "follow_id, run_id, turn_number, agent_handle, user_id, created_at, "
        "explanation, model_used, generation_metadata_json, generation_created_at",
    }
    with pg_engine.begin() as connection:
        for table, columns in copy.items():
            rows = _all(db, f"SELECT {columns} FROM {table} WHERE run_id = ?", run_id)
            if table == "runs":
                rows = [(*row[:5], "running") for row in rows]
            names = [c.strip() for c in columns.split(",")]
            connection.execute(
                text(
                    f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + n for n in names)})"
                ),
                [dict(zip(names, row, strict=True)) for row in rows],
            )
    for view, order in (
        ("likes_explained", "like_id"),
        ("follows_explained", "follow_id"),
        ("agent_leanings", "turn_number, agent_handle"),
    ):
        sql = f"SELECT * FROM {view} WHERE run_id = '{run_id}' ORDER BY {order}"
        with pg_engine.connect() as connection:
            on_pg = [tuple(row) for row in connection.execute(text(sql))]
        assert on_pg == _all(db, sql), view
