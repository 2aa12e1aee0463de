"""Bundles of sweep runs: the ``sweeps`` and ``sweep_cells`` rows travel, re-import adds nothing."""

from __future__ import annotations

from pathlib import Path

from simlab.bundle import import_bundle
from simlab.schema import metadata
from simlab.sweep import sweep
from simlab.sweep.config import parse

from .conftest import copy_database, init_database, run_simlab
from .test_bundle import _dump


def _export(db: Path, run_ids, out: Path) -> Path:
    result = run_simlab("export", *run_ids, "--out", str(out), "--db", str(db))
    assert result.returncode == 0, result.stderr
    return out


def _sweep(db: Path, feeds: list[str], sweep_id: str):
    config = {"seed": 6, "replicates": 2, "run": {"turns": 2}, "grid": {"feeds": feeds}}
    result = sweep(parse(config, "test"), db, jobs=2, sweep_id=sweep_id)
    assert result.failures == {}
    return result


def test_bundles_of_two_sweeps_import_once_each_and_again_add_nothing(tmp_path):
    base = init_database(tmp_path / "base.db", agents=30, posts=150, seed=2)
    source = copy_database(base, tmp_path / "source.db")
    first = _sweep(source, ["chronological"], "first")
    second = _sweep(source, ["popularity", "random"], "second")
    first_bundle = _export(source, first.run_ids.values(), tmp_path / "first")
    second_bundle = _export(source, second.run_ids.values(), tmp_path / "second")

    target = copy_database(base, tmp_path / "target.db")
    added = import_bundle(first_bundle, target).added
    assert added["sweeps"] == 1 and added["sweep_cells"] == 2 and added["runs"] == 2
    assert sum(import_bundle(first_bundle, target).added.values()) == 0

    added = import_bundle(second_bundle, target).added  # holds the first sweep's row too
    assert added["sweeps"] == 1 and added["sweep_cells"] == 4 and added["runs"] == 4
    for bundle in (first_bundle, second_bundle):
        again = run_simlab("import", "bundle", str(bundle), "--db", str(target))
        assert again.returncode == 0, again.stderr
        assert ": 0 rows added" in again.stdout

    assert _dump(target, metadata.sorted_tables) == _dump(source, metadata.sorted_tables)
