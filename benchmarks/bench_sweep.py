"""Sweep wall time: the local process pool vs Ray, on the same grid and the same SQLite shards.

Usage: uv run python benchmarks/bench_sweep.py [--feeds 4] [--seeds 16] [--agents 1000]
       [--posts 5000] [--turns 50] [--jobs 2] [--no-engine]

The full size is 64 cells (4 feeds x 16 seeds, 1k agents x 50 turns). Each
executor runs the grid into its own copy of one population database; the wall
time covers running every cell and merging the shards (each merged as its
cell completes). Ray is timed twice: including ``ray.init`` (a private local
Ray, ``num_cpus=jobs``) and on an already started Ray. Overhead = Ray / local
- 1 (target <= 15%). The rows of both sweeps are checked equal cell by cell
(turn metrics), so a faster but wrong executor cannot pass. Merging every
shard again afterwards (it adds nothing) shows what checking a merged shard
costs. Last, one cell's run alone on SQLite and on a private PostgreSQL
cluster (``bench_engine.bench``, posting on) gives the PG / SQLite engine
throughput (target >= 0.5); ``--no-engine`` skips it.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from bench_engine import bench
from common import print_table, timer

from simlab.db import make_engine, migrate
from simlab.executors import ExecutorChoice
from simlab.population import SyntheticConfig, create_synthetic
from simlab.sweep import merge_shards, sweep
from simlab.sweep.config import parse

FEEDS = ["chronological", "popularity", "random", "in_network", "diverse", "bridging"]


def _population(path: Path, agents: int, posts: int) -> Path:
    engine = make_engine(path)
    migrate(engine)
    create_synthetic(engine, SyntheticConfig(agents=agents, posts=posts, seed=1))
    engine.dispose()
    return path


def _copy(source: Path, target: Path) -> Path:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def _metrics(db: Path, run_ids: dict[int, str]) -> dict[int, list]:
    with sqlite3.connect(db) as connection:
        return {
            cell: connection.execute(
                "SELECT turn_number, metrics FROM turn_metrics WHERE run_id = ? ORDER BY 1", (run,)
            ).fetchall()
            for cell, run in run_ids.items()
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=4, choices=range(1, len(FEEDS) + 1))
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-engine", action="store_true", help="skip the PG vs SQLite rows")
    args = parser.parse_args()
    config = parse(
        {
            "replicates": args.seeds,
            "run": {"turns": args.turns},
            "grid": {"feeds": FEEDS[: args.feeds]},
        },
        "bench",
    )
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        base = _population(root / "base.db", args.agents, args.posts)
        local_db, ray_db = _copy(base, root / "local.db"), _copy(base, root / "ray.db")
        with timer(times, "local"):
            local = sweep(config, local_db, jobs=args.jobs)
        os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
        import ray

        start = time.perf_counter()
        ray.init(
            num_cpus=args.jobs,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
        times["ray_init"] = time.perf_counter() - start
        with timer(times, "ray"):
            remote = sweep(config, ray_db, jobs=args.jobs, executor=ExecutorChoice("ray"))
        ray.shutdown()
        with timer(times, "merge"):
            again = merge_shards([m.shard for m in local.merged], local_db)
        assert sum(m.added for m in again) == 0
        assert local.failures == remote.failures == {}
        same = _metrics(local_db, local.run_ids) == _metrics(ray_db, remote.run_ids)
    cells = len(local.run_ids)
    with_init = times["ray"] + times["ray_init"]
    print_table(
        f"sweep: {cells} cells ({args.feeds} feeds x {args.seeds} seeds), {args.agents} agents "
        f"x {args.turns} turns, {args.jobs} jobs",
        [
            ("local pool wall (run + merge)", f"{times['local']:.1f} s", ""),
            ("ray wall, Ray already up", f"{times['ray']:.1f} s", ""),
            ("ray.init (private local Ray)", f"{times['ray_init']:.1f} s", ""),
            ("ray overhead, Ray already up", f"{times['ray'] / times['local'] - 1:+.1%}", "<= 15%"),
            ("ray overhead, with ray.init", f"{with_init / times['local'] - 1:+.1%}", "<= 15%"),
            ("local cells / min", f"{cells / times['local'] * 60:.1f}", ""),
            ("merging every shard again (adds 0 rows)", f"{times['merge']:.1f} s", ""),
            ("same turn metrics in every cell", "yes" if same else "NO", "yes"),
        ],
    )
    if not args.no_engine:
        _engine_rows(args)


def _engine_rows(args) -> None:
    """One cell's run on SQLite and on PostgreSQL: agent-turns per second and their ratio."""
    cell = argparse.Namespace(
        agents=args.agents, posts=args.posts, turns=args.turns, feed="chronological",
        feed_size=20, pool=1000,
    )  # fmt: skip
    rates = {
        b: bench(cell, True, floor_too=False, backend=b)["rate"] for b in ("sqlite", "postgres")
    }
    print_table(
        f"engine throughput, one cell ({args.agents:,} agents x {args.turns} turns, posting on)",
        [
            ("SQLite agent-turns per second", f"{rates['sqlite']:,.0f}", ""),
            ("PostgreSQL agent-turns per second", f"{rates['postgres']:,.0f}", ""),
            ("PostgreSQL / SQLite", f"{rates['postgres'] / rates['sqlite']:.2f}", ">= 0.50"),
        ],
    )


if __name__ == "__main__":
    main()
