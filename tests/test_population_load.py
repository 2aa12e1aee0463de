"""The population loader against a plain per-row reading, on real SQLite and PostgreSQL databases.

:func:`simlab.world.load_population` reads through the DB-API driver, parses
JSON in bulk and maps follows with C-level ``map``; the reference here reads
the same tables through SQLAlchemy one row at a time with ``json.loads`` and
dictionary lookups, the way the loader worked before. Every array must be equal.
"""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest
from sqlalchemy import text

from simlab.db import make_engine, migrate
from simlab.driver_rows import driver_chunks, json_values
from simlab.population import SyntheticConfig, create_synthetic
from simlab.population.topics import TOPIC_NAMES
from simlab.world import POSTS_SQL, load_population

GHOST = 'ghost "quoted" \\ back\u00fcslash \u2603'  # followed, but no account: dropped


def _reference(connection) -> dict[str, np.ndarray]:
    """The arrays the loader must give, computed row by row from SQLAlchemy results."""
    agents = connection.execute(
        text(
            "SELECT a.agent_id, a.handle, t.interests FROM agent a "
            "JOIN agent_traits t ON t.agent_id = a.agent_id ORDER BY a.handle"
        )
    ).all()
    posts = connection.execute(text(POSTS_SQL)).all()
    handles = [row.handle for row in agents]
    accounts = handles + sorted({row.author_handle for row in posts} - set(handles))
    index = {handle: i for i, handle in enumerate(accounts)}
    follows = connection.execute(text("SELECT agent_handle, followed_handle FROM initial_follows"))
    pairs = sorted((index[a], index[b]) for a, b in follows if b in index)
    interests = []
    for row in agents:
        weights = json.loads(row.interests)
        interests.append([weights.get(name, 0.0) for name in TOPIC_NAMES])
    interests = np.array(interests)
    created = [
        datetime.fromisoformat(row.created_at.replace("Z", "+00:00")).timestamp() for row in posts
    ]
    return {
        "agent_ids": np.array([row.agent_id for row in agents], dtype=object),
        "accounts": np.array(accounts, dtype=object),
        "follow_pairs": np.array(pairs, dtype=np.int64).reshape(-1, 2),
        "interests": interests / np.maximum(interests.sum(axis=1, keepdims=True), 1e-12),
        "post_ids": np.array([row.post_id for row in posts], dtype=object),
        "post_author": np.array([index[row.author_handle] for row in posts]),
        "post_created": np.array(created),
        "post_text": np.array([row.text for row in posts], dtype=object),
        "post_leaning": np.array([row.leaning for row in posts]),
        "post_likes": np.array([row.like_count for row in posts]),
    }


def _add_awkward_rows(engine) -> None:
    """Follows of an outside author and of an unknown handle; interests JSON written by hand."""
    with engine.begin() as connection:
        first = connection.execute(text("SELECT min(handle) FROM agent")).scalar_one()
        outsider = connection.execute(
            text(
                "SELECT min(author_handle) FROM feed_posts WHERE author_handle NOT IN "
                "(SELECT handle FROM agent)"
            )
        ).scalar_one()
        assert outsider is not None, "the synthetic population has outside authors"
        for followed in (outsider, GHOST):
            connection.execute(
                text(
                    "INSERT INTO initial_follows (agent_handle, followed_handle, created_at) "
                    "SELECT :a, :b, '2026-01-01T00:00:00+00:00' WHERE NOT EXISTS "
                    "(SELECT 1 FROM initial_follows WHERE agent_handle = :a AND followed_handle = :b)"
                ),
                {"a": first, "b": followed},
            )
        connection.execute(
            text(
                "UPDATE agent_traits SET interests = :w WHERE agent_id = "
                "(SELECT agent_id FROM agent WHERE handle = :a)"
            ),
            {"w": ' { "sports" : 2,\n "climate": 1e-3, "other\\u00e9": 5 } ', "a": first},
        )


def _check_against_reference(engine) -> None:
    with engine.connect() as connection:
        pop = load_population(connection)
        expected = _reference(connection)
    for name, values in expected.items():
        actual = getattr(pop, name)
        assert actual.shape == values.shape, name
        assert (actual == values).all(), name
    assert pop.n_agents == len(pop.handles) == len(pop.agent_ids)
    assert (pop.accounts[: pop.n_agents] == pop.handles).all()


def test_sqlite_load_matches_the_row_by_row_reading(tmp_path):
    migrate(tmp_path / "pop.db")
    engine = make_engine(tmp_path / "pop.db")
    create_synthetic(engine, SyntheticConfig(agents=300, posts=800, seed=3))
    _add_awkward_rows(engine)
    _check_against_reference(engine)
    engine.dispose()


def test_postgres_load_matches_the_row_by_row_reading(pg_engine):
    migrate(pg_engine)
    create_synthetic(pg_engine, SyntheticConfig(agents=300, posts=800, seed=3))
    _add_awkward_rows(pg_engine)
    _check_against_reference(pg_engine)


def test_chunks_cover_every_row_in_order(tmp_path):
    migrate(tmp_path / "pop.db")
    engine = make_engine(tmp_path / "pop.db")
    create_synthetic(engine, SyntheticConfig(agents=50, posts=60, seed=1))
    sql = "SELECT handle FROM agent ORDER BY handle"
    with engine.connect() as connection:
        chunks = list(driver_chunks(connection, sql, 7))
        expected = connection.execute(text(sql)).all()
    assert [len(chunk) for chunk in chunks] == [7] * 7 + [1]
    assert [row for chunk in chunks for row in chunk] == [tuple(row) for row in expected]
    engine.dispose()


@pytest.mark.parametrize(
    "texts",
    [
        [],
        ["{}"],
        ['{"a": 1.5, "b": [1, 2, {"c": null}]}', "3", '"x, y"', " [ ] ", "1e-3", "-0.0"],
        ['"\\u00e9\\"\\\\"', '{"k": "caf\u00e9"}', "true", "NaN"],
    ],
)
def test_json_values_equal_one_loads_per_text(texts):
    values = json_values(texts)
    assert repr(values) == repr([json.loads(t) for t in texts])


@pytest.mark.parametrize("texts", [["1, 2"], ["1", ""], ["[1", "2]"], ["{"]])
def test_json_values_refuse_a_text_that_is_not_one_value(texts):
    with pytest.raises(ValueError):
        json_values(texts)
