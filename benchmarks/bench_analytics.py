"""Analytics queries through DuckDB against the same questions asked of SQLite directly.

Usage: uv run python benchmarks/bench_analytics.py [--db PATH] [--agents 10000] [--posts 5000]
       [--turns 100] [--repeat 3] [--arrow] [--snapshot]

With ``--db PATH`` an existing database is reused (generation takes minutes on
two cores); a missing PATH is generated there and kept. Without ``--db`` the
database lives in a temporary folder. ``--arrow`` also times the Arrow
fallback's one-off copy (slow: a Python pass over every row). ``--snapshot``
queries the columnar DuckDB copy (``connect(db, snapshot=True)``) and reports
the time to build it.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from common import peak_rss_mb, print_table, timer

from simlab import analytics
from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import make_engine, migrate
from simlab.population import SyntheticConfig, create_synthetic

# The same SQL text runs in sqlite3 and in DuckDB (with the attached database as default).
ACTION_COUNTS_SQL = """
SELECT run_id, turn_number, 'like' AS action, count(*) AS n FROM likes GROUP BY run_id, turn_number
UNION ALL
SELECT run_id, turn_number, 'comment', count(*) FROM comments GROUP BY run_id, turn_number
UNION ALL
SELECT run_id, turn_number, 'follow', count(*) FROM follows GROUP BY run_id, turn_number
"""
SQLITE_TURN_METRICS = """
SELECT t.run_id, t.turn_number, j.key, j.value FROM turn_metrics AS t, json_each(t.metrics) AS j
"""
SQLITE_EXPOSURES_PER_TURN = """
SELECT g.run_id, g.turn_number, count(*) FROM generated_feeds AS g, json_each(g.post_ids)
GROUP BY g.run_id, g.turn_number
"""
DUCKDB_EXPOSURES_PER_TURN = """
SELECT run_id, turn_number, count(*) FROM exposures GROUP BY run_id, turn_number
"""


def generate(path: Path, agents: int, posts: int, turns: int, feed: str) -> float:
    """Build the database at ``path``; return the seconds it took."""
    start = time.perf_counter()
    migrate(path)
    engine = make_engine(path)
    create_synthetic(engine, SyntheticConfig(agents=agents, posts=posts, seed=1))
    simulation.run(RunConfig(seed=1, turns=turns, feed={"name": feed, "size": 20}), engine)
    engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - start


def best(function, repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def sqlite_query(path: Path, sql: str):
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return connection.execute(sql).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=5_000)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--feed", default="personalized")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--arrow", action="store_true", help="also time the Arrow fallback copy")
    parser.add_argument(
        "--snapshot",
        action="store_true",
        help="query the columnar DuckDB snapshot, not the SQLite file",
    )
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory() if args.db is None else None
    path = args.db if args.db is not None else Path(folder.name) / "bench.db"
    generated = None
    if not path.exists():
        generated = generate(path, args.agents, args.posts, args.turns, args.feed)
        print(f"generated {path} in {generated:.0f} s")
    rows = run(path, args.repeat, args.arrow, generated, args.snapshot)
    print_table(f"bench_analytics: {path.name}, best of {args.repeat}", rows)
    if folder is not None:
        folder.cleanup()


def run(
    path: Path, repeat: int, arrow: bool, generated: float | None, snapshot: bool = False
) -> list[tuple]:
    results: dict[str, float] = {}
    if snapshot:
        with timer(results, "snapshot"):
            analytics.connect(path, snapshot=True).close()  # builds the columnar copy
    with timer(results, "connect"):
        con = analytics.connect(path, snapshot=snapshot)
    method = analytics.access_method(con)
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e9
    agent_turns, n_runs = con.execute(
        "SELECT sum(r.total_agents * m.turns), count(*) FROM sim.runs AS r "
        "JOIN (SELECT run_id, count(*) AS turns FROM sim.turn_metadata GROUP BY run_id) AS m "
        "USING (run_id)"
    ).fetchone()
    n_actions = con.execute("SELECT count(*) FROM actions").fetchone()[0]
    n_exposures = con.execute(
        "SELECT sum(json_array_length(post_ids)) FROM sim.generated_feeds"
    ).fetchone()[0]

    raw = analytics.connect(path, snapshot=snapshot)
    raw.execute("USE sim")  # so the unqualified SQL of the sqlite3 side runs unchanged
    timings = {
        "turn_metrics(con) [all runs, long]": (
            lambda: analytics.turn_metrics(con),
            lambda: sqlite_query(path, SQLITE_TURN_METRICS),
        ),
        "action counts per turn, same SQL text": (
            lambda: raw.execute(ACTION_COUNTS_SQL).fetchall(),
            lambda: sqlite_query(path, ACTION_COUNTS_SQL),
        ),
        "action_counts(con) [zero-filled, with arms]": (
            lambda: analytics.action_counts(con),
            lambda: sqlite_query(path, ACTION_COUNTS_SQL),
        ),
        "feed items per turn (unnest post_ids)": (
            lambda: con.execute(DUCKDB_EXPOSURES_PER_TURN).fetchall(),
            lambda: sqlite_query(path, SQLITE_EXPOSURES_PER_TURN),
        ),
    }
    table = [
        (
            "database",
            f"{size:.1f} GB, {n_runs} run(s), {agent_turns:,} agent-turns",
            ">= 1,000,000",
        ),
        ("rows", f"{n_actions:,} actions, {n_exposures:,} feed items", ""),
        ("sqlite access path", method, "wheel"),
        ("connect (attach + views)", f"{results['connect']:.2f} s", ""),
    ]
    if generated is not None:
        table.insert(0, ("generate population + run", f"{generated:.0f} s", ""))
    if snapshot:
        table.append(
            (
                "snapshot: build the columnar copy (once per change)",
                f"{results['snapshot']:.1f} s",
                "",
            )
        )
    for name, (duck, lite) in timings.items():
        duck_s, duck_rows = best(duck, repeat)
        lite_s, lite_rows = best(lite, repeat)
        n = len(duck_rows)
        table.append((f"{name}: DuckDB", f"{duck_s:.3f} s ({n:,} rows)", ""))
        table.append((f"{name}: sqlite3", f"{lite_s:.3f} s ({len(lite_rows):,} rows)", ""))
        table.append((f"{name}: speed-up", f"{lite_s / duck_s:.1f}x", ">= 5x"))
    run_id = con.execute("SELECT run_id FROM sim.runs ORDER BY created_at LIMIT 1").fetchone()[0]
    agent = con.execute(
        "SELECT agent_handle FROM sim.generated_feeds WHERE run_id = ? AND turn_number = 0 LIMIT 1",
        [run_id],
    ).fetchone()[0]
    for name, call in (
        (
            "agent_feed(con, run_id=, turn=0, agent_handle=)",
            lambda: analytics.agent_feed(con, run_id=run_id, turn=0, agent_handle=agent),
        ),
        ("agent_activity(con, run_id=)", lambda: analytics.agent_activity(con, run_id=run_id)),
        ("leaning_distribution(con)", lambda: analytics.leaning_distribution(con)),
    ):
        seconds, _ = best(call, 1)
        table.append((name, f"{seconds:.2f} s", "interactive"))
    con.close()
    raw.close()
    if arrow:
        start = time.perf_counter()
        copy = analytics.connect(path, method="arrow")
        table.append(("arrow fallback: connect (copy)", f"{time.perf_counter() - start:.0f} s", ""))
        lite_s, _ = best(lambda: sqlite_query(path, ACTION_COUNTS_SQL), repeat)
        duck_s, _ = best(lambda: analytics.action_counts(copy), repeat)
        table.append(("action_counts(con) on the Arrow copy", f"{duck_s:.3f} s", ""))
        table.append(("  speed-up over sqlite3", f"{lite_s / duck_s:.1f}x", ">= 5x"))
        copy.close()
    table.append(("peak RSS", f"{peak_rss_mb():,.0f} MB", ""))
    return table


if __name__ == "__main__":
    main()
