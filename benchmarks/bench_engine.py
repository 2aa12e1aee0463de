"""Engine throughput: N agents x T turns, everything persisted, against the SQLite floor.

Usage: uv run python benchmarks/bench_engine.py [--agents 10000] [--posts 5000] [--turns 100]
       [--posting on|off|both] [--db sqlite|postgres|both]

``--posting both`` runs the same config with agent posting on and off and
prints the throughput ratio (issue 10: posting may cost at most 10%).
``--db postgres`` runs it on a private PostgreSQL cluster (:mod:`simlab.pgcluster`,
``fsync=off``) instead of a SQLite file; ``--db both`` runs both and prints the
PostgreSQL / SQLite throughput ratio (issue 14: at least 0.5).

The floor is the time SQLite alone needs to bulk-insert exactly the rows the
run wrote (same tables, same per-turn transactions, executemany of tuples).
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import tempfile
import time
from pathlib import Path

from common import peak_rss_mb, print_table, timer

from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import make_engine, migrate
from simlab.pgcluster import PrivateCluster, find_bindir
from simlab.population import SyntheticConfig, create_synthetic

RUN_TABLES = (
    "runs",
    "run_configs",
    "generated_feeds",
    "feed_scores",
    "likes",
    "comments",
    "follows",
    "agent_leanings",
    "turn_metadata",
    "turn_metrics",
    "run_metrics",
    "agent_posts",
)


def insert_floor(source: Path, target: Path, run_id: str) -> float:
    """Seconds to insert the run's rows into a fresh migrated copy, turn by turn."""
    migrate(target)
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=NORMAL")
    dst.execute("PRAGMA foreign_keys=ON")
    batches = {}
    for table in RUN_TABLES:
        columns = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
        has_turn = "turn_number" in columns
        rows = src.execute(f"SELECT * FROM {table} WHERE run_id = ?", (run_id,)).fetchall()
        batches[table] = (columns, has_turn, rows)
    columns, _, rows = batches["turn_metadata"]
    turns = sorted(r[columns.index("turn_number")] for r in rows)
    start = time.perf_counter()
    for table in ("runs", "run_configs"):
        columns, _, rows = batches[table]
        _insert(dst, table, columns, rows)
    for turn in turns:
        dst.execute("BEGIN")
        for table in RUN_TABLES:
            columns, has_turn, rows = batches[table]
            if has_turn:
                index = columns.index("turn_number")
                _insert(dst, table, columns, [r for r in rows if r[index] == turn], begin=False)
        dst.execute("COMMIT")
    columns, _, rows = batches["run_metrics"]
    _insert(dst, "run_metrics", columns, rows)
    return time.perf_counter() - start


def _insert(connection, table, columns, rows, begin=True):
    if not rows:
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    if begin:
        connection.execute("BEGIN")
    connection.executemany(sql, rows)
    if begin:
        connection.execute("COMMIT")


def _counts(engine, run_id: str) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            t: connection.exec_driver_sql(
                f"SELECT count(*) FROM {t} WHERE run_id = %(r)s"
                if engine.dialect.name == "postgresql"
                else f"SELECT count(*) FROM {t} WHERE run_id = ?",
                {"r": run_id} if engine.dialect.name == "postgresql" else (run_id,),
            ).scalar()
            for t in RUN_TABLES
        }


@contextlib.contextmanager
def _database(backend: str, folder: Path):
    """The URL or path of an empty database on ``backend`` (a private cluster for postgres)."""
    if backend == "sqlite":
        yield folder / "bench.db"
        return
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("--db postgres: PostgreSQL server binaries not found")
    with PrivateCluster(bindir) as cluster:
        yield cluster.create_database("bench")


def bench(args, posting: bool, backend: str = "sqlite") -> dict[str, float]:
    """Generate the population, run it with posting on or off, and measure; prints a table."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder, _database(backend, Path(folder)) as db:
        migrate(db)
        engine = make_engine(db)
        with timer(results, "population"):
            create_synthetic(engine, SyntheticConfig(agents=args.agents, posts=args.posts, seed=1))
        config = RunConfig(
            seed=1,
            turns=args.turns,
            feed={"name": args.feed, "size": 20},
            posting={"enabled": posting},
        )
        with timer(results, "run"):
            run_id = simulation.run(config, engine)
        counts = _counts(engine, run_id)
        engine.dispose()
        rss = peak_rss_mb()
        floor = None
        if backend == "sqlite":
            size_mb = sum(p.stat().st_size for p in Path(folder).glob("bench.db*")) / 1e6
            floor = insert_floor(db, Path(folder) / "floor.db", run_id)
    agent_turns = args.agents * args.turns
    rate = agent_turns / results["run"]
    rows_written = sum(counts.values())
    rows = [
        ("population generate + write", f"{results['population']:.1f} s", ""),
        ("run wall time", f"{results['run']:.1f} s", ""),
        ("agent-turns per second", f"{rate:,.0f}", ">= 20,000"),
        ("rows written", f"{rows_written:,}", ""),
        ("rows written per second", f"{rows_written / results['run']:,.0f}", ""),
    ]
    if floor is not None:
        rows += [
            ("SQLite insert floor (same rows)", f"{floor:.1f} s", ""),
            ("run time / floor", f"{results['run'] / floor:.2f}x", "<= 2x"),
        ]
    rows.append(("peak RSS (process so far)", f"{rss:,.0f} MB", "< 2,000 MB"))
    if floor is not None:
        rows.append(("database size", f"{size_mb:,.0f} MB", ""))
    print_table(
        f"bench_engine ({backend}): {args.agents:,} agents x {args.turns} turns, feed "
        f"{args.feed}, size 20, rule_based, all metrics, posting {'on' if posting else 'off'}",
        rows,
    )
    print("\nrows per table: " + ", ".join(f"{t}={n:,}" for t, n in counts.items()))
    return {"rate": rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=5_000)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--feed", default="personalized")
    parser.add_argument("--posting", choices=("on", "off", "both"), default="on")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    args = parser.parse_args()
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.posting]
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    rates = {
        (backend, posting): bench(args, posting, backend)["rate"]
        for backend in backends
        for posting in modes
    }
    for backend in backends:
        if len(modes) == 2:
            ratio = rates[backend, True] / rates[backend, False]
            print_table(
                f"agent posting cost ({backend})",
                [
                    ("agent-turns per second, posting off", f"{rates[backend, False]:,.0f}", ""),
                    ("agent-turns per second, posting on", f"{rates[backend, True]:,.0f}", ""),
                    ("on / off", f"{ratio:.3f}", ">= 0.90"),
                ],
            )
    if len(backends) == 2:
        print_table(
            "PostgreSQL vs SQLite",
            [
                (
                    f"agent-turns per second, posting {'on' if posting else 'off'}",
                    f"PostgreSQL {rates['postgres', posting]:,.0f} / SQLite "
                    f"{rates['sqlite', posting]:,.0f} = "
                    f"{rates['postgres', posting] / rates['sqlite', posting]:.2f}",
                    ">= 0.50",
                )
                for posting in modes
            ],
        )


if __name__ == "__main__":
    main()
