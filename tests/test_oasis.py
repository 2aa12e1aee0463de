"""OASIS databases: built with OASIS's own DDL, imported, refused when unmappable, compared.

The DDL in ``tests/data/oasis_schema/`` is camel-ai/oasis's
``oasis/social_platform/schema/{user,post,follow,like,dislike,comment,rec,trace}.sql``
(each file names its commit). Rows follow how OASIS fills them: ``post`` rows
with ``original_post_id`` are reposts (no ``quote_content``) or quotes;
``created_at`` holds the simulation step in time-step mode.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from simlab.errors import InputError
from simlab.population.oasis import import_oasis
from simlab.world import load_population

from .conftest import run_simlab

SCHEMA = Path(__file__).parent / "data" / "oasis_schema"
TABLES = ("user", "post", "follow", "like", "dislike", "comment", "rec", "trace")
USERS = [
    (1, 1, "rosa_m", "Rosa M", "Nurse. Medicare for all, drug prices down.", 0, 2, 2),
    (2, 2, "tom_k", "Tom K", "Small business owner. Tax cuts, free market.", 0, 2, 1),
    (3, 3, "lin", "Lin", "Teacher, runner, coffee.", 0, 1, 2),
    (4, 4, "dev_p", "Dev P", "", 0, 1, 1),
]
POSTS = [  # post_id, user_id, original_post_id, content, quote_content, created_at, num_likes
    (
        1,
        1,
        None,
        "Medicare for all would end surprise hospital bills. Drug prices are a scandal.",
        None,
        0,
        2,
    ),
    (
        2,
        2,
        None,
        "Tax cuts and deregulation helped my small business hire three people.",
        None,
        0,
        1,
    ),
    (3, 3, None, "Marathon training this weekend, legs are done.", None, 1, 0),
    (4, 4, 1, "", None, 1, 0),  # a repost of post 1
    (5, 2, 1, "", "Private insurance and patient choice beat a government plan.", 2, 1),  # a quote
    (6, 3, None, "Fund public schools and pay teachers properly.", None, 3, 1),
]


def oasis_db(path: Path, extra: str = "") -> Path:
    """An OASIS run database made with OASIS's DDL and a few steps of activity."""
    connection = sqlite3.connect(path)
    for table in TABLES:
        connection.executescript((SCHEMA / f"{table}.sql").read_text())
    connection.executemany("INSERT INTO user VALUES (?, ?, ?, ?, ?, ?, ?, ?)", USERS)
    connection.executemany(
        "INSERT INTO post (post_id, user_id, original_post_id, content, quote_content, created_at,"
        " num_likes) VALUES (?, ?, ?, ?, ?, ?, ?)",
        POSTS,
    )
    connection.executemany(
        "INSERT INTO follow (follower_id, followee_id, created_at) VALUES (?, ?, ?)",
        [(1, 3, 0), (2, 1, 0), (3, 1, 0), (4, 2, 0), (3, 2, 1), (1, 4, 1)],
    )
    connection.executemany(
        "INSERT INTO like (user_id, post_id, created_at) VALUES (?, ?, ?)",
        [(3, 1, 1), (4, 1, 1), (1, 6, 3), (2, 5, 2)],
    )
    connection.execute("INSERT INTO dislike (user_id, post_id, created_at) VALUES (1, 2, 1)")
    connection.executemany(
        "INSERT INTO comment (post_id, user_id, content, created_at) VALUES (?, ?, ?, ?)",
        [(1, 2, "Who pays for it though?", 1), (6, 1, "Yes! Teachers deserve better.", 3)],
    )
    connection.executemany(
        "INSERT INTO rec (user_id, post_id) VALUES (?, ?)", [(1, 2), (2, 1), (3, 1)]
    )
    connection.executemany(
        "INSERT INTO trace (user_id, created_at, action, info) VALUES (?, ?, ?, ?)",
        [(1, 0, "create_post", "{}"), (4, 1, "repost", "{}"), (2, 1, "create_comment", "{}")],
    )
    connection.executescript(extra)
    connection.commit()
    connection.close()
    return path


def _rows(engine, sql: str) -> list:
    with engine.connect() as conn:
        return conn.execute(text(sql)).all()


def test_oasis_run_imports_users_posts_follows_and_engagement(engine, tmp_path):
    source = oasis_db(tmp_path / "oasis.db")
    start = datetime(2025, 6, 1, tzinfo=UTC)
    summary = import_oasis(engine, source, step_hours=2.0, start=start)
    assert (summary.source, summary.agents, summary.posts, summary.follows) == ("oasis", 4, 5, 6)
    assert "1 reposts" in str(summary)
    agents = {r.handle: r for r in _rows(engine, "SELECT a.handle, b.persona_bio, a.persona_source "
                                                 "FROM agent a JOIN agent_persona_bios b USING (agent_id)")}  # fmt: skip
    assert set(agents) == {"rosa_m", "tom_k", "lin", "dev_p"}
    assert (
        agents["rosa_m"].persona_bio == USERS[0][4] and agents["rosa_m"].persona_source == "oasis"
    )
    posts = {r.post_id.rsplit(":", 1)[1]: r for r in _rows(engine, "SELECT * FROM feed_posts")}
    assert posts["1"].created_at == "2025-06-01T00:00:00+00:00"
    assert posts["6"].created_at == "2025-06-01T06:00:00+00:00"  # step 3 x 2 hours
    assert (
        posts["1"].like_count,
        posts["1"].reply_count,
        posts["1"].repost_count,
        posts["1"].quote_count,
    ) == (2, 1, 1, 1)
    assert posts["5"].text == POSTS[4][4] and posts["5"].author_handle == "tom_k"
    assert "4" not in posts  # a repost is a reposts row, not a post
    quote = _rows(engine, "SELECT quote_uri FROM post_details WHERE post_id LIKE '%:post:5'")[0][0]
    assert quote.endswith("/post/1")
    reposts = _rows(engine, "SELECT reposter_handle, reposted_at FROM reposts")
    assert reposts == [("dev_p", "2025-06-01T02:00:00+00:00")]
    kinds = dict(_rows(engine, "SELECT kind, count(*) FROM imported_engagement GROUP BY kind"))
    assert kinds == {"comment": 2, "dislike": 1, "like": 4}
    record = json.loads(_rows(engine, "SELECT config_json FROM populations")[0][0])
    assert record["rows"]["rec"] == 3 and record["trace_actions"] == {
        "create_comment": 1,
        "create_post": 1,
        "repost": 1,
    }
    assert record["step_hours"] == 2.0 and record["dislikes"] == 1
    leaning = {r.handle: r.leaning for r in _rows(engine, "SELECT a.handle, i.leaning FROM agent a JOIN agent_inferences i USING (agent_id)")}  # fmt: skip
    assert leaning["rosa_m"] < 0 < leaning["tom_k"]
    with engine.connect() as conn:
        pop = load_population(conn)
    assert pop.n_agents == 4 and len(pop.follow_pairs) == 6
    again = import_oasis(engine, source, step_hours=2.0, start=start)  # the same run: all skipped
    assert again.agents == 0 and again.posts == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("INSERT INTO like (user_id, post_id, created_at) VALUES (1, 99, 0);", r"like\[4\]\.post_id: 99 is not a post"),
        ("INSERT INTO follow (follower_id, followee_id, created_at) VALUES (9, 1, 0);", r"follow\[6\]\.user_id: 9 is not a user"),
        ("UPDATE post SET created_at = 'soon' WHERE post_id = 3;", r"post\[3\]\.created_at: 'soon' is neither an OASIS step"),
        ("DROP TABLE post;", r"not an OASIS database: no table 'post'"),
        ("ALTER TABLE user DROP COLUMN bio;", r"table user lacks column\(s\) bio"),
    ],
)  # fmt: skip
def test_what_cannot_be_mapped_is_refused_and_nothing_written(engine, tmp_path, extra, message):
    source = oasis_db(tmp_path / "bad.db", extra)
    with pytest.raises(InputError, match=message):
        import_oasis(engine, source)
    assert _rows(engine, "SELECT count(*) FROM agent") == [(0,)]


def test_datetime_created_at_is_read_as_a_time(engine, tmp_path):
    source = oasis_db(tmp_path / "t.db", "UPDATE post SET created_at = '2024-08-06 10:30:00';")
    import_oasis(engine, source)
    assert {r[0] for r in _rows(engine, "SELECT created_at FROM feed_posts")} == {
        "2024-08-06T10:30:00+00:00"
    }


def test_oasis_import_then_compare_two_feeds(tmp_path):
    source = oasis_db(tmp_path / "oasis.db")
    db = tmp_path / "simlab.db"
    imported = run_simlab("import", "oasis", str(source), "--step-hours", "0.5", "--db", str(db))
    assert imported.returncode == 0, imported.stderr
    assert "population 1 (oasis): 4 agents, 5 posts, 6 initial follows" in imported.stdout
    bad = run_simlab("import", "oasis", str(source), "--step-hours", "0", "--db", str(db))
    assert bad.returncode == 2 and "--step-hours: must be > 0" in bad.stderr
    compared = run_simlab(
        "compare", "--feeds", "chronological,popularity", "--turns", "3", "--replicates", "1",
        "--jobs", "1", "--db", str(db),
    )  # fmt: skip
    assert compared.returncode == 0, compared.stderr
    assert "comparison id:" in compared.stdout
    connection = sqlite3.connect(db)
    runs = connection.execute(
        "SELECT c.arm, r.status, r.total_agents FROM comparison_runs c JOIN runs r USING (run_id) ORDER BY c.arm"
    ).fetchall()
    assert runs == [("chronological", "completed", 4), ("popularity", "completed", 4)]
    served = connection.execute("SELECT count(*) FROM generated_feeds").fetchone()[0]
    connection.close()
    assert served > 0
