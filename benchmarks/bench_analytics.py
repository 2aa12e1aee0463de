"""Analytics queries on the default path (per-run columnar copies) against sqlite3 on the same file.

Usage: uv run python benchmarks/bench_analytics.py [--db PATH] [--agents 10000] [--posts 5000]
       [--turns 100] [--runs 1] [--repeat 3]

With ``--db PATH`` an existing database is reused (generation takes minutes on
two cores); a missing PATH is generated there and kept. Without ``--db`` the
database lives in a temporary folder. The default, 10,000 agents x 100 turns,
is 1,000,000 agent-turns in one run. ``--runs N`` writes N runs instead, the
feeds in turn with seeds 1, 2, ... (a sweep's shape: ``--runs 64 --agents 160``
is 1,024,000 agent-turns in 64 runs); per-run tables such as turn_metrics grow
with runs x turns, not with agents, so only this shape makes them large.

Each question is asked twice: through ``simlab.analytics.connect(db)`` (the
default path) and as SQLite SQL through ``sqlite3``, with an index on
``generated_feeds (run_id, turn_number)`` added for it (the seed schema's
likes/comments/follows/turn_metrics indexes already lead with run_id).
Every question is timed twice more: returning a pandas DataFrame on both
sides (``.df()``; ``pandas.read_sql``), which is how the notebooks and
:mod:`simlab.analytics` use results, and returning Python tuples
(``fetchall``). On small results the tuples grid mostly times the
conversion of rows to Python objects, which costs DuckDB more per row than
sqlite3. A database of several runs is packed after generation (one file
per table, :mod:`simlab.columnar_pack`), as a comparison or sweep is.
The feed-items question counts the ``feed_items`` view (a finished run's copy
keeps its feeds' items exploded) against ``json_array_length`` in SQLite.
"Result floor" is DuckDB handing back the same result rows from an
in-memory table (:func:`result_floor`); "bound", sqlite3's warm time over it,
is the most any DuckDB path could gain on that question in that form.
*Cold* is the first execution on a new connection (connect not included; the
OS page cache is warm for both), *warm* the best of ``--repeat`` on one
connection. "Cold start" is what a new run's completion costs before a
notebook can query it: writing the run's copy (done by the completing
process) and the first connect after it (which checks every run's row counts).
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd
from common import peak_rss_mb, print_grid, print_table

from simlab import analytics, columnar, columnar_pack
from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import make_engine, migrate
from simlab.population import SyntheticConfig, create_synthetic

ACTION_COUNTS_SQL = """
SELECT run_id, turn_number, 'like' AS action, count(*) AS n FROM likes GROUP BY run_id, turn_number
UNION ALL
SELECT run_id, turn_number, 'comment', count(*) FROM comments GROUP BY run_id, turn_number
UNION ALL
SELECT run_id, turn_number, 'follow', count(*) FROM follows GROUP BY run_id, turn_number
"""
TOP_POSTS_SQL = """
SELECT post_id, count(*) AS n FROM likes GROUP BY post_id ORDER BY n DESC, post_id LIMIT 20
"""
COMMENTS_BY_FEED_SQL = """
SELECT r.feed_algorithm, count(*) AS n, avg(length(c.text)) AS chars
FROM comments AS c JOIN runs AS r ON r.run_id = c.run_id GROUP BY r.feed_algorithm
"""
LEANING_PER_TURN_SQL = """
SELECT run_id, turn_number, count(*) AS n, avg(leaning) AS mean, avg(leaning * leaning) AS square
FROM agent_leanings GROUP BY run_id, turn_number
"""
SQLITE_TURN_METRICS = """
SELECT t.run_id, t.turn_number, j.key, j.value FROM turn_metrics AS t, json_each(t.metrics) AS j
"""
FEED_ITEMS_SQL = """
SELECT run_id, turn_number, sum(json_array_length(post_ids)) AS items FROM generated_feeds
GROUP BY run_id, turn_number
"""
SQLITE_EXPOSURES = """
SELECT g.run_id, g.turn_number, count(*), sum(s.value)
FROM generated_feeds AS g
JOIN feed_scores AS f ON f.run_id = g.run_id AND f.turn_number = g.turn_number
    AND f.agent_handle = g.agent_handle,
json_each(g.post_ids) AS p, json_each(f.scores) AS s
WHERE s.key = p.key GROUP BY g.run_id, g.turn_number
"""
DUCKDB_EXPOSURES = """
SELECT run_id, turn_number, count(*), sum(score) FROM exposures GROUP BY run_id, turn_number
"""
DUCKDB_TURN_METRICS = "SELECT run_id, turn_number, key, value FROM turn_metrics_long"
SQLITE_INDEXES = (
    "CREATE INDEX IF NOT EXISTS bench_generated_feeds_run_turn "
    "ON generated_feeds (run_id, turn_number)",
)


DUCKDB_FEED_ITEMS = """
SELECT run_id, turn_number, count(*) AS items FROM feed_items GROUP BY run_id, turn_number
"""
HEADER = (
    "question",
    "rows",
    "default cold",
    "default warm",
    "sqlite3 cold",
    "sqlite3 warm",
    "speed-up cold",
    "speed-up warm",
    "result floor",
    "bound",
)
SEARCH_PATH = (
    "SET search_path = 'sim.main,memory.main'"  # tables unqualified, as sqlite3 names them
)


# (question, default path: SQL or a simlab function of the connection, sqlite3 SQL)
QUESTIONS = (
    ("turn metrics, long (view vs json_each)", DUCKDB_TURN_METRICS, SQLITE_TURN_METRICS),
    ("action counts per run and turn (same SQL)", ACTION_COUNTS_SQL, ACTION_COUNTS_SQL),
    ("action_counts(con), zero-filled, with arms", analytics.action_counts, ACTION_COUNTS_SQL),
    ("feed items per turn (feed_items view vs JSON)", DUCKDB_FEED_ITEMS, FEED_ITEMS_SQL),
    ("exposures: feeds x scores unnested per turn", DUCKDB_EXPOSURES, SQLITE_EXPOSURES),
    ("top 20 liked posts (same SQL)", TOP_POSTS_SQL, TOP_POSTS_SQL),
    ("comments joined to runs (same SQL)", COMMENTS_BY_FEED_SQL, COMMENTS_BY_FEED_SQL),
    ("leaning mean per turn (same SQL)", LEANING_PER_TURN_SQL, LEANING_PER_TURN_SQL),
)
RESULTS = {
    # result form -> (default path: (con, SQL) -> result, sqlite3: (connection, SQL) -> result)
    "DataFrame": (lambda con, sql: con.execute(sql).df(), lambda lite, sql: pd.read_sql(sql, lite)),
    "tuple": (
        lambda con, sql: con.execute(sql).fetchall(),
        lambda lite, sql: lite.execute(sql).fetchall(),
    ),
}


def generate(path: Path, agents: int, posts: int, turns: int, feeds: list[str], runs: int) -> float:
    """Build the database at ``path`` (each run's completion writes its copy); return seconds.

    Run i (from 0) uses ``feeds[i % len(feeds)]`` and seed ``i // len(feeds) + 1``.
    """
    start = time.perf_counter()
    migrate(path)
    engine = make_engine(path)
    create_synthetic(engine, SyntheticConfig(agents=agents, posts=posts, seed=1))
    run_ids = []
    for i in range(runs):
        feed = {"name": feeds[i % len(feeds)], "size": 20}
        config = RunConfig(seed=i // len(feeds) + 1, turns=turns, feed=feed)
        run_ids.append(simulation.run(config, engine))
    columnar_pack.pack_runs(path, run_ids)  # as a comparison or a sweep does when it ends
    engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - start


def timed(function) -> tuple[float, object]:
    """Wall time of one call, and its result."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def cpu_timed(function) -> tuple[float, float]:
    """Wall and CPU time (this process, all threads) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - start, time.process_time() - cpu


def best(function, repeat: int) -> float:
    """Best wall time of ``repeat`` calls."""
    return min(timed(function)[0] for _ in range(repeat))


def result_floor(result, fetch, repeat: int) -> float:
    """Best seconds DuckDB takes to hand back ``result``'s rows from an in-memory table.

    The same rows in the same form (``fetch``: ``.df()`` or ``fetchall``) with
    no query work at all, so no query returning them can be faster: sqlite3's
    warm time over this floor bounds the speed-up any DuckDB path can reach.
    """
    frame = result if isinstance(result, pd.DataFrame) else pd.DataFrame(result)
    memory = duckdb.connect()
    memory.register("result_rows", frame)
    memory.execute("CREATE TABLE floor AS SELECT * FROM result_rows")
    seconds = best(lambda: fetch(memory, "SELECT * FROM floor"), repeat)
    memory.close()
    return seconds


def cold_start(path: Path) -> dict[str, float]:
    """Seconds to write every run's copy (as completion does) and to connect the first time.

    Then the runs are packed again (when there are several), timed too.
    """
    runs = sorted(p.name for p in columnar.columnar_dir(path).iterdir() if p.is_dir())
    shutil.rmtree(columnar.columnar_dir(path), ignore_errors=True)
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as source:
        run_ids = [r for (r,) in source.execute("SELECT run_id FROM runs ORDER BY run_id")]
    copy_s, copy_cpu = cpu_timed(lambda: [columnar.write_copy(path, r) for r in run_ids])
    connect_cpu = time.process_time()
    connect_s, con = timed(lambda: analytics.connect(path))
    connect_cpu = time.process_time() - connect_cpu
    query_s, _ = timed(lambda: analytics.action_counts(con))
    con.close()
    warm_s, con = timed(lambda: analytics.connect(path))
    con.close()
    pack_s = timed(lambda: columnar_pack.pack_runs(path, run_ids))[0] if len(run_ids) > 1 else 0.0
    return {
        "pack": pack_s,
        "copy": copy_s,
        "copy cpu": copy_cpu,
        "connect": connect_s,
        "connect cpu": connect_cpu,
        "query": query_s,
        "warm": warm_s,
        "n": len(runs),
    }


def compare(path: Path, repeat: int, form: str) -> list[tuple]:
    """One row per question: default path and sqlite3, cold and warm, and the speed-ups.

    ``form`` is what each side returns (:data:`RESULTS`): a pandas DataFrame,
    as the notebooks and :mod:`simlab.analytics` use results, or the rows as
    Python tuples. A simlab function returns its DataFrame either way.
    """
    with sqlite3.connect(path) as writer:
        for sql in SQLITE_INDEXES:
            writer.execute(sql)
    fetch_duck, fetch_lite = RESULTS[form]
    rows = []
    for question, duck, lite_sql in QUESTIONS:
        ask = duck if callable(duck) else lambda con, sql=duck: fetch_duck(con, sql)
        con = analytics.connect(path)
        con.execute(SEARCH_PATH)
        duck_cold, result = timed(lambda con=con, ask=ask: ask(con))
        duck_warm = best(lambda con=con, ask=ask: ask(con), repeat)
        con.close()
        lite = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        lite_cold, _ = timed(lambda lite=lite, sql=lite_sql: fetch_lite(lite, sql))
        lite_warm = best(lambda lite=lite, sql=lite_sql: fetch_lite(lite, sql), repeat)
        lite.close()
        floor = result_floor(result, fetch_duck, repeat)
        rows.append(
            (
                question,
                f"{len(result):,}",
                f"{duck_cold:.3f}",
                f"{duck_warm:.3f}",
                f"{lite_cold:.3f}",
                f"{lite_warm:.3f}",
                f"{lite_cold / duck_cold:.1f}x",
                f"{lite_warm / duck_warm:.1f}x",
                f"{floor:.4f}",
                f"{lite_warm / floor:.1f}x",
            )
        )
    return rows


def facts(path: Path) -> tuple[int, int, int]:
    """Agent-turns, runs and actions in the database."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as source:
        agent_turns, n_runs = source.execute(
            "SELECT sum(r.total_agents * m.turns), count(*) FROM runs AS r JOIN "
            "(SELECT run_id, count(*) AS turns FROM turn_metadata GROUP BY run_id) AS m "
            "USING (run_id)"
        ).fetchone()
        actions = sum(
            source.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("likes", "comments", "follows")
        )
    return agent_turns, n_runs, actions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=5_000)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--feed", default="personalized", help="comma-separated, used in turn")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory() if args.db is None else None
    path = args.db if args.db is not None else Path(folder.name) / "bench.db"
    table = []
    if not path.exists():
        feeds = args.feed.split(",")
        generated = generate(path, args.agents, args.posts, args.turns, feeds, args.runs)
        table.append(("generate population + runs (+ their copies)", f"{generated:.0f} s", ""))
    analytics.connect(path).close()  # copies of runs made before copies existed
    agent_turns, n_runs, actions = facts(path)
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
    copies = sum(p.stat().st_size for p in columnar.columnar_dir(path).rglob("*") if p.is_file())
    start = cold_start(path)
    per_100k = (start["copy"] + start["connect"]) / (agent_turns / 100_000)
    cpu_per_100k = (start["copy cpu"] + start["connect cpu"]) / (agent_turns / 100_000)
    table += [
        ("database", f"{size / 1e9:.2f} GB, {n_runs} run(s), {agent_turns:,} agent-turns", ""),
        ("actions (likes + comments + follows)", f"{actions:,}", ""),
        ("columnar copies on disk", f"{copies / 1e6:.0f} MB", ""),
        (
            "write the copies (completion does this per run)",
            f"{start['copy']:.1f} s ({start['copy cpu']:.1f} s CPU)",
            "",
        ),
        (
            "first connect after a completion (checks counts)",
            f"{start['connect']:.2f} s ({start['connect cpu']:.2f} s CPU)",
            "",
        ),
        ("first query after it (action_counts)", f"{start['query']:.2f} s", ""),
        (
            "cold start: copy + first connect per 100k agent-turns",
            f"{per_100k:.2f} s ({cpu_per_100k:.2f} s CPU)",
            "<= 2 s",
        ),
        ("connect again (nothing changed)", f"{start['warm']:.2f} s", ""),
        ("pack the runs (as a comparison's end does)", f"{start['pack']:.1f} s", ""),
    ]
    grids = {form: compare(path, args.repeat, form) for form in RESULTS}
    table.append(("peak RSS", f"{peak_rss_mb():,.0f} MB", ""))
    print_table(f"bench_analytics: {path.name}", table)
    for form, grid in grids.items():
        print_grid(
            f"queries returning {form}s: default path vs sqlite3 "
            f"(seconds; warm = best of {args.repeat}; target >= 5x)",
            HEADER,
            grid,
        )
    if folder is not None:
        folder.cleanup()


if __name__ == "__main__":
    main()
