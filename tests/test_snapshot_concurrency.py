"""Several processes building the analytics snapshot of one database at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from simlab import analytics

from .conftest import REPO, init_database, run_simlab

READER = """
import sys
from simlab import analytics
for _ in range(3):
    con = analytics.connect(sys.argv[1], snapshot=True)
    assert analytics.access_method(con) == "snapshot"
    print(con.execute("SELECT count(*) FROM sim.likes").fetchone()[0], flush=True)
    con.close()
"""


def test_processes_building_snapshots_at_once_all_succeed(tmp_path):
    db = init_database(tmp_path / "snap.db", agents=200, posts=1000, seed=3)
    assert run_simlab("run", "--turns", "5", "--db", str(db)).returncode == 0
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(db)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    # A writer commits while they build, so some of them rebuild a stale copy.
    assert run_simlab("run", "--turns", "2", "--db", str(db)).returncode == 0
    outputs = [reader.communicate(timeout=300) for reader in readers]
    for reader, (out, err) in zip(readers, outputs, strict=True):
        assert reader.returncode == 0, err
        assert len(out.split()) == 3
    con = analytics.connect(db, snapshot=True)
    final = con.execute("SELECT count(*) FROM sim.likes").fetchone()[0]
    con.close()
    assert all(int(n) <= final for out, _ in outputs for n in out.split())
    leftovers = [p.name for p in Path(tmp_path).iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
