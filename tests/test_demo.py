"""`simlab demo` end to end, at a small size: fresh database, comparison, report."""

from __future__ import annotations

import sqlite3

from simlab.compare import CompareConfig
from simlab.demo import DEMO_COMPARISON, run_demo
from simlab.population import SyntheticConfig


def test_demo_builds_database_comparison_and_report(tmp_path):
    db = tmp_path / "demo.db"
    db.write_text("stale")  # the demo always starts from a fresh database
    said = []
    result = run_demo(
        db=db,
        out=tmp_path / "report",
        jobs=1,
        say=said.append,
        population=SyntheticConfig(agents=60, posts=300, seed=0),
        comparison=CompareConfig(
            feeds=["chronological", "personalized"], replicates=2, run={"turns": 3}
        ),
    )
    with sqlite3.connect(db) as connection:
        arms = connection.execute(
            "SELECT arm, count(*) FROM comparison_runs WHERE comparison_id = ? GROUP BY arm ORDER BY arm",
            (result.comparison_id,),
        ).fetchall()
    assert arms == [("chronological", 2), ("personalized", 2)]
    assert list(result.summary["arm"].unique()) == ["chronological", "personalized"]
    assert result.report.is_file() and (result.report.parent / "summary.csv").is_file()
    assert any("60 agents" in line for line in said)


def test_the_demo_compares_the_four_feeds_the_readme_promises():
    assert DEMO_COMPARISON.feeds == ["chronological", "popularity", "personalized", "bridging"]
    assert DEMO_COMPARISON.replicates == 3
