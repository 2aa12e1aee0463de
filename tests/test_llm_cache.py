"""Exact replay: record then replay makes zero requests and reproduces every result and row."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from simlab.llm.cache import CacheMissError, ResponseCache, Slot, cache_key, canonical_json
from simlab.schema import llm_cache
from tests.llm_helpers import call_rows, insert_run, make_client, run_decisions
from tests.scripted_llm import Reply, ScriptedLLM, decision_json

SLOTS = [(agent, turn) for turn in (0, 1) for agent in ("ann", "bob", "cat", "dan")]
# What legitimately differs between a run and its replay (the replay server has another port).
VARYING = ("call_id", "run_id", "base_url", "started_at", "completed_at", "cache_hit")


def by_agent(body: dict, index: int) -> Reply:
    """bob's first attempt is malformed, cat's server fails, usage depends on the agent."""
    system = body["messages"][0]["content"]
    first_attempt = len(body["messages"]) == 2
    if "@cat" in system:
        return Reply(status=500)
    if "@bob" in system and first_attempt:
        return Reply("not json", usage=(90, 3, 0))
    return Reply(decision_json(body, confidence=0.1 * body["seed"] % 1), usage=(len(system), 17, 5))


def _record_then_replay(engine):
    insert_run(engine, "run-1")
    insert_run(engine, "run-2")
    with ScriptedLLM(by_agent) as server:
        recorded = run_decisions(
            make_client(engine, server.base_url, "run-1", "record", max_retries=1), SLOTS, engine
        )
    recorded_requests = len(server.requests)
    with ScriptedLLM(by_agent) as replay_server:
        replayed = run_decisions(
            make_client(engine, replay_server.base_url, "run-2", "replay", max_retries=1),
            SLOTS,
            engine,
        )
    return recorded, replayed, recorded_requests, replay_server


def test_replay_makes_zero_requests_and_reproduces_results_and_rows(engine):
    recorded, replayed, recorded_requests, replay_server = _record_then_replay(engine)
    # 8 decisions, bob re-asked in 2 turns, cat retried once in 2 turns
    assert recorded_requests == 8 + 2 + 2
    assert replay_server.requests == []
    assert [r.status for r in recorded] == ["ok", "retried", "failed", "ok"] * 2
    assert [
        (r.value, r.status, r.error, r.prompt_tokens, r.completion_tokens) for r in replayed
    ] == [(r.value, r.status, r.error, r.prompt_tokens, r.completion_tokens) for r in recorded]
    assert not any(r.cache_hit for r in recorded) and all(r.cache_hit for r in replayed)
    rows = call_rows(engine)
    first = [
        {k: v for k, v in r.items() if k not in VARYING} for r in rows if r["run_id"] == "run-1"
    ]
    second = [
        {k: v for k, v in r.items() if k not in VARYING} for r in rows if r["run_id"] == "run-2"
    ]
    assert sorted(first, key=str) == sorted(second, key=str)
    assert {r["cache_hit"] for r in rows if r["run_id"] == "run-2"} == {1}


def test_replay_miss_fails_fast_naming_agent_and_turn(engine):
    insert_run(engine)
    with ScriptedLLM(by_agent) as server:
        client = make_client(engine, server.base_url, cache_mode="replay")
        with pytest.raises(CacheMissError, match=r"agent ann turn 1 .*--llm-cache record"):
            run_decisions(client, [("ann", 1)])
    assert server.requests == []


def test_record_mode_serves_existing_entries_so_a_resumed_turn_is_not_re_asked(engine):
    insert_run(engine)
    with ScriptedLLM(by_agent) as server:
        run_decisions(make_client(engine, server.base_url), [("ann", 0)], engine)
        run_decisions(make_client(engine, server.base_url), [("ann", 0), ("dan", 0)], engine)
    assert len(server.requests) == 2
    calls = sorted((r["agent_handle"], r["cache_hit"]) for r in call_rows(engine))
    assert calls == [("ann", 0), ("ann", 1), ("dan", 0)]


def test_off_mode_neither_reads_nor_writes(engine):
    insert_run(engine)
    with ScriptedLLM(by_agent) as server:
        for _ in range(2):
            run_decisions(make_client(engine, server.base_url, cache_mode="off"), [("ann", 0)])
    assert len(server.requests) == 2
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(llm_cache)).scalar() == 0


BODY = {
    "model": "m",
    "messages": [{"role": "user", "content": "hi"}],
    "temperature": 0.7,
    "top_p": 1.0,
    "max_tokens": 64,
    "seed": 1,
    "response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "object"}}},
}


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.8},
        {"top_p": 0.9},
        {"max_tokens": 65},
        {"seed": 2},
        {"model": "m2"},
        {"messages": [{"role": "user", "content": "hi!"}]},
        {"response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "array"}}}},
    ],
)
def test_every_request_parameter_changes_the_key(change):
    changed = canonical_json({**BODY, **change})
    assert cache_key(changed, "fp", Slot("a", 0)) != cache_key(
        canonical_json(BODY), "fp", Slot("a", 0)
    )


def test_fingerprint_and_slot_change_the_key_but_key_order_does_not():
    body = canonical_json(BODY)
    base = cache_key(body, "fp", Slot("a", 0, 0, 0))
    assert cache_key(canonical_json(dict(reversed(BODY.items()))), "fp", Slot("a", 0, 0, 0)) == base
    others = [
        cache_key(body, "fp2", Slot("a", 0, 0, 0)),
        cache_key(body, "fp", Slot("b", 0, 0, 0)),
        cache_key(body, "fp", Slot("a", 1, 0, 0)),
        cache_key(body, "fp", Slot("a", 0, 1, 0)),
        cache_key(body, "fp", Slot("a", 0, 0, 1)),
    ]
    assert len({base, *others}) == 6


def test_bad_mode_is_an_input_error(engine):
    from simlab.errors import InputError

    with pytest.raises(InputError, match="record, replay or off"):
        ResponseCache(engine, "sometimes")
