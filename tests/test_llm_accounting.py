"""Budgets (warn / block), prices, and usage summaries checked against plain-Python sums."""

from __future__ import annotations

import asyncio
import statistics

import pytest
from sqlalchemy import select

from simlab.errors import InputError
from simlab.llm.accounting import BudgetTracker, Ledger, redact_url
from simlab.llm.cache import LLMResponse, Slot
from simlab.llm.settings import Budget, LLMSettings, Price
from simlab.llm.usage import usage_summary
from simlab.schema import budget_events
from tests.conftest import run_simlab
from tests.llm_helpers import call_rows, decide, insert_run, make_client
from tests.scripted_llm import Reply, ScriptedLLM, good


def _events(engine) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(select(budget_events).order_by(budget_events.c.event_id))
        return [dict(row) for row in rows.mappings()]


def _sequential(client, engine, n: int) -> list[str]:
    """Decide for one agent in turns 0..n-1, one after another; write the ledger."""

    async def main() -> list[str]:
        async with client:
            return [(await decide(client, "ann", turn)).status for turn in range(n)]

    statuses = asyncio.run(main())
    with engine.begin() as connection:
        client.ledger.flush(connection)
    return statuses


def _usage(prompt: int, completion: int):
    return lambda body, i: Reply(good(body, i).content, usage=(prompt, completion, 0))


def test_block_refuses_the_request_that_would_exceed_and_everything_after(engine):
    # 1,050 tokens per call; the estimate (prompt chars / 4 + max_tokens) is a few hundred, so
    # calls 1-3 fit under 3,000 (2,100 used + estimate before call 3) and call 4 does not.
    insert_run(engine)
    printed: list[str] = []
    with ScriptedLLM(_usage(1000, 50)) as server:
        client = make_client(
            engine,
            server.base_url,
            cache_mode="off",
            notify=printed.append,
            sampling={"max_tokens": 20},
            budget=Budget(tokens=3000, action="block"),
        )
        statuses = _sequential(client, engine, 5)
    assert statuses == ["ok", "ok", "ok", "budget_blocked", "budget_blocked"]
    assert len(server.requests) == 3
    assert "tokens budget 3000 would be exceeded: 3150 used" in client.ledger.budget.blocked_reason
    rows = call_rows(engine)
    assert [r["status"] for r in rows] == statuses
    assert rows[3]["error"].startswith("budget_blocked: tokens budget 3000")
    events = _events(engine)
    assert [(e["kind"], e["turn_number"]) for e in events] == [
        ("alert", 2),
        ("exceeded", 2),
        ("blocked", 3),
    ]
    assert len(printed) == 3 and all("\n" not in line for line in printed)


def test_warn_records_alert_and_exceeded_once_and_never_blocks(engine, capsys):
    # 525 tokens per call: 80% of 3,000 is passed by call 5 (2,625), the limit by call 6.
    insert_run(engine)
    with ScriptedLLM(_usage(500, 25)) as server:
        client = make_client(
            engine, server.base_url, cache_mode="off", budget=Budget(tokens=3000, action="warn")
        )
        statuses = _sequential(client, engine, 8)
    assert statuses == ["ok"] * 8
    assert [(e["kind"], e["turn_number"], e["used"]) for e in _events(engine)] == [
        ("alert", 4, 2625.0),
        ("exceeded", 5, 3150.0),
    ]
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [e["message"] for e in _events(engine)]
    assert "budget alert: run run-1 tokens 2625 of 3000 (88%, action warn)" == lines[0]


def test_cost_budget_blocks_on_the_estimated_cost():
    tracker = BudgetTracker(Budget(cost=1.0, action="block"), "run-1", notify=lambda m: None)
    assert tracker.admit(0, 10, 0.6)
    tracker.settle(0, (10, 0.6), (12, 0.7))
    assert not tracker.admit(1, 10, 0.31)  # 0.7 used + 0.31 > 1.0
    assert [e["kind"] for e in tracker.events] == ["blocked"]
    assert not tracker.admit(2, 1, 0.0)  # blocking is final


def test_concurrent_reservations_cannot_overshoot_together():
    tracker = BudgetTracker(Budget(tokens=100, action="block"), "run-1", notify=lambda m: None)
    assert tracker.admit(0, 40, 0.0) and tracker.admit(0, 40, 0.0)
    assert not tracker.admit(0, 40, 0.0)  # 80 reserved, nothing settled yet


def test_price_per_million_tokens_with_cached_prompt_tokens():
    price = Price(prompt_per_1m=2.0, completion_per_1m=8.0, cached_prompt_per_1m=0.5)
    assert price.cost(1000, 50, 200) == pytest.approx((800 * 2.0 + 200 * 0.5 + 50 * 8.0) / 1e6)
    assert Price(prompt_per_1m=3.0).cost(1000, 0, 1000) == pytest.approx(0.003)


def test_base_url_is_stored_without_credentials():
    url = "https://user:sk-123@api.example.org:8443/v1?api_key=sk-456#frag"
    assert redact_url(url) == "https://api.example.org:8443/v1"


# Rows for the summaries: (run, model, agent, day, status, cache_hit, latency, prompt, completion)
ROWS = [
    ("run-1", "m-a", "ann", "2026-11-30", "ok", 0, 120.0, 100, 10),
    ("run-1", "m-a", "ann", "2026-11-30", "invalid", 0, 300.0, 90, 30),
    ("run-1", "m-a", "ann", "2026-12-01", "retried", 0, 200.0, 130, 12),
    ("run-1", "m-a", "bob", "2026-12-01", "failed", 0, 50.0, 80, 0),
    ("run-1", "m-a", "bob", "2026-12-01", "budget_blocked", 0, 0.0, 0, 0),
    ("run-2", "m-b", "ann", "2026-12-01", "ok", 1, 120.0, 100, 10),
    ("run-2", "m-b", "bob", "2026-12-01", "ok", 0, 400.0, 60, 40),
    ("run-2", "m-b", "bob", "2026-12-01", "ok", 0, 10.0, 70, 5),
]
PRICES = {"m-a": Price(prompt_per_1m=1.0, completion_per_1m=4.0), "m-b": Price(prompt_per_1m=10.0)}


def _write_rows(engine) -> None:
    insert_run(engine, "run-1")
    insert_run(engine, "run-2")
    for run, model, agent, day, status, hit, latency, prompt, completion in ROWS:
        ledger = Ledger(LLMSettings(model=model, prices=PRICES), run, "llm", "http://x/v1")
        response = LLMResponse("{}", None, prompt, completion, 0, latency, 0)
        ledger.record(Slot(agent, 0), response, status, bool(hit), None, f"{day}T10:00:00+00:00")
        with engine.begin() as connection:
            ledger.flush(connection)


def _expected(rows) -> dict:
    """The summary of ``rows`` computed directly from the list."""
    final = [r for r in rows if r[4] != "invalid"]
    answered = [r[6] for r in rows if r[4] != "budget_blocked"]
    spent = [r for r in rows if not r[5]]
    hits = [r for r in rows if r[5]]

    def cost(r):
        return PRICES[r[1]].cost(r[7], r[8])

    return {
        "calls": len(rows),
        "decisions": len(final),
        "success_rate": sum(r[4] in ("ok", "retried") for r in final) / len(final),
        "mean_latency_ms": statistics.fmean(answered),
        "p95_latency_ms": (
            statistics.quantiles(answered, n=20, method="inclusive")[18]
            if len(answered) > 1
            else answered[0]
        ),
        "tokens": sum(r[7] + r[8] for r in spent),
        "cost_usd": sum(cost(r) for r in spent),
        "cache_hits": len(hits),
        "avoided_tokens": sum(r[7] + r[8] for r in hits),
        "avoided_cost_usd": sum(cost(r) for r in hits),
    }


@pytest.mark.parametrize("by, column", [("agent", 2), ("model", 1), ("day", 3), ("run", 0)])
def test_usage_summary_matches_a_direct_computation(engine, by, column):
    _write_rows(engine)
    summary = usage_summary(engine, by=by).set_index(by)
    groups = sorted({r[column] for r in ROWS})
    assert list(summary.index) == groups
    for group in groups:
        expected = _expected([r for r in ROWS if r[column] == group])
        got = summary.loc[group]
        for name, value in expected.items():
            assert got[name] == pytest.approx(value), (group, name)


def test_usage_summary_filters_one_run_and_rejects_bad_groupings(engine):
    _write_rows(engine)
    one = usage_summary(engine, by="agent", run_id="run-2").set_index("agent")
    assert one.loc["bob", "calls"] == 2 and one.loc["ann", "cache_hits"] == 1
    assert usage_summary(engine, by="agent", run_id="nope").empty
    with pytest.raises(InputError, match="agent, model, day, run"):
        usage_summary(engine, by="week")


def test_usage_command_prints_the_summary(db_path, engine):
    _write_rows(engine)
    result = run_simlab("usage", "--db", str(db_path), "--by", "model")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["model", "calls", "success"]
    assert lines[1].split()[:3] == ["m-a", "5", "50%"]
    assert lines[2].split()[:3] == ["m-b", "3", "100%"]
    bad = run_simlab("usage", "--db", str(db_path), "--by", "week")
    assert (
        bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--by must be one of" in bad.stderr
    )


def test_usage_command_on_an_old_database_asks_for_an_upgrade(tmp_path):
    from simlab.db import migrate

    old = tmp_path / "old.db"
    migrate(old, "0003_comparisons")
    result = run_simlab("usage", "--db", str(old))
    assert result.returncode == 2 and "run `simlab db upgrade`" in result.stderr
