"""The LLM usage section of the report and of ``simlab figures``, from a real comparison."""

from __future__ import annotations

import html as _html
import re

import pytest

from simlab import analytics, paper_figures, report, report_llm, report_sections
from simlab.compare import CompareConfig, compare
from tests.conftest import init_database
from tests.scripted_llm import ScriptedLLM, posting

ARMS = ["chronological", "personalized"]


@pytest.fixture(scope="module")
def llm_study(tmp_path_factory):
    """One population, an LLM comparison (scripted server) and a rule-based one."""
    path = init_database(tmp_path_factory.mktemp("llm_report") / "simlab.db", 16, 120, 3)
    rule = compare(CompareConfig(feeds=ARMS, replicates=1, run={"turns": 2}), str(path), jobs=1)
    with ScriptedLLM(posting) as server:
        run = {
            "turns": 2,
            "policy": {"name": "llm", "params": {"share": 0.5, "feed_items": 3}},
            "llm": {"base_url": server.base_url, "model": "scripted", "backoff_s": 0.0},
        }
        llm = compare(CompareConfig(feeds=ARMS, replicates=1, run=run), str(path), jobs=1)
    assert not rule.failures and not llm.failures
    return path, llm.comparison_id, rule.comparison_id


def _sections(db, comparison_id):
    con = analytics.connect(db)
    try:
        chosen = analytics.initial_selection(con, comparison_id=comparison_id)
        return report_sections.build_sections(con, chosen)[1]
    finally:
        con.close()


def test_the_usage_section_counts_what_llm_calls_hold_and_rule_reports_leave_it_out(llm_study):
    db, llm_id, rule_id = llm_study
    assert "LLM usage" not in [s.title for s in _sections(db, rule_id)]
    [usage] = [s for s in _sections(db, llm_id) if s.title == "LLM usage"]
    [table] = usage.tables
    con = analytics.connect(db)
    try:
        expected = con.execute(
            "SELECT count(*) FILTER (WHERE c.status <> 'invalid'), "
            "sum(c.prompt_tokens + c.completion_tokens) "
            "FROM sim.llm_calls c JOIN sim.comparison_runs r USING (run_id) "
            "WHERE r.comparison_id = ? GROUP BY r.arm ORDER BY r.arm",
            [llm_id],
        ).fetchall()
    finally:
        con.close()
    got = sorted(zip(table["arm"], table["decisions"], table["tokens"], strict=True))
    assert [g[1:] for g in got] == [tuple(e) for e in expected]
    assert set(usage.figures) == {"llm_tokens", "llm_decisions"}
    assert "`scripted`" in usage.text and "% succeeded" in usage.text


def test_the_report_page_and_paper_figures_carry_the_usage_charts_at_size(llm_study, tmp_path):
    db, llm_id, _ = llm_study
    made = report.write_report(db, tmp_path / "report", comparison_id=llm_id)
    page = made.html.read_text(encoding="utf-8")
    assert "LLM usage" in page and "tokens saved by the cache" in page
    assert {"llm_tokens", "llm_decisions"} <= set(made.charts)
    options = paper_figures.check_options("svg", 640, 400, 10, 1)
    written = paper_figures.write_figures(db, tmp_path / "svg", options, comparison_id=llm_id)
    usage = [path for path in written if path.stem.startswith("llm_")]
    assert sorted(path.stem for path in usage) == ["llm_decisions", "llm_tokens"]
    for path in usage:
        svg = path.read_text(encoding="utf-8")
        size = re.search(r'<svg[^>]*?width="([\d.]+)"[^>]*?height="([\d.]+)"', svg)
        assert (float(size.group(1)), float(size.group(2))) == (640, 400), path.name
        texts = [_html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
        assert set(ARMS) <= set(texts), path.name
        assert 'font-size="10px"' in svg, path.name


def test_usage_text_names_models_and_cache_savings():
    import pandas as pd

    by_arm = pd.DataFrame(
        {"decisions": [3, 1], "success_rate": [2 / 3, 1.0], "tokens": [300, 0],
         "cost_usd": [0.5, 0.0], "cache_hits": [0, 4], "avoided_tokens": [0, 1234]}
    )  # fmt: skip
    text = report_llm.usage_text(by_arm, pd.DataFrame({"model": ["a", "b", "a"]}))
    assert "4 decisions with `a`, `b`; 75% succeeded" in text
    assert "300 tokens (cost 0.5000 USD" in text and "saving 1,234 tokens" in text


def test_the_compare_feeds_notebook_shows_the_usage_of_an_llm_comparison(llm_study, monkeypatch):
    from tests.test_notebooks import run_notebook

    db, llm_id, rule_id = llm_study
    found = run_notebook("compare_feeds", monkeypatch, "--comparison", llm_id, db=db)
    assert found["llm_usage"].title == "LLM usage"
    assert list(found["llm_usage"].tables[0]["arm"]) == ARMS
    found = run_notebook("compare_feeds", monkeypatch, "--comparison", rule_id, db=db)
    assert found["llm_usage"] is None
