"""Engine throughput: N agents x T turns, everything persisted, against the SQLite floor.

Usage: uv run python benchmarks/bench_engine.py [--agents 10000] [--posts 5000] [--turns 100]
       [--posting on|off|both] [--pool 1000] [--feed-size 20] [--growth]
       [--db sqlite|postgres|both]

``--posting both`` runs the same config with agent posting on and off and
prints the throughput ratio (issue 10: posting may cost at most 10%).
``--growth`` instead runs short runs that double one of agents, posts, feed
size and candidate pool at a time and prints how the cost per agent-turn grows.
``--db postgres`` runs it on a private PostgreSQL cluster (:mod:`simlab.pgcluster`,
``fsync=off``) instead of a SQLite file; ``--db both`` runs both and prints the
PostgreSQL / SQLite throughput ratio (issue 14: at least 0.5). The floor and
the bytes are SQLite measures only.

The floor is the time SQLite alone needs to bulk-insert exactly the rows the
run wrote (same tables, same per-turn transactions, executemany of tuples).
Bytes per agent-turn: the database files after the run minus before it, over
agents x turns.

Where the run's time goes (:func:`thread_clocks`): the CPU time of the engine's
thread (population load, turns computed, rows built), of the writer process
(the inserts, :mod:`simlab.writer_process`; the writer thread of
:mod:`simlab.turn_writer` where no process can be used), of the columnar
stream's thread (Arrow and Parquet, :mod:`simlab.columnar_stream`), and the
wall time of the completion's columnar copy
(:func:`simlab.columnar.copy_completed_run`). "Run CPU" adds the writer
process's CPU to this process's. Threads of one process share one GIL, so
their CPU times add up more than they overlap; the writer process has its own.
Peak RSS is the engine's process; the writer process's is shown beside it.
Every run is measured in a fresh interpreter (``common.in_fresh_process``),
so its peak RSS and its writer's CPU are its own, not the largest so far.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from common import children_cpu, in_fresh_process, peak_rss_mb, print_table, timer

from simlab import columnar, columnar_stream, turn_writer
from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import make_engine, migrate
from simlab.errors import InputError
from simlab.pgcluster import PrivateCluster, find_bindir
from simlab.population import SyntheticConfig, create_synthetic

CLOCKS = (
    "engine thread CPU",
    "writer process CPU",
    "writer thread CPU",
    "stream thread CPU",
    "completion copy wall",
)
RUN_TABLES = (
    "runs",
    "run_configs",
    "run_models",
    "generated_feeds",
    "feed_scores",
    "likes",
    "comments",
    "follows",
    "agent_leaning_changes",
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
    by_turn = {turn: [] for turn in turns}  # grouped before the clock starts
    for table in RUN_TABLES:
        columns, has_turn, rows = batches[table]
        if has_turn:
            index = columns.index("turn_number")
            grouped = {turn: [] for turn in turns}
            for row in rows:
                grouped[row[index]].append(row)
            for turn in turns:
                by_turn[turn].append((table, columns, grouped[turn]))
    start = time.perf_counter()
    for table in ("runs", "run_configs", "run_models"):
        columns, _, rows = batches[table]
        _insert(dst, table, columns, rows)
    for turn in turns:
        dst.execute("BEGIN")
        for table, columns, rows in by_turn[turn]:
            _insert(dst, table, columns, rows, begin=False)
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


@contextlib.contextmanager
def thread_clocks(clocks: dict[str, float]):
    """Record per-thread CPU (engine, writer, stream), the writer process's, and the copy's wall.

    Wraps the worker threads' loops and :func:`simlab.columnar.copy_completed_run`
    while the block runs (measurement only; restored afterwards).
    """
    wrapped = [
        (turn_writer.TurnWriter, "_work", "writer thread CPU", time.thread_time),
        (columnar_stream.ColumnarStream, "_work", "stream thread CPU", time.thread_time),
        (columnar, "copy_completed_run", "completion copy wall", time.perf_counter),
    ]
    originals = [getattr(owner, name) for owner, name, _, _ in wrapped]

    def timed(function, key, clock):
        def call(*args, **kwargs):
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                clocks[key] = clocks.get(key, 0.0) + clock() - start

        return call

    for (owner, name, key, clock), function in zip(wrapped, originals, strict=True):
        setattr(owner, name, timed(function, key, clock))
    start, children = time.thread_time(), children_cpu()
    try:
        yield
    finally:
        clocks["engine thread CPU"] = time.thread_time() - start
        clocks["writer process CPU"] = children_cpu() - children  # exited and waited for
        for (owner, name, _, _), function in zip(wrapped, originals, strict=True):
            setattr(owner, name, function)


def _files_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("bench.db*"))


def _counts(engine, run_id: str) -> dict[str, int]:
    marker = "%(r)s" if engine.dialect.name == "postgresql" else ":r"
    with engine.connect() as connection:
        return {
            t: connection.exec_driver_sql(
                f"SELECT count(*) FROM {t} WHERE run_id = {marker}", {"r": run_id}
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


def bench(args, posting: bool, floor_too: bool = True, backend: str = "sqlite") -> dict[str, float]:
    """Generate the population, run it with posting on or off, and measure; prints a table."""
    results: dict[str, float] = {}
    sqlite = backend == "sqlite"
    floor_too = floor_too and sqlite
    with tempfile.TemporaryDirectory() as folder, _database(backend, Path(folder)) as db:
        migrate(db)
        engine = make_engine(db)
        with timer(results, "population"):
            create_synthetic(engine, SyntheticConfig(agents=args.agents, posts=args.posts, seed=1))
        engine.dispose()  # closing checkpoints the WAL: the files hold the population only
        before = _files_bytes(Path(folder))
        engine = make_engine(db)
        config = RunConfig(
            seed=1,
            turns=args.turns,
            feed={"name": args.feed, "size": args.feed_size, "candidate_pool": args.pool},
            posting={"enabled": posting},
        )
        cpu = time.process_time()
        clocks: dict[str, float] = {}
        try:
            with timer(results, "run"), thread_clocks(clocks):
                run_id = simulation.run(config, engine)
        except InputError as refused:  # e.g. the memory estimate exceeds what is available
            print_table(
                f"bench_engine: {args.agents:,} agents x {args.turns} turns: refused",
                [("simlab run", str(refused), "")],
            )
            return {"rate": float("nan"), "bytes": float("nan"), "rss": peak_rss_mb()}
        results["cpu"] = time.process_time() - cpu + clocks.get("writer process CPU", 0.0)
        engine.dispose()
        rss = peak_rss_mb()
        child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        written = _files_bytes(Path(folder)) - before if sqlite else float("nan")
        size_mb = _files_bytes(Path(folder)) / 1e6 if sqlite else float("nan")
        cpu = time.process_time()
        floor = insert_floor(db, Path(folder) / "floor.db", run_id) if floor_too else float("nan")
        results["floor_cpu"] = time.process_time() - cpu
        engine = make_engine(db)
        counts = _counts(engine, run_id)
        engine.dispose()
    agent_turns = args.agents * args.turns
    rate = agent_turns / results["run"]
    rows_written = sum(counts.values())
    if not floor_too and sqlite:
        return {
            "rate": rate,
            "cpu_rate": agent_turns / results["cpu"],
            "bytes": written / agent_turns,
            "rss": rss,
        }
    rows = [
        ("population generate + write", f"{results['population']:.1f} s", ""),
        ("run wall time", f"{results['run']:.1f} s", ""),
        ("run CPU time (all threads, writer process)", f"{results['cpu']:.1f} s", ""),
        *((f"  {key}", f"{clocks.get(key, 0.0):.2f} s", "") for key in CLOCKS),
        ("agent-turns per second", f"{rate:,.0f}", ">= 25,000"),
        ("rows written", f"{rows_written:,}", ""),
        ("bytes written per agent-turn", f"{written / agent_turns:,.0f}", "<= 600"),
        ("SQLite insert floor (same rows)", f"{floor:.1f} s", ""),
        ("run time / floor", f"{results['run'] / floor:.2f}x", "<= 1.5x"),
        ("floor CPU time", f"{results['floor_cpu']:.1f} s", ""),
        ("run CPU / floor CPU", f"{results['cpu'] / results['floor_cpu']:.2f}x", ""),
        ("peak RSS (engine; writer process)", f"{rss:,.0f} MB; {child_rss:,.0f} MB", "< 4,000 MB"),
        ("database size", f"{size_mb:,.0f} MB", ""),
    ]
    if not sqlite:  # the floor, bytes and file size are SQLite measures
        sqlite_only = ("floor", "bytes", "database size")
        rows = [row for row in rows if not any(word in row[0] for word in sqlite_only)]
    print_table(
        f"bench_engine ({backend}): {args.agents:,} agents x {args.turns} turns, "
        f"{args.posts:,} posts, "
        f"feed {args.feed}, size {args.feed_size}, pool {args.pool:,}, rule_based, all metrics, "
        f"posting {'on' if posting else 'off'}",
        rows,
    )
    print("\nrows per table: " + ", ".join(f"{t}={n:,}" for t, n in counts.items()))
    return {"rate": rate}


def growth(args) -> None:
    """Double agents, posts, feed size and pool one at a time from ``args``; print the costs."""
    base = {"agents": args.agents, "posts": args.posts, "feed_size": args.feed_size}
    base["pool"] = args.pool
    variants = [("base", base)] + [
        (f"{name} x2", base | {name: 2 * value}) for name, value in base.items()
    ]
    rows, reference = [], None
    for label, values in variants:
        measured = in_fresh_process(bench, argparse.Namespace(**(vars(args) | values)), True, False)
        micros = 1e6 / measured["cpu_rate"]
        reference = reference or micros
        rows.append(
            (
                f"{label}: {values['agents']:,} agents, {values['posts']:,} posts, "
                f"feed {values['feed_size']}, pool {values['pool']:,}",
                f"{micros:,.1f} CPU µs per agent-turn ({micros / reference:.2f}x), "
                f"{1e6 / measured['rate']:,.0f} wall µs, {measured['bytes']:,.0f} B, "
                f"peak RSS {measured['rss']:,.0f} MB",
                "",
            )
        )
    print_table(f"cost growth, {args.turns} turns each, posting on", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=5_000)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--feed", default="personalized")
    parser.add_argument("--posting", choices=("on", "off", "both"), default="on")
    parser.add_argument("--pool", type=int, default=1000, help="candidate pool size")
    parser.add_argument("--feed-size", type=int, default=20)
    parser.add_argument("--growth", action="store_true", help="the cost-growth table only")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="sqlite")
    args = parser.parse_args()
    if args.growth:
        growth(args)
        return
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.posting]
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    rates = {
        (backend, posting): in_fresh_process(bench, args, posting, True, backend)["rate"]
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
