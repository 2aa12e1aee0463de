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


def test_the_llm_demo_is_the_small_mixed_comparison_the_readme_promises():
    from simlab.demo import DEMO_LLM_COMPARISON, DEMO_LLM_POPULATION

    assert DEMO_LLM_POPULATION.agents == 12 and DEMO_LLM_COMPARISON.feeds == [
        "chronological",
        "personalized",
    ]
    run = DEMO_LLM_COMPARISON.run
    assert run["turns"] == 3 and run["policy"]["params"]["share"] == 0.5
    assert "base_url" not in run["llm"]  # the embedded model, offline


def test_the_llm_demo_writes_a_report_with_the_usage_section(tmp_path):
    """The --llm demo's comparison against the scripted server (the embedded model is slow)."""
    from simlab.demo import DEMO_LLM_COMPARISON, DEMO_LLM_POPULATION
    from tests.scripted_llm import ScriptedLLM, posting

    run = DEMO_LLM_COMPARISON.run
    with ScriptedLLM(posting) as server:
        llm = {**run["llm"], "base_url": server.base_url, "model": "scripted"}
        comparison = DEMO_LLM_COMPARISON.model_copy(update={"run": {**run, "llm": llm}})
        result = run_demo(
            db=tmp_path / "demo-llm.db", out=tmp_path / "report", jobs=1, say=lambda line: None,
            population=DEMO_LLM_POPULATION, comparison=comparison,
        )  # fmt: skip
    assert server.requests
    page = result.report.read_text(encoding="utf-8")
    assert "LLM usage" in page and "tokens saved by the cache" in page
    with sqlite3.connect(result.db) as connection:
        models = dict(connection.execute("SELECT model_used, count(*) FROM agent_posts GROUP BY 1"))
    assert models.get("llm/1.0:scripted", 0) > 0
