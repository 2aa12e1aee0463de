"""The private PostgreSQL cluster never outlives its owner: failed sessions, kill -9, no binaries."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simlab.pgcluster import find_bindir

from .conftest import REPO

needs_postgres = pytest.mark.skipif(
    find_bindir() is None and os.environ.get("CI") != "true",
    reason="PostgreSQL server binaries not found (apt-get install -y postgresql)",
)

INNER_TEST = """
import json, os

def test_uses_the_cluster_then_fails(pg_cluster, pg_url):
    with open(os.environ["RECORD"], "w") as handle:
        json.dump({"pid": pg_cluster.pid, "root": str(pg_cluster.root), "url": pg_url}, handle)
    assert False, "this inner test fails on purpose"
"""


def _inner_pytest(folder: Path, env: dict) -> subprocess.CompletedProcess:
    (folder / "test_inner.py").write_text(INNER_TEST)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "tests.postgres_cluster"]
        + ["-p", "no:cacheprovider", "--rootdir", str(folder), str(folder / "test_inner.py")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "RECORD": str(folder / "record.json"), **env},
        timeout=300,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return not (state.exists() and state.read_text().split(")")[-1].split()[0] == "Z")


@needs_postgres
def test_a_failing_session_still_stops_the_server(tmp_path):
    result = _inner_pytest(tmp_path, {})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "this inner test fails on purpose" in result.stdout
    record = json.loads((tmp_path / "record.json").read_text())
    assert record["url"].startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert not _alive(record["pid"])
    assert not Path(record["root"]).exists()


@needs_postgres
def test_kill_9_of_the_owner_takes_the_server_with_it(tmp_path):
    script = (
        "import sys, time\n"
        "from simlab.pgcluster import PrivateCluster, find_bindir\n"
        "cluster = PrivateCluster(find_bindir()).start()\n"
        "print(cluster.pid, cluster.root, flush=True)\n"
        "time.sleep(600)\n"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        pid_text, root = owner.stdout.readline().split()
        server = int(pid_text)
        assert _alive(server)
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(server), "the postgres server outlived its killed owner"
    finally:
        owner.kill()
        owner.wait()
        shutil.rmtree(root, ignore_errors=True)  # kill -9 leaves the folder behind


@pytest.mark.parametrize(("ci", "outcome"), [("true", "1 error"), ("", "1 skipped")])
def test_missing_binaries_skip_locally_and_fail_under_ci(tmp_path, ci, outcome):
    result = _inner_pytest(tmp_path, {"SIMLAB_PG_BINDIR": str(tmp_path / "none"), "CI": ci})
    assert outcome in result.stdout, result.stdout
    assert "PostgreSQL server binaries not found" in result.stdout
    assert not (tmp_path / "record.json").exists()
