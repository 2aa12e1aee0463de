"""The LLM client against a scripted chat-completions server on 127.0.0.1."""

from __future__ import annotations

import logging
import os

import httpx2 as httpx
import openai
import pytest

from simlab.llm.client import LLMClient
from simlab.llm.decision import Decision
from tests.llm_helpers import call_rows, insert_run, make_client, run_decisions
from tests.scripted_llm import (
    Reply,
    ScriptedLLM,
    good,
    malformed,
    out_of_range,
    rate_limited,
    sequence,
    server_error,
    slow,
)


@pytest.fixture
def run_engine(engine):
    insert_run(engine)
    return engine


def test_good_answer_is_parsed_and_recorded_with_server_usage(run_engine):
    script = lambda body, i: Reply(good(body, i).content, usage=(321, 45, 7))  # noqa: E731
    with ScriptedLLM(script) as server:
        client = make_client(run_engine, server.base_url, concurrency=2)
        [result] = run_decisions(client, [("ann", 0)], run_engine)
    assert result.status == "ok"
    assert isinstance(result.value, Decision)
    assert result.value.actions[0].item_id == "p1"
    assert (result.prompt_tokens, result.completion_tokens, result.cached_tokens) == (321, 45, 7)
    body = server.requests[0]
    assert body["seed"] == 3 and body["max_tokens"] == 256 and body["temperature"] == 0.7
    assert body["response_format"]["type"] == "json_schema"
    [row] = call_rows(run_engine)
    assert row["status"] == "ok" and row["attempt"] == 0 and row["cache_hit"] == 0
    assert (row["prompt_tokens"], row["completion_tokens"], row["cached_tokens"]) == (321, 45, 7)
    assert row["agent_handle"] == "ann" and row["policy"] == "llm" and row["run_id"] == "run-1"
    assert row["base_url"] == server.base_url


def test_429_then_success_is_retried(run_engine):
    with ScriptedLLM(sequence(rate_limited("0"), rate_limited("0"), good)) as server:
        [result] = run_decisions(make_client(run_engine, server.base_url), [("ann", 0)], run_engine)
    assert result.status == "ok"
    assert len(server.requests) == 3
    assert call_rows(run_engine)[0]["transport_retries"] == 2


def test_persistent_500_becomes_a_failed_decision_not_a_crash(run_engine):
    with ScriptedLLM(server_error) as server:
        client = make_client(run_engine, server.base_url, max_retries=2)
        [result] = run_decisions(client, [("ann", 0)], run_engine)
    assert result.status == "failed" and result.value is None
    assert "InternalServerError" in result.error
    assert len(server.requests) == 3
    [row] = call_rows(run_engine)
    assert row["status"] == "failed" and row["transport_retries"] == 2


def test_broken_http_body_is_a_failed_decision(run_engine):
    with ScriptedLLM(lambda body, i: Reply(raw_body=b"<html>not json")) as server:
        [result] = run_decisions(make_client(run_engine, server.base_url), [("ann", 0)], run_engine)
    assert result.status == "failed"
    assert call_rows(run_engine)[0]["status"] == "failed"


def test_timeout_is_retried_then_failed(run_engine):
    with ScriptedLLM(slow(1.5)) as server:
        client = make_client(run_engine, server.base_url, timeout_s=0.2, max_retries=1)
        [result] = run_decisions(client, [("ann", 0)], run_engine)
    assert result.status == "failed" and "Timeout" in result.error
    assert len(server.requests) == 2


def test_malformed_json_gets_one_retry_with_the_validation_error(run_engine):
    with ScriptedLLM(sequence(malformed, good)) as server:
        [result] = run_decisions(make_client(run_engine, server.base_url), [("ann", 0)], run_engine)
    assert result.status == "retried" and isinstance(result.value, Decision)
    retry_messages = server.requests[1]["messages"]
    assert retry_messages[-2] == {"role": "assistant", "content": '{"actions": ['}
    assert "invalid" in retry_messages[-1]["content"] and "JSON" in retry_messages[-1]["content"]
    assert [r["status"] for r in call_rows(run_engine)] == ["invalid", "retried"]
    assert [r["attempt"] for r in call_rows(run_engine)] == [0, 1]
    assert result.prompt_tokens == 200


def test_out_of_range_twice_is_recorded_as_failed(run_engine):
    with ScriptedLLM(out_of_range) as server:
        [result] = run_decisions(make_client(run_engine, server.base_url), [("ann", 0)], run_engine)
    assert result.status == "failed" and result.value is None
    assert "confidence" in result.error and "leaning" in result.error
    assert len(server.requests) == 2
    assert [r["status"] for r in call_rows(run_engine)] == ["invalid", "failed"]


def test_unknown_item_id_is_invalid(run_engine):
    bad = '{"actions": [{"item_id": "p999", "like": true}]}'
    with ScriptedLLM(sequence(lambda b, i: Reply(bad), good)) as server:
        [result] = run_decisions(make_client(run_engine, server.base_url), [("ann", 0)], run_engine)
    assert result.status == "retried"
    assert "p999" in call_rows(run_engine)[0]["error"]


def test_concurrency_limit_is_respected_server_side(run_engine):
    slots = [(f"agent{i}", 0) for i in range(12)]
    with ScriptedLLM(slow(0.3)) as server:
        results = run_decisions(make_client(run_engine, server.base_url, concurrency=3), slots)
    assert all(r.status == "ok" for r in results)
    assert len(server.requests) == 12
    assert server.max_in_flight == 3


def _rate_limit_error(headers: dict[str, str]) -> openai.RateLimitError:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(429, headers=headers, request=request)
    return openai.RateLimitError("slow down", response=response, body=None)


def test_backoff_honours_retry_after_and_caps_it(run_engine):
    client: LLMClient = make_client(
        run_engine, "http://127.0.0.1:9/v1", backoff_s=0.5, max_backoff_s=4
    )
    assert client._backoff(0, _rate_limit_error({"retry-after": "3"})) == 3.0
    assert client._backoff(0, _rate_limit_error({"retry-after-ms": "250"})) == 0.25
    assert client._backoff(0, _rate_limit_error({"retry-after": "30"})) == 4.0
    assert [client._backoff(n, _rate_limit_error({})) for n in range(4)] == [0.5, 1.0, 2.0, 4.0]


def test_api_key_reaches_the_server_but_never_the_db_or_logs(run_engine, db_path, caplog, capfd):
    secret = "sk-simlab-SECRET-7f3a9c"
    os.environ["SIMLAB_TEST_LLM_KEY"] = secret
    caplog.set_level(logging.DEBUG)
    try:
        with ScriptedLLM(sequence(rate_limited("0"), malformed, good, server_error)) as server:
            client = make_client(
                run_engine, server.base_url, api_key_env="SIMLAB_TEST_LLM_KEY", max_retries=1
            )
            results = run_decisions(client, [("ann", 0), ("bob", 0)], run_engine)
            assert client.settings.model_dump_json().find(secret) == -1
    finally:
        del os.environ["SIMLAB_TEST_LLM_KEY"]
    assert {r.status for r in results} <= {"ok", "retried", "failed"}
    assert all(h.get("authorization") == f"Bearer {secret}" for h in server.headers)
    run_engine.dispose()
    stored = b"".join(
        p.read_bytes() for p in db_path.parent.iterdir() if p.name.startswith("simlab.db")
    )
    assert len(call_rows(run_engine)) >= 2
    assert secret.encode() not in stored
    captured = capfd.readouterr()
    assert secret not in caplog.text and secret not in captured.out + captured.err
    assert "chat/completions" in caplog.text  # the SDK's debug logging did run


def test_missing_key_variable_is_a_one_line_input_error(run_engine):
    from simlab.errors import InputError

    with pytest.raises(InputError, match="SIMLAB_NO_SUCH_KEY"):
        make_client(run_engine, "http://127.0.0.1:9/v1", api_key_env="SIMLAB_NO_SUCH_KEY")
