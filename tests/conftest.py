"""Shared fixtures: real SQLite files migrated by the real Alembic migrations."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from simlab import recorder as recorder_module
from simlab.db import make_engine, migrate
from simlab.population import SyntheticConfig, create_synthetic

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO.parent / "shared" / "spec" / "seed-schema.md"

pytest_plugins = ["tests.postgres_cluster"]


@pytest.fixture
def shorthand_channels(monkeypatch) -> list[tuple[str, str]]:
    """The encodings a chart passes to altair as shorthand strings (should be none).

    altair resolves each such value with ``from_dict``, about 2.5 ms per channel
    against 0.01 ms for a channel object (``alt.Y("mean:Q")``): a dozen charts with
    six channels each cost a notebook or a report ~0.2 s.
    """
    from altair.utils import core

    given: list[tuple[str, str]] = []
    wrap = core._ChannelCache._wrap_in_channel

    def recording(self, obj, encoding):
        if isinstance(obj, str):
            given.append((encoding, obj))
        return wrap(self, obj, encoding)

    monkeypatch.setattr(core._ChannelCache, "_wrap_in_channel", recording)
    return given


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh database file migrated to head."""
    path = tmp_path / "simlab.db"
    migrate(path)
    return path


@pytest.fixture
def engine(db_path: Path):
    engine = make_engine(db_path)
    yield engine
    engine.dispose()


def run_simlab(
    *args: str, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the real command line in a subprocess (``python -m simlab``)."""
    full_env = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "simlab", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env=full_env,
        timeout=600,
    )


def copy_database(source: Path, target: Path) -> Path:
    """A consistent copy of a WAL database (SQLite's backup API, not a file copy)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def synthetic_database(path: Path, agents: int, posts: int, seed: int) -> Path:
    """Migrate ``path`` and write a synthetic population into it, in this process."""
    migrate(path)
    engine = make_engine(path)
    create_synthetic(engine, SyntheticConfig(agents=agents, posts=posts, seed=seed))
    engine.dispose()
    return path


def init_database(path: Path, agents: int, posts: int, seed: int) -> Path:
    """``simlab init`` a synthetic population into ``path`` through the real command line."""
    result = run_simlab(
        "init",
        "--agents",
        str(agents),
        "--posts",
        str(posts),
        "--seed",
        str(seed),
        "--db",
        str(path),
    )
    assert result.returncode == 0, result.stderr
    return path


@contextmanager
def failing_turn(monkeypatch, turn: int) -> Iterator[None]:
    """While the block runs, writing turn ``turn`` raises ``RuntimeError("disk on fire")``.

    The turn's rows reach its open transaction first, so the failure also
    shows that they are rolled back. Works for the writer thread and the
    writer process (a forked child inherits the patch).
    """
    original = recorder_module.insert_rows

    def insert_rows(connection, inserts) -> None:
        original(connection, inserts)
        if inserts.turn == turn:
            raise RuntimeError("disk on fire")

    with monkeypatch.context() as patch:
        patch.setattr(recorder_module, "insert_rows", insert_rows)
        yield
