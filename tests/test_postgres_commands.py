"""The command line on a private PostgreSQL cluster: init, import, run, resume, compare, evaluate, report.

One study (a population, a 2-arm compare written by two worker processes at
once, its evaluations) is built on PostgreSQL and, with the same arguments,
in a SQLite file; the tests compare rows and analytics between the two.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from simlab import analytics
from simlab import engine as simulation
from simlab.db import migrate
from simlab.engine import load_run
from simlab.errors import InputError
from simlab.schema import SEED_TABLES

from .conftest import REPO, run_simlab
from .test_engine import CONTENT
from .test_oasis import oasis_db

AGENTS, POSTS = 30, 150
ARMS = ("chronological", "personalized")
COMPARE = ["compare", "--feeds", ",".join(ARMS), "--turns", "3", "--replicates", "2"]
BLUESKY = Path(__file__).parent / "data" / "bluesky"
CLOCK_COLUMNS = {"created_at", "completed_at", "started_at", "failed_at", "updated_at"}
DATA_TIMES = {("feed_posts", "created_at")}  # when a post was written: data, not the wall clock


def _ok(*args: str) -> str:
    result = run_simlab(*args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _plain_url(url: str) -> str:
    """The URL as a user types it (``postgresql://``: simlab picks psycopg 3 itself)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def _rows(db: str, sql: str, **params) -> list[tuple]:
    engine = create_engine(db)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def _run_content(db: str, run_id: str) -> dict[str, list[tuple]]:
    """A run's behaviour rows (test_engine's CONTENT columns), in a fixed order."""
    content = {}
    for table, columns in CONTENT.items():
        order = ", ".join(str(i + 1) for i in range(columns.count(",") + 1))
        sql = f"SELECT {columns} FROM {table} WHERE run_id = :r ORDER BY {order}"
        content[table] = _rows(db, sql, r=run_id)
    return content


def _comparison_id(stdout: str) -> str:
    return stdout.strip().splitlines()[-1].split("comparison id:")[-1].strip()


@dataclass(frozen=True)
class Study:
    """The same study on both databases."""

    pg: str  # a postgresql+psycopg:// URL
    lite: str  # a sqlite:/// URL
    pg_comparison: str
    lite_comparison: str

    def arms(self, db: str, comparison: str) -> dict[str, str]:
        """run_id -> 'arm/replicate' for the comparison's runs."""
        found = _rows(
            db,
            "SELECT run_id, arm, replicate FROM comparison_runs WHERE comparison_id = :c",
            c=comparison,
        )
        return {run_id: f"{arm}/{replicate}" for run_id, arm, replicate in found}


@pytest.fixture(scope="module")
def study(pg_cluster, tmp_path_factory) -> Study:
    """init + compare (PostgreSQL: --jobs 2) + evaluate, on PostgreSQL and on SQLite."""
    name = f"simlab_commands_{os.getpid()}"
    pg = pg_cluster.create_database(name)
    lite = f"sqlite:///{tmp_path_factory.mktemp('lite') / 'study.db'}"
    comparisons = []
    for db, jobs in ((_plain_url(pg), "2"), (lite, "1")):
        _ok("init", "--agents", str(AGENTS), "--posts", str(POSTS), "--seed", "2", "--db", db)
        comparison = _comparison_id(_ok(*COMPARE, "--jobs", jobs, "--db", db))
        _ok("evaluate", "--comparison", comparison, "--db", db)
        comparisons.append(comparison)
    yield Study(pg, lite, *comparisons)
    pg_cluster.drop_database(name)


def test_compare_with_two_jobs_on_postgres_writes_the_sqlite_rows(study):
    pg_arms = study.arms(study.pg, study.pg_comparison)
    lite_arms = study.arms(study.lite, study.lite_comparison)
    assert (
        sorted(pg_arms.values())
        == sorted(lite_arms.values())
        == [f"{arm}/{replicate}" for arm in ARMS for replicate in (0, 1)]
    )
    statuses = _rows(study.pg, "SELECT DISTINCT status FROM runs")
    assert statuses == [("completed",)]
    writers = _rows(study.pg, "SELECT count(DISTINCT pid) FROM run_lifecycle")[0][0]
    assert writers == 2, "--jobs 2: two worker processes wrote the runs"
    lite_by_label = {label: run_id for run_id, label in lite_arms.items()}
    for run_id, label in pg_arms.items():
        pg_rows = _run_content(study.pg, run_id)
        assert sum(map(len, pg_rows.values())) > 0
        assert pg_rows == _run_content(study.lite, lite_by_label[label]), label


def test_compare_with_four_jobs_writes_one_postgres_database_from_four_processes(pg_url):
    """``--jobs 4``: four worker processes write one database; the rows are ``--jobs 1``'s."""
    db = _plain_url(pg_url)
    _ok("init", "--agents", str(AGENTS), "--posts", str(POSTS), "--seed", "2", "--db", db)
    four = _comparison_id(_ok(*COMPARE, "--jobs", "4", "--db", db))
    one = _comparison_id(_ok(*COMPARE, "--jobs", "1", "--db", db))

    def runs(comparison: str) -> dict[str, tuple[str, int]]:
        """arm/replicate -> (run id, writer pid); every run completed."""
        found = _rows(
            pg_url,
            "SELECT c.arm || '/' || c.replicate, r.run_id, r.status, l.pid FROM comparison_runs c "
            "JOIN runs r USING (run_id) JOIN run_lifecycle l USING (run_id) "
            "WHERE c.comparison_id = :c",
            c=comparison,
        )
        assert {status for _, _, status, _ in found} == {"completed"}, found
        return {label: (run_id, pid) for label, run_id, _, pid in found}

    parallel, serial = runs(four), runs(one)
    assert len(parallel) == 4 and len({pid for _, pid in parallel.values()}) == 4
    assert len({pid for _, pid in serial.values()}) == 1
    assert set(parallel) == set(serial)
    for label, (run_id, _) in parallel.items():
        rows = _run_content(pg_url, run_id)
        assert rows["generated_feeds"] and rows["likes"]
        assert rows == _run_content(pg_url, serial[label][0]), label


def _normalised(frame: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Run and comparison ids as arm/replicate labels; wall-clock columns dropped."""
    frame = frame.drop(columns=[c for c in frame.columns if c in CLOCK_COLUMNS])
    frame = frame.drop(columns=[c for c in ("comparison_id", "config_json") if c in frame])
    if "run_id" in frame:
        frame = frame.assign(run_id=frame["run_id"].map(labels))
        frame = frame.sort_values(list(frame.columns[:3])).reset_index(drop=True)
    return frame


def test_analytics_equal_between_sqlite_and_postgres(study):
    pg_con, lite_con = analytics.connect(_plain_url(study.pg)), analytics.connect(study.lite)
    assert analytics.access_method(pg_con) == "postgres"
    assert analytics.access_method(pg_con.cursor()) == "postgres"
    sides = {
        "pg": (pg_con, study.pg_comparison, study.arms(study.pg, study.pg_comparison)),
        "lite": (lite_con, study.lite_comparison, study.arms(study.lite, study.lite_comparison)),
    }
    calls = {
        "runs": lambda con, cid, ids: analytics.runs(con, comparison_id=cid),
        "summary": lambda con, cid, ids: analytics.summary(con, comparison_id=cid),
        "turn_metrics": lambda con, cid, ids: analytics.turn_metrics(con, run_ids=ids),
        "metric_bands": lambda con, cid, ids: analytics.metric_bands(
            con, comparison_id=cid, key="turn.engagement.rate"
        ),
        "run_scalars": lambda con, cid, ids: analytics.run_scalars(con, run_ids=ids),
        "action_counts": lambda con, cid, ids: analytics.action_counts(con, run_ids=ids),
        "leaning_distribution": lambda con, cid, ids: analytics.leaning_distribution(
            con, run_ids=ids
        ),
        "exposure_diversity": lambda con, cid, ids: analytics.exposure_diversity(con, run_ids=ids),
        "evaluation_metrics": lambda con, cid, ids: analytics.evaluation_metrics(
            con, comparison_id=cid
        ),
    }
    try:
        for name, call in calls.items():
            frames = {
                side: _normalised(call(con, cid, sorted(labels)), labels)
                for side, (con, cid, labels) in sides.items()
            }
            assert len(frames["pg"]) > 0, name
            pd.testing.assert_frame_equal(frames["pg"], frames["lite"], obj=name)
        assert analytics.headline(analytics.summary(pg_con, comparison_id=study.pg_comparison))
    finally:
        pg_con.close()
        lite_con.close()


def test_report_on_postgres_writes_the_sqlite_summary(study, tmp_path):
    out = tmp_path / "report"
    _ok("report", "--db", _plain_url(study.pg), "--out", str(out))
    assert (out / "report.html").stat().st_size > 0
    assert (out / "interactive.html").stat().st_size > 0
    with analytics.connect(study.lite) as con:
        expected = analytics.summary(con, comparison_id=study.lite_comparison)
    written = pd.read_csv(out / "summary.csv")
    assert len(written) == len(expected) > 0
    pd.testing.assert_frame_equal(written, pd.read_csv(_as_csv(expected, tmp_path)))


def _as_csv(frame: pd.DataFrame, folder: Path) -> Path:
    path = folder / "expected.csv"
    frame.to_csv(path, index=False)
    return path


def _table_rows(db: str, table: str) -> list[tuple]:
    engine = create_engine(db)
    try:
        columns = [
            c["name"]
            for c in inspect(engine).get_columns(table)
            if c["name"] not in CLOCK_COLUMNS or (table, c["name"]) in DATA_TIMES
        ]
        with engine.connect() as connection:
            rows = connection.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))
            return sorted((tuple(row) for row in rows), key=repr)
    finally:
        engine.dispose()


@pytest.mark.parametrize("source", ["bluesky", "oasis"])
def test_import_on_postgres_writes_the_sqlite_rows(pg_url, tmp_path, source):
    if source == "bluesky":
        args = [
            "bluesky",
            str(BLUESKY / "profile_new_handle.json"),
            str(BLUESKY / "author_feed.json"),
        ]
    else:
        args = ["oasis", str(oasis_db(tmp_path / "oasis.db")), "--step-hours", "0.5"]
    lite = f"sqlite:///{tmp_path / 'imported.db'}"
    for db in (_plain_url(pg_url), lite):
        assert "population 1" in _ok("import", *args, "--db", db)
    engine = create_engine(pg_url)
    tables = sorted(set(inspect(engine).get_table_names()) - {"alembic_version"})
    engine.dispose()
    filled = [t for t in tables if _table_rows(pg_url, t)]
    assert {"agent", "feed_posts"} <= set(filled) and set(filled) & set(SEED_TABLES)
    for table in tables:
        assert _table_rows(pg_url, table) == _table_rows(lite, table), table


def _turns_written(db: str) -> int:
    return _rows(db, "SELECT count(*) FROM turn_metadata")[0][0]


def test_run_killed_with_sigkill_on_postgres_resumes_exactly(pg_url):
    db = _plain_url(pg_url)
    _ok("init", "--agents", str(AGENTS), "--posts", str(POSTS), "--seed", "4", "--db", db)
    args = ["run", "--feed", "popularity", "--turns", "150", "--seed", "4", "--db", db]
    process = subprocess.Popen(
        [sys.executable, "-m", "simlab", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline, done = time.monotonic() + 120, 0
    while time.monotonic() < deadline and process.poll() is None and done < 3:
        done = _turns_written(pg_url)
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    done = _turns_written(pg_url)
    assert 3 <= done < 150, "the run was not killed mid-way"
    ((run_id, status),) = _rows(pg_url, "SELECT run_id, status FROM runs")
    assert status == "running"
    assert "stale" in _ok("runs", "--db", db)
    config, _, last_turn = load_run(create_engine(pg_url), run_id)
    assert last_turn + 1 == done  # whole turns only: the killed turn's COPY rolled back
    beyond = "SELECT count(*) FROM generated_feeds WHERE turn_number > :t"
    assert _rows(pg_url, beyond, t=last_turn) == [(0,)]

    _ok("resume", run_id, "--db", db)
    assert _rows(pg_url, "SELECT status FROM runs WHERE run_id = :r", r=run_id) == [("completed",)]
    clean = simulation.run(config, pg_url)
    assert _turns_written(pg_url) == 300
    assert _run_content(pg_url, run_id) == _run_content(pg_url, clean)


def test_analytics_loads_the_scanner_from_the_wheel_and_reads_live(pg_url):
    migrate(pg_url)
    secret = "hunter2-not-shown"  # trust authentication accepts any password
    con = analytics.connect(pg_url.replace("postgres@", f"postgres:{secret}@"))
    try:
        loaded = con.execute(
            "SELECT loaded, install_mode FROM duckdb_extensions() "
            "WHERE extension_name = 'postgres_scanner'"
        ).fetchone()
        assert loaded == (True, "NOT_INSTALLED")  # LOADed from the wheel's file, never INSTALLed
        shown = con.sql("SELECT * FROM duckdb_databases()").fetchall()
        shown += con.sql("SELECT * FROM duckdb_secrets()").fetchall()
        assert secret not in repr(shown)
        assert con.sql("SELECT count(*) FROM runs_overview").fetchone() == (0,)
        engine = create_engine(pg_url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO runs (run_id, created_at, total_turns, total_agents, started_at,"
                    " status, feed_algorithm) VALUES ('r1', 'now', 1, 1, 'now', 'running', 'x')"
                )
            )
        engine.dispose()
        assert con.sql("SELECT run_id FROM runs_overview").fetchall() == [("r1",)]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"port": 1}, "Connection refused"),
        ({"database": "no_such_db"}, 'database "no_such_db" does not exist'),
    ],
)
def test_analytics_on_an_unreachable_postgres_is_one_line_without_the_password(
    pg_cluster, change, message
):
    url = make_url(pg_cluster.url()).set(password="hunter2", **change)
    with pytest.raises(InputError, match=message) as raised:
        analytics.connect(url.render_as_string(hide_password=False))
    assert "hunter2" not in str(raised.value) and len(str(raised.value).splitlines()) == 1
    with pytest.raises(InputError, match="cannot read PostgreSQL"):
        analytics.connect(pg_cluster.url(), method="wheel")
