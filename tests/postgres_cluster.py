"""pytest plugin: one private PostgreSQL cluster per test session, one fresh database per test.

Registered from ``tests/conftest.py``. Without PostgreSQL binaries the tests
that ask for these fixtures skip with the reason, except under ``CI=true``,
where they fail: CI installs ``postgresql`` (``.ci/run``) and must run them.
"""

from __future__ import annotations

import itertools
import os

import pytest
from sqlalchemy import create_engine

from simlab.pgcluster import PrivateCluster, find_bindir

_names = itertools.count()


@pytest.fixture(scope="session")
def pg_cluster():
    """A running PrivateCluster on 127.0.0.1, stopped when the session ends (pass or fail)."""
    bindir = find_bindir()
    if bindir is None:
        reason = "PostgreSQL server binaries not found (apt-get install -y postgresql)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    with PrivateCluster(bindir) as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: PrivateCluster) -> str:
    """The URL of a new, empty database on the session's cluster (dropped after the test)."""
    name = f"simlab_test_{os.getpid()}_{next(_names)}"
    url = pg_cluster.create_database(name)
    yield url
    pg_cluster.drop_database(name)


@pytest.fixture
def pg_engine(pg_url: str):
    """A SQLAlchemy engine on a new, empty PostgreSQL database."""
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()
