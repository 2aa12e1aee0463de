"""Bad numbers, files and databases: exit 2, one line, and the database byte-identical or absent."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from .conftest import copy_database, init_database, run_simlab


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    return init_database(tmp_path_factory.mktemp("bounds") / "pop.db", agents=40, posts=200, seed=1)


@pytest.fixture
def db(population, tmp_path) -> Path:
    path = copy_database(population, tmp_path / "bounds.db")
    sqlite3.connect(path).close()  # fold the copy's WAL into the file before hashing
    return path


def _fingerprint(path: Path) -> tuple[str, ...]:
    """The bytes of the database and of any WAL beside it."""
    return tuple(
        hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else "absent"
        for p in (path, Path(f"{path}-wal"))
    )


def _refused(*args: str) -> str:
    result = run_simlab(*args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


TOML_CASES = {
    "turn_hours = inf\n": "turn_hours",
    "turn_hours = nan\n": "turn_hours",
    "seed = 9223372036854775808\n": "seed",
    '[feed]\nname = "popularity"\n[feed.params]\nlike_weight = inf\n': "like_weight",
    '[feed]\nname = "popularity"\n[feed.params]\nlike_weight = 1e300\n': "like_weight",
    "[opinion]\nmu = nan\n": "mu",
    '[policy]\nname = "rule_based"\n[policy.params]\nlike_interest = -inf\n': "like_interest",
}


@pytest.mark.parametrize(("toml", "named"), TOML_CASES.items())
def test_bad_toml_numbers_are_refused_before_anything_is_written(db, tmp_path, toml, named):
    config = tmp_path / "run.toml"
    config.write_text(toml)
    before = _fingerprint(db)
    assert named in _refused("run", "--config", str(config), "--db", str(db))
    assert _fingerprint(db) == before


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["run", "--seed", "9223372036854775808"], "seed"),
        (["run", "--seed", "-1"], "seed"),
        (["run", "--feed", "popularity", "--feed-param", "like_weight=inf"], "like_weight"),
        (["run", "--feed", "popularity", "--feed-param", "half_life_hours=nan"], "half_life"),
        (["run", "--feed", "diverse", "--feed-param", "pool_factor=1000000000000"], "pool_factor"),
        (["run", "--feed", "diverse", "--feed-param", "pool_factor=1e12"], "pool_factor"),
        (["compare", "--feeds", "chronological", "--seed", "9223372036854775808"], "seed"),
        (["compare", "--feeds", "chronological", "--jobs", "0"], "--jobs"),
        (["compare", "--feeds", "chronological", "--jobs", "100000"], "--jobs"),
        (["compare", "--feeds", "popularity", "--feed-param", "popularity.like_weight=inf"], "like_weight"),
        (["init", "--agents", "1000000000"], "memory"),
        (["init", "--posts", "1000000000000"], "memory"),
        (["init", "--seed", "9223372036854775808"], "seed"),
    ],
)  # fmt: skip
def test_bad_flags_are_refused_and_the_database_is_unchanged(db, args, named):
    before = _fingerprint(db)
    assert named in _refused(*args, "--db", str(db))
    assert _fingerprint(db) == before


def test_memory_refusal_gives_the_estimate_and_creates_no_file(tmp_path):
    target = tmp_path / "huge.db"
    line = _refused("init", "--agents", "1000000000", "--db", str(target))
    assert "would need about" in line and "TiB" in line and "available" in line
    assert list(tmp_path.iterdir()) == []


def test_port_is_bounded(db):
    assert "--port" in _refused("notebook", "explore_run", "--port", "70000", "--db", str(db))


def _nested(depth: int) -> str:
    return '{"feed": ' + "[" * depth + "]" * depth + "}"


def _huge_count() -> str:
    post = {
        "uri": "at://did:plc:a/app.bsky.feed.post/1",
        "author": {"did": "did:plc:a", "handle": "a.bsky.social"},
        "record": {"text": "hi", "createdAt": "2026-01-01T00:00:00Z"},
        "likeCount": 10**30,
    }
    return json.dumps({"feed": [{"post": post}]})


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (_nested(100_000), "nested too deeply"),
        ('{"did": "did:plc:x", "handle": "x", "followersCount": ' + "9" * 5000 + "}", "JSON"),
        (_huge_count(), "likeCount: above the largest count"),
    ],
)
def test_hostile_bluesky_json_gives_one_line_and_no_new_database(tmp_path, db, content, named):
    source = tmp_path / "bad.json"
    source.write_text(content)
    fresh = tmp_path / "fresh.db"
    assert named in _refused("import", "bluesky", str(source), "--db", str(fresh))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "bounds.db"]
    before = _fingerprint(db)
    assert named in _refused("import", "bluesky", str(source), "--db", str(db))
    assert _fingerprint(db) == before


def test_failed_sqlite_import_into_a_new_path_creates_nothing(tmp_path):
    source = tmp_path / "source.db"
    connection = sqlite3.connect(source)
    connection.execute("CREATE TABLE unrelated (x)")
    connection.close()
    target = tmp_path / "new.db"
    assert "missing table" in _refused("import", "sqlite", str(source), "--db", str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.db"]


@pytest.mark.parametrize(
    "command", [["runs"], ["run", "--turns", "1"], ["doctor"], ["resume", "x"]]
)
def test_zero_byte_database_stays_zero_bytes(tmp_path, command):
    empty = tmp_path / "empty.db"
    empty.touch()
    line = _refused(*command, "--db", str(empty))
    assert "empty file (0 bytes)" in line
    assert empty.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_init_into_a_zero_byte_file_fills_it(tmp_path):
    empty = tmp_path / "empty.db"
    empty.touch()
    result = run_simlab("init", "--agents", "10", "--posts", "30", "--db", str(empty))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]  # no staging left
    connection = sqlite3.connect(empty)
    assert connection.execute("SELECT count(*) FROM agent").fetchone() == (10,)
    connection.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def _refuse_constant(token: str):
    pytest.fail(f"stored JSON holds {token}")


def test_stored_json_is_strict(db):
    result = run_simlab(
        "run", "--feed", "popularity", "--turns", "3", "--feed-param", "like_weight=1000000",
        "--feed-param", "comment_weight=1000000", "--db", str(db),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as connection:
        for table, column in [
            ("feed_scores", "scores"),
            ("run_configs", "config_json"),
            ("turn_metrics", "metrics"),
            ("run_metrics", "metrics"),
        ]:
            for (text,) in connection.execute(f"SELECT {column} FROM {table}"):
                json.loads(text, parse_constant=_refuse_constant)
