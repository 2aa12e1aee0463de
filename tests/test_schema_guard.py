"""The schema guard: writers refuse databases behind or ahead of head; other URLs fail in one line."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from .conftest import copy_database, init_database, run_simlab


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    path = init_database(tmp_path_factory.mktemp("guard") / "pop.db", agents=30, posts=120, seed=2)
    result = run_simlab("run", "--turns", "2", "--db", str(path))
    assert result.returncode == 0, result.stderr
    return path


def _sha(path: Path) -> tuple[str, bool]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), Path(f"{path}-wal").exists()


def _refused(*args: str) -> str:
    result = run_simlab(*args)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def _run_id(db: Path) -> str:
    connection = sqlite3.connect(db)
    try:
        return connection.execute("SELECT run_id FROM runs").fetchone()[0]
    finally:
        connection.close()


def _writers(db: Path, tmp_path: Path) -> list[list[str]]:
    profile = tmp_path / "profile.json"
    profile.write_text('{"did": "did:plc:guard", "handle": "guard.bsky.social"}')
    run_id = _run_id(db)
    return [
        ["run", "--turns", "1"],
        ["resume", run_id],
        ["compare", "--feeds", "chronological,random", "--turns", "1", "--replicates", "1"],
        ["init", "--agents", "10", "--posts", "20"],
        ["import", "bluesky", str(profile)],
        ["rm", run_id],
        ["runs"],
    ]


def test_a_database_behind_head_is_refused_with_the_upgrade_hint(population, tmp_path):
    db = copy_database(population, tmp_path / "old.db")
    assert run_simlab("db", "downgrade", "0003_comparisons", "--db", str(db)).returncode == 0
    writers = _writers(db, tmp_path)
    before = _sha(db)
    for command in writers:
        line = _refused(*command, "--db", str(db))
        assert "behind" in line and "run `simlab db upgrade`" in line, command
        assert _sha(db) == before, command
    assert run_simlab("db", "upgrade", "--db", str(db)).returncode == 0
    assert run_simlab("runs", "--db", str(db)).returncode == 0


def test_an_unknown_revision_is_named_and_nothing_is_written(population, tmp_path):
    db = copy_database(population, tmp_path / "future.db")
    connection = sqlite3.connect(db)
    with connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    connection.close()
    writers = [*_writers(db, tmp_path), ["db", "upgrade"], ["db", "downgrade", "base"]]
    before = _sha(db)
    for command in writers:
        line = _refused(*command, "--db", str(db))
        assert "0099_from_the_future" in line, command
        assert _sha(db) == before, command
    doctor = run_simlab("doctor", "--db", str(db))
    assert doctor.returncode == 0 and "0099_from_the_future" in doctor.stdout


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("postgresql://user:hunter2@127.0.0.1:1/simlab", "connection failed"),
        ("postgresql+pg8000://user:hunter2@127.0.0.1:1/simlab", "driver"),
        ("mysql://user:hunter2@127.0.0.1:1/simlab", "driver"),
        ("nosuchdialect://user:hunter2@host/db", "unsupported database dialect"),
        ("postgresql+nosuchdriver://user:hunter2@host/db", "unsupported database dialect"),
    ],
)
@pytest.mark.parametrize("command", [["runs"], ["run", "--turns", "1"]])
def test_other_urls_fail_in_one_line_without_the_password(url, named, command):
    line = _refused(*command, "--db", url)
    assert named in line and "hunter2" not in line


def test_doctor_masks_the_password():
    result = run_simlab("doctor", "--db", "postgresql://user:hunter2@127.0.0.1:1/simlab")
    assert "hunter2" not in result.stdout + result.stderr
    assert "***" in result.stdout
