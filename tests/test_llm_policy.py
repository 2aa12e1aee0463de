"""The llm policy in real runs: a scripted chat server on 127.0.0.1, real SQLite, real processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace

import pytest

from simlab import engine as simulation
from simlab.config import build
from simlab.db import make_engine
from simlab.errors import InputError
from simlab.llm.cache import CacheMissError
from simlab.policies.base import RunStopped
from tests.conftest import REPO, copy_database, run_simlab, synthetic_database
from tests.scripted_llm import (
    ScriptedLLM,
    good,
    malformed,
    posting,
    rate_limited,
    sequence,
    slow,
)

AGENTS, POSTS = 24, 160
# compact action rows are read through the views that rebuild them (docs/storage.md)
CONTENT = {
    "likes_explained": "turn_number, agent_handle, post_id, explanation, model_used, "
    "generation_metadata_json",
    "comments_explained": "turn_number, agent_handle, post_id, text, explanation, model_used, "
    "generation_metadata_json",
    "follows_explained": "turn_number, agent_handle, user_id, explanation, model_used, "
    "generation_metadata_json",
    "agent_leanings": "turn_number, agent_handle, leaning",
    "agent_stances": "turn_number, agent_handle, topic, stance, confidence, leaning, rationale, status",
    "turn_metrics": "turn_number, metrics",
    "generated_feeds": "turn_number, agent_handle, post_ids",
    "agent_posts": "turn_number, agent_handle, post_id, text, topic, leaning, explanation, "
    "model_used, generation_metadata_json",
}


@pytest.fixture(scope="module")
def population_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("llmpop") / "pop.db"
    synthetic_database(path, agents=AGENTS, posts=POSTS, seed=7)
    return path


@pytest.fixture
def db(population_db, tmp_path):
    return copy_database(population_db, tmp_path / "run.db")


def llm_config(base_url: str, turns: int = 3, share: float = 1.0, **llm) -> dict:
    return {
        "seed": 11,
        "turns": turns,
        "feed": {"name": "chronological", "size": 6},
        "policy": {"name": "llm", "params": {"share": share, "feed_items": 4}},
        "llm": {"base_url": base_url, "model": "scripted", "backoff_s": 0.0, **llm},
    }


def rows(db, sql: str, *params) -> list[tuple]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def content(db, run_id: str) -> dict[str, list]:
    return {
        table: sorted(rows(db, f"SELECT {columns} FROM {table} WHERE run_id = ?", run_id), key=repr)
        for table, columns in CONTENT.items()
    }


def run(db, config: dict) -> str:
    engine = make_engine(db)
    try:
        return simulation.run(build(config), engine)
    finally:
        engine.dispose()


def test_mixed_population_records_actions_models_stances_and_calls(db):
    with ScriptedLLM(good) as server:
        run_id = run(db, llm_config(server.base_url, share=0.5))
    decisions = len(server.requests)
    assert decisions > 0
    models = dict(rows(db, "SELECT model_used, count(*) FROM likes GROUP BY 1"))
    assert set(models) == {"llm/1.0:scripted", "rule_based/1.0"}
    llm_agents = {r[0] for r in rows(db, "SELECT agent_handle FROM llm_calls")}
    rule_agents = {
        r[0] for r in rows(db, "SELECT agent_handle FROM likes WHERE model_used LIKE 'rule%'")
    }
    assert llm_agents and not llm_agents & rule_agents
    [(meta, text)] = rows(
        db,
        "SELECT generation_metadata_json, text FROM comments WHERE model_used LIKE 'llm%' LIMIT 1",
    )
    meta = json.loads(meta)
    assert text == "Agreed." and meta["model_fingerprint"] == "served:scripted"
    assert meta["decision_status"] == "ok" and meta["item_id"] == "p1" and meta["rank"] == 1
    calls = rows(
        db, "SELECT status, cache_hit, turn_number FROM llm_calls WHERE run_id = ?", run_id
    )
    assert len(calls) == decisions and {c[:2] for c in calls} == {("ok", 0)}
    stances = rows(db, "SELECT turn_number, agent_handle, leaning, status FROM agent_stances")
    assert len(stances) == decisions
    for turn, handle, leaning, _ in stances:  # the agent's leaning follows its stance
        [(recorded,)] = rows(
            db,
            "SELECT leaning FROM agent_leanings WHERE turn_number = ? AND agent_handle = ?",
            turn,
            handle,
        )
        assert recorded == pytest.approx(leaning)
    statuses = {}
    for _, handle, _, status in sorted(stances):
        statuses.setdefault(handle, []).append(status)
    assert all(s[-1] == "current" and set(s[:-1]) <= {"superseded"} for s in statuses.values())
    # later prompts remember the agent's own actions and stance
    memories = [r for r in server.requests if "said on climate" in r["messages"][1]["content"]]
    assert memories and "liked " in memories[0]["messages"][1]["content"]
    [(stored,)] = rows(db, "SELECT config_json FROM run_configs WHERE run_id = ?", run_id)
    assert json.loads(stored)["llm"]["base_url"] == server.base_url


def test_share_zero_gives_exactly_the_rule_based_rows(db, population_db, tmp_path):
    with ScriptedLLM(good) as server:
        llm_run = run(db, llm_config(server.base_url, share=0.0))
    assert server.requests == []
    other = copy_database(population_db, tmp_path / "rule.db")
    values = {k: v for k, v in llm_config("http://x").items() if k not in ("policy", "llm")}
    rule_run = run(other, values)
    assert content(db, llm_run) == content(other, rule_run)


def test_transport_retries_and_reasks_are_recorded(db):
    script = sequence(rate_limited("0"), malformed, good)
    with ScriptedLLM(script) as server:
        run(db, llm_config(server.base_url, turns=1, concurrency=1))
    calls = rows(db, "SELECT agent_handle, attempt, status, transport_retries FROM llm_calls")
    decisions = {c[0] for c in calls}
    assert len(server.requests) == len(decisions) + 2  # one 429 and one re-ask
    assert sum(c[3] for c in calls) == 1
    [invalid] = [c for c in calls if c[2] == "invalid"]
    [retried] = [c for c in calls if c[2] == "retried"]
    assert invalid[:2] == (retried[0], 0) and retried[1] == 1
    assert sorted(c[2] for c in calls).count("ok") == len(decisions) - 1


def test_failed_decisions_are_counted_and_the_run_completes(db):
    with ScriptedLLM(malformed) as server:
        run_id = run(db, llm_config(server.base_url, turns=2))
    assert rows(db, "SELECT status FROM runs") == [("completed",)]
    failed = rows(db, "SELECT count(*) FROM llm_calls WHERE status = 'failed'")[0][0]
    invalid = rows(db, "SELECT count(*) FROM llm_calls WHERE status = 'invalid'")[0][0]
    assert failed == invalid == len(server.requests) // 2 > 0
    assert rows(db, "SELECT count(*) FROM likes WHERE model_used LIKE 'llm%'") == [(0,)]
    from simlab.llm.usage import usage_summary

    summary = usage_summary(make_engine(db), by="run", run_id=run_id)
    assert summary["success_rate"].iloc[0] == 0.0


def test_concurrency_limit_is_respected_server_side(db):
    with ScriptedLLM(slow(0.15)) as server:
        run(db, llm_config(server.base_url, turns=2, concurrency=2))
    assert server.max_in_flight == 2


def test_replay_makes_no_request_and_reproduces_every_row(db):
    with ScriptedLLM(posting) as server:
        recorded = run(db, llm_config(server.base_url, share=0.6))
    with ScriptedLLM(posting) as server:
        replayed = run(db, llm_config(server.base_url, share=0.6, cache="replay"))
    assert server.requests == []
    assert content(db, replayed) == content(db, recorded)
    models = {
        r[0] for r in rows(db, "SELECT model_used FROM agent_posts WHERE run_id = ?", replayed)
    }
    assert "llm/1.0:scripted" in models  # the model's posts are among the rows replayed
    hits = rows(db, "SELECT DISTINCT cache_hit FROM llm_calls WHERE run_id = ?", replayed)
    assert hits == [(1,)]


def test_replay_of_an_unrecorded_run_fails_fast_and_marks_it_failed(db):
    with ScriptedLLM(good) as server, pytest.raises(CacheMissError):
        run(db, llm_config(server.base_url, cache="replay"))
    assert server.requests == []
    assert rows(db, "SELECT status FROM runs") == [("failed",)]


def test_block_budget_stops_before_the_request_that_would_exceed_it(db, population_db, tmp_path):
    big = lambda body, i: replace(good(body, i), usage=(3000, 600, 0))  # noqa: E731
    free = copy_database(population_db, tmp_path / "free.db")
    with ScriptedLLM(big) as server:
        unlimited = run(free, llm_config(server.base_url, turns=4, cache="off"))
    per_turn = dict(
        rows(
            free,
            "SELECT turn_number, sum(prompt_tokens + completion_tokens) FROM llm_calls "
            "WHERE run_id = ? GROUP BY 1",
            unlimited,
        )
    )
    assert len(per_turn) == 4
    limit = per_turn[0] + per_turn[1] + 1  # room for turns 0 and 1, not one request more
    budget = {"tokens": limit, "action": "block"}
    with ScriptedLLM(big) as server, pytest.raises(RunStopped):
        run(db, llm_config(server.base_url, turns=4, budget=budget))
    sent_in_free = rows(
        free, "SELECT count(*) FROM llm_calls WHERE turn_number <= 1 AND run_id = ?", unlimited
    )[0][0]
    assert len(server.requests) == sent_in_free  # nothing sent in turn 2
    assert rows(db, "SELECT turn_number FROM turn_metadata ORDER BY 1") == [(0,), (1,)]
    assert rows(db, "SELECT status FROM runs") == [("failed",)]
    [(turn, error)] = rows(db, "SELECT turn_number, error FROM run_failures")
    assert turn == 2 and "tokens budget" in error
    blocked = rows(db, "SELECT DISTINCT turn_number, status FROM llm_calls WHERE turn_number = 2")
    assert blocked == [(2, "budget_blocked")]
    used = rows(db, "SELECT sum(prompt_tokens + completion_tokens) FROM llm_calls")[0][0]
    assert used == limit - 1
    assert rows(db, "SELECT kind FROM budget_events WHERE kind = 'blocked'") == [("blocked",)]
    assert rows(db, "SELECT count(*) FROM agent_stances WHERE turn_number = 2") == [(0,)]
    [(run_id,)] = rows(db, "SELECT run_id FROM runs")
    with ScriptedLLM(big) as server, pytest.raises(RunStopped):  # the budget remembers its spending
        simulation.resume(run_id, make_engine(db))
    assert rows(db, "SELECT turn_number FROM turn_metadata ORDER BY 1") == [(0,), (1,)]


def test_unknown_llm_agent_is_refused_before_anything_is_written(db):
    config = llm_config("http://127.0.0.1:9/v1")
    config["policy"]["params"]["agents"] = ["nobody.test"]
    with pytest.raises(InputError, match="nobody.test"):
        run(db, config)
    assert rows(db, "SELECT count(*) FROM runs") == [(0,)]


def test_api_key_reaches_the_server_but_never_the_database_or_the_output(db):
    secret = "sk-simlab-test-2f9c4e1d8b7a"
    with ScriptedLLM(good) as server:
        result = run_simlab(
            "run", "--policy", "llm", "--turns", "2", "--seed", "3", "--db", str(db),
            "--llm-base-url", server.base_url, "--llm-model", "scripted",
            "--llm-api-key-env", "SIMLAB_TEST_LLM_KEY",
            env={"SIMLAB_TEST_LLM_KEY": secret},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert server.headers and all(
        {k.lower(): v for k, v in h.items()}["authorization"] == f"Bearer {secret}"
        for h in server.headers
    )
    assert secret not in result.stdout + result.stderr
    for suffix in ("", "-wal", "-shm"):
        path = f"{db}{suffix}"
        if os.path.exists(path):
            assert secret.encode() not in open(path, "rb").read()
    [(stored,)] = rows(db, "SELECT config_json FROM run_configs")
    assert json.loads(stored)["llm"]["api_key_env"] == "SIMLAB_TEST_LLM_KEY"
    missing = run_simlab(
        "run", "--policy", "llm", "--db", str(db), "--llm-base-url", server.base_url,
        "--llm-api-key-env", "SIMLAB_TEST_UNSET_KEY",
    )  # fmt: skip
    assert missing.returncode == 2 and "SIMLAB_TEST_UNSET_KEY" in missing.stderr


def _wait_for_turns(db, process, turns: int) -> int:
    deadline, done = time.monotonic() + 120, 0
    while time.monotonic() < deadline and process.poll() is None:
        try:
            done = rows(db, "SELECT count(*) FROM turn_metadata")[0][0]
        except sqlite3.OperationalError:
            done = 0
        if done >= turns:
            break
        time.sleep(0.02)
    return done


def test_kill_9_of_an_llm_run_resumes_to_the_uninterrupted_rows(db, population_db, tmp_path):
    reference = copy_database(population_db, tmp_path / "ref.db")
    args = ["--policy", "llm", "--llm-share", "0.7", "--turns", "12", "--seed", "5",
            "--llm-model", "scripted"]  # fmt: skip
    with ScriptedLLM(slow(0.03, then=posting)) as server:
        uninterrupted = run_simlab("run", *args, "--db", str(reference),
                                   "--llm-base-url", server.base_url)  # fmt: skip
        assert uninterrupted.returncode == 0, uninterrupted.stderr
        process = subprocess.Popen(
            [sys.executable, "-m", "simlab", "run", *args, "--db", str(db),
             "--llm-base-url", server.base_url],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        done = _wait_for_turns(db, process, 3)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert 3 <= done < 12, "the run was not killed mid-way"
        [(run_id,)] = rows(db, "SELECT run_id FROM runs")
        resumed = run_simlab("resume", run_id, "--db", str(db))
        assert resumed.returncode == 0, resumed.stderr
    [(reference_id,)] = rows(reference, "SELECT run_id FROM runs")
    assert rows(db, "SELECT status FROM runs") == [("completed",)]
    assert content(db, run_id) == content(reference, reference_id)
    llm_posts = "SELECT count(*) FROM agent_posts WHERE model_used LIKE 'llm/%'"
    assert rows(db, llm_posts)[0][0] > 0  # the model's posts survive the kill and the resume
