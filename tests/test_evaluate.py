"""``simlab evaluate``: append-only tables, idempotence per version, histories, resume after kill."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect

from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import downgrade, make_engine, migrate
from simlab.evaluators import EVALUATORS, EvaluatorOptions
from simlab.evaluators.history import update_history
from simlab.evaluators.pipeline import build_scorers, evaluate
from simlab.evaluators.targets import TARGETS, parse_targets
from simlab.schema import APPEND_ONLY_TRIGGERS, EVALUATION_TARGETS

from .conftest import REPO, copy_database, run_simlab, synthetic_database
from .scripted_llm import ScriptedLLM, expected_scores, judge


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, str]:
    """A database with one finished 4-turn run of 100 agents (and its comments)."""
    path = tmp_path_factory.mktemp("evaluate") / "simlab.db"
    synthetic_database(path, agents=100, posts=300, seed=5)
    engine = make_engine(path)
    run_id = simulation.run(RunConfig(turns=4, seed=5), engine)
    engine.dispose()
    return path, run_id


@pytest.fixture
def study(source, tmp_path) -> tuple[Path, str]:
    path, run_id = source
    return copy_database(path, tmp_path / "copy.db"), run_id


def _query(path: Path, sql: str, params=()) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        return connection.execute(sql, params).fetchall()


def _comments(path: Path, run_id: str) -> dict[str, str]:
    return dict(_query(path, "SELECT comment_id, text FROM comments WHERE run_id = ?", (run_id,)))


def _normalise(sql: str) -> str:
    return re.sub(r"\s+", " ", sql).strip()


def test_targets_cover_the_table_check_constraint():
    assert tuple(TARGETS) == EVALUATION_TARGETS


def test_append_only_triggers_exist_as_declared_and_abort_update_and_delete(study):
    path, run_id = study
    found = dict(_query(path, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    assert {n: _normalise(s) for n, s in found.items()} == {
        n: _normalise(s) for n, s in APPEND_ONLY_TRIGGERS.items()
    }
    engine = make_engine(path)
    evaluate(
        engine, [run_id], build_scorers(["sentiment"], EvaluatorOptions()), [TARGETS["comments"]]
    )
    engine.dispose()
    with sqlite3.connect(path) as connection:
        for table in ("evaluations", "agent_score_history"):
            assert connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0
            for statement in (f"UPDATE {table} SET created_at = 'x'", f"DELETE FROM {table}"):
                with pytest.raises(sqlite3.IntegrityError, match=f"{table} is append-only"):
                    connection.execute(statement)
        with pytest.raises(sqlite3.IntegrityError):  # the status/scores check holds too
            connection.execute(
                "INSERT INTO evaluations (evaluator, evaluator_version, target_kind, target_id,"
                " status, scores, created_at) VALUES ('x', '1', 'comments', 'c', 'ok', NULL, 'now')"
            )


def test_evaluations_revision_downgrades_and_reupgrades(db_path):
    downgrade(db_path, "0006_llm")
    engine = make_engine(db_path)
    assert {"evaluations", "agent_score_history"}.isdisjoint(inspect(engine).get_table_names())
    assert _query(db_path, "SELECT name FROM sqlite_master WHERE type = 'trigger'") == []
    migrate(engine)
    assert {"evaluations", "agent_score_history"} <= set(inspect(engine).get_table_names())
    assert len(_query(db_path, "SELECT name FROM sqlite_master WHERE type = 'trigger'")) == 4
    engine.dispose()


def test_scores_equal_direct_scoring_and_reevaluation_is_idempotent_per_version(study, monkeypatch):
    path, run_id = study
    comments = _comments(path, run_id)
    engine = make_engine(path)
    scorers = build_scorers(None, EvaluatorOptions())
    assert [e.name for e, _ in scorers] == ["offensive", "sentiment"]
    first = evaluate(engine, [run_id], scorers, [TARGETS["comments"]], batch_size=7)
    assert [(s.scored, s.failed, s.already) for s in first] == [(len(comments), 0, 0)] * 2
    rows = _query(path, "SELECT * FROM evaluations ORDER BY evaluation_id")
    assert len(rows) == 2 * len(comments)

    stored = {
        (e, t): json.loads(s)
        for e, t, s in _query(path, "SELECT evaluator, target_id, scores FROM evaluations")
    }
    for entry, scorer in scorers:
        ids = sorted(comments)
        direct = scorer.score([comments[i] for i in ids])
        assert [stored[(entry.name, i)] for i in ids] == [d.scores for d in direct]

    again = evaluate(engine, [run_id], scorers, [TARGETS["comments"]])
    assert [(s.scored, s.already, s.history_rows) for s in again] == [(0, len(comments), 0)] * 2
    assert _query(path, "SELECT * FROM evaluations ORDER BY evaluation_id") == rows

    monkeypatch.setattr("simlab.evaluators.sentiment.VERSION", "2")
    newer = build_scorers(["sentiment"], EvaluatorOptions())
    assert newer[0][1].version.startswith("2/")
    appended = evaluate(engine, [run_id], newer, [TARGETS["comments"]])
    assert (appended[0].scored, appended[0].already) == (len(comments), 0)
    assert appended[0].history_rows > 0
    assert _query(path, "SELECT * FROM evaluations ORDER BY evaluation_id")[: len(rows)] == rows
    versions = _query(
        path,
        "SELECT evaluator_version, count(*) FROM evaluations WHERE evaluator = 'sentiment'"
        " GROUP BY 1 ORDER BY 1",
    )
    assert [n for _, n in versions] == [len(comments), len(comments)]
    engine.dispose()


def _independent_history(path: Path, evaluator: str) -> pd.DataFrame:
    """The history values recomputed with pandas from the raw evaluation rows."""
    raw = pd.read_sql_query(
        "SELECT run_id, turn_number, agent_handle, scores FROM evaluations "
        "WHERE evaluator = ? AND status = 'ok' AND turn_number IS NOT NULL",
        sqlite3.connect(path),
        params=(evaluator,),
    )
    entry = EVALUATORS.get(evaluator)
    wide = pd.concat(
        [raw.drop(columns="scores"), pd.json_normalize(raw["scores"].map(json.loads))], axis=1
    )
    out = []
    for (run, turn, agent), group in wide.groupby(["run_id", "turn_number", "agent_handle"]):
        means = {d.name: group[d.name].mean() for d in entry.dimensions}
        shares = {d.name: (means[d.name] - d.low) / (d.high - d.low) for d in entry.dimensions}
        top = max(shares, key=lambda d: (shares[d], -entry.dimension_names.index(d)))
        flags = {f"has_high_{d.name}": bool(means[d.name] >= d.threshold) for d in entry.dimensions}
        out.append(
            (
                run,
                turn,
                agent,
                len(group),
                means,
                sum(shares.values()) / len(shares),
                top,
                means[top],
                flags,
            )
        )
    return pd.DataFrame(
        out,
        columns=["run", "turn", "agent", "items", "means", "overall", "top", "top_score", "flags"],
    )


def test_score_history_equals_pandas_and_appends_only_what_changed(study):
    path, run_id = study
    engine = make_engine(path)
    evaluate(
        engine, [run_id], build_scorers(["sentiment"], EvaluatorOptions()), [TARGETS["comments"]]
    )
    stored = _query(
        path,
        "SELECT run_id, turn_number, agent_handle, items, dimension_means, overall_mean,"
        " top_dimension, top_score, high_flags FROM agent_score_history ORDER BY history_id",
    )
    expected = _independent_history(path, "sentiment")
    assert len(stored) == len(expected) > 0
    by_key = {(r[0], r[1], r[2]): r for r in stored}
    for row in expected.itertuples():
        got = by_key[(row.run, row.turn, row.agent)]
        assert got[3] == row.items
        assert json.loads(got[4]) == pytest.approx(row.means)
        assert got[5] == pytest.approx(row.overall)
        assert (got[6], got[7]) == (row.top, pytest.approx(row.top_score))
        assert json.loads(got[8]) == row.flags

    entry = EVALUATORS.get("sentiment")
    version = _query(path, "SELECT DISTINCT evaluator_version FROM evaluations")[0][0]
    assert update_history(engine, entry, version, [run_id]) == 0
    run, turn, agent = stored[0][:3]
    with sqlite3.connect(path) as connection:  # one more scored text for the first agent-turn
        connection.execute(
            "INSERT INTO evaluations (evaluator, evaluator_version, target_kind, target_id, run_id,"
            " turn_number, agent_handle, status, scores, created_at) VALUES ('sentiment', ?,"
            " 'agent_posts', 'extra', ?, ?, ?, 'ok', ?, 'now')",
            (
                version,
                run,
                turn,
                agent,
                json.dumps({"compound": 1.0, "pos": 1.0, "neu": 0.0, "neg": 0.0}),
            ),
        )
    assert update_history(engine, entry, version, [run_id]) == 1
    newest = _query(
        path,
        "SELECT items, high_flags FROM agent_score_history WHERE run_id = ? AND turn_number = ?"
        " AND agent_handle = ? ORDER BY history_id DESC LIMIT 1",
        (run, turn, agent),
    )[0]
    assert newest[0] == stored[0][3] + 1
    engine.dispose()


def test_feed_posts_are_scored_once_without_run_or_turn(study):
    path, run_id = study
    engine = make_engine(path)
    summary = evaluate(
        engine, [run_id], build_scorers(["offensive"], EvaluatorOptions()), [TARGETS["feed_posts"]]
    )
    posts = _query(path, "SELECT count(*) FROM feed_posts")[0][0]
    assert summary[0].scored == posts
    assert _query(
        path,
        "SELECT count(*) FROM evaluations WHERE run_id IS NULL AND turn_number IS NULL"
        " AND agent_handle IS NOT NULL",
    ) == [(posts,)]
    assert summary[0].history_rows == 0  # texts without a turn have no agent-turn history
    engine.dispose()


def _count(path: Path) -> int:
    return _query(path, "SELECT count(*) FROM evaluations")[0][0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "RUN_ID: no run 'nope'"),
        ([], "give RUN_ID... or --comparison ID"),
        (["RUN", "--comparison", "c"], "give RUN_ID... or --comparison ID"),
        (["--comparison", "c"], "--comparison: no comparison 'c'"),
        (
            ["RUN", "--evaluator", "nope"],
            "unknown evaluator 'nope'; allowed: llm_judge, offensive, sentiment",
        ),
        (
            ["RUN", "--targets", "likes"],
            "--targets: unknown target 'likes'; allowed: comments, agent_posts, feed_posts",
        ),
        (
            ["RUN", "--evaluator", "llm_judge", "--targets", "feed_posts"],
            "--targets: llm_judge cannot score feed_posts",
        ),
        (["RUN", "--evaluator", "llm_judge", "--llm-base-url", "x"], "must start with http://"),
        (["RUN", "--evaluator", "llm_judge", "--llm-cache", "later"], "llm_cache"),
        (["RUN", "--evaluator", "llm_judge", "--budget-action", "stop"], "budget_action"),
        (
            ["RUN", "--evaluator", "llm_judge", "--llm-api-key-env", "SIMLAB_TEST_UNSET_KEY"],
            "environment variable SIMLAB_TEST_UNSET_KEY (the LLM API key) is not set",
        ),
        (["RUN", "--batch-size", "0"], "--batch-size: must be at least 1"),
        (
            ["RUN", "--evaluator", "llm_judge", "--concurrency", "0"],
            "concurrency",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(study, args, message):
    path, run_id = study
    args = [run_id if a == "RUN" else a for a in args]
    result = run_simlab("evaluate", *args, "--db", str(path))
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert _count(path) == 0


def test_unreachable_endpoint_stops_with_exit_1_and_writes_nothing(study):
    path, run_id = study
    with ScriptedLLM(judge) as server:
        url = server.base_url
    result = run_simlab(
        "evaluate", run_id, "--evaluator", "llm_judge", "--llm-base-url", url, "--db", str(path)
    )
    assert result.returncode == 1 and "re-run to resume" in result.stderr
    assert _count(path) == 0
    failed = _query(path, "SELECT status, transport_retries, policy FROM llm_calls")
    assert failed and all(row == ("failed", 3, "llm_judge") for row in failed)
    assert _query(path, "SELECT count(*) FROM llm_cache") == [(0,)]  # outages are not cached


def test_judge_failures_are_recorded_and_not_retried_on_rerun(study):
    path, run_id = study
    with sqlite3.connect(path) as connection:
        turn, agent, post = connection.execute(
            "SELECT turn_number, agent_handle, post_id FROM comments WHERE run_id = ? LIMIT 1",
            (run_id,),
        ).fetchone()
        connection.execute(
            "INSERT INTO comments (comment_id, run_id, turn_number, agent_handle, post_id, text,"
            " created_at) VALUES ('zz-range', ?, ?, ?, ?, '[range] you must obey me', 'now')",
            (run_id, turn, agent, post + "-other"),
        )
    comments = _comments(path, run_id)
    with ScriptedLLM(judge) as server:
        args = ["evaluate", run_id, "--evaluator", "llm_judge", "--llm-base-url", server.base_url,
                "--llm-model", "scripted", "--targets", "comments", "--db", str(path)]  # fmt: skip
        result = run_simlab(*args)
        assert result.returncode == 0, result.stderr
        asked = len(server.requests)
        sent = _query(path, "SELECT count(*) FROM llm_calls WHERE cache_hit = 0")[0][0]
        assert asked == sent  # each request is one llm_calls row
        statuses = dict(_query(path, "SELECT status, count(*) FROM llm_calls GROUP BY 1"))
        assert statuses == {"ok": len(comments) - 1, "invalid": 1, "failed": 1}  # one re-ask
        assert run_simlab(*args).returncode == 0
        assert len(server.requests) == asked  # nothing left to judge
    rows = _query(path, "SELECT target_id, status, scores, notes, model FROM evaluations")
    by_id = {r[0]: r for r in rows}
    assert len(rows) == len(comments)
    assert by_id["zz-range"][1:3] == ("failed", None) and "harm_enablement" in by_id["zz-range"][3]
    ok = [r for r in rows if r[0] != "zz-range"]
    assert all(r[1] == "ok" and r[4] == "scripted" for r in ok)
    assert all(json.loads(r[2]) == expected_scores(comments[r[0]]) for r in ok)


def _start(path: Path, run_id: str, url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simlab", "evaluate", run_id, "--evaluator", "llm_judge",
         "--llm-base-url", url, "--llm-model", "scripted", "--concurrency", "2",
         "--batch-size", "4", "--targets", "comments", "--db", str(path)],
        cwd=REPO, env={**os.environ, "COLUMNS": "200"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _wait_for(condition, what: str, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_interrupted_evaluation_resumes_without_duplicates(study, sig):
    path, run_id = study
    comments = _comments(path, run_id)
    assert len(comments) > 12
    with ScriptedLLM(judge, gate_after=10) as server:  # 2 batches of 4 pass, the 3rd hangs
        process = _start(path, run_id, server.base_url)
        _wait_for(lambda: server.held >= 1 and _count(path) == 8, "two committed batches")
        process.send_signal(sig)
        if sig == signal.SIGINT:
            server.release()  # let the held requests finish so the process can exit
        process.wait(timeout=120)
        assert process.returncode != 0
    before = _query(path, "SELECT * FROM evaluations ORDER BY evaluation_id")
    assert len(before) == 8  # the batch in flight was not committed
    calls_before = _query(path, "SELECT count(*) FROM llm_calls")[0][0]
    assert calls_before == 8  # its calls neither
    with ScriptedLLM(judge) as server:
        process = _start(path, run_id, server.base_url)
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
        calls = _query(path, "SELECT cache_hit FROM llm_calls WHERE call_id > 8")
        assert len(calls) == len(comments) - 8  # only the missing ones were judged
        # Answers that arrived before the interruption were cached and are not asked again.
        assert len(server.requests) == sum(hit == 0 for (hit,) in calls)
    after = _query(path, "SELECT * FROM evaluations ORDER BY evaluation_id")
    assert after[:8] == before
    assert sorted(r[4] for r in after) == sorted(comments)  # every comment once
    assert all(json.loads(r[9]) == expected_scores(comments[r[4]]) for r in after)


def test_default_targets_are_what_agents_write(tmp_path, study):
    source, run_id = study
    path = tmp_path / "copy.db"
    with sqlite3.connect(source) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    assert [t.kind for t in parse_targets(None)] == ["comments", "agent_posts"]
    assert [t.kind for t in parse_targets("feed_posts")] == ["feed_posts"]
    result = run_simlab("evaluate", run_id, "--evaluator", "offensive", "--db", str(path))
    assert result.returncode == 0, result.stderr
    kinds = dict(_query(path, "SELECT target_kind, count(*) FROM evaluations GROUP BY 1"))
    posts = _query(path, "SELECT count(*) FROM agent_posts WHERE run_id = ?", (run_id,))[0][0]
    assert posts > 0  # agents post by default
    assert kinds == {"comments": len(_comments(path, run_id)), "agent_posts": posts}


def _judge_args(path: Path, run_id: str, url: str, *extra: str) -> list[str]:
    return ["evaluate", run_id, "--evaluator", "llm_judge", "--llm-base-url", url,
            "--llm-model", "scripted", "--targets", "comments", "--db", str(path), *extra]  # fmt: skip


def test_judge_calls_are_accounted_to_the_judged_texts_run_turn_and_agent(study):
    path, run_id = study
    with ScriptedLLM(judge) as server:
        result = run_simlab(*_judge_args(path, run_id, server.base_url, "--batch-size", "16"))
        assert result.returncode == 0, result.stderr
    joined = _query(
        path,
        "SELECT c.run_id = l.run_id AND c.turn_number = l.turn_number"
        " AND c.agent_handle = l.agent_handle, l.policy, l.model, l.status, l.prompt_tokens"
        " FROM evaluations AS e JOIN comments AS c ON c.comment_id = e.target_id"
        " JOIN llm_calls AS l ON l.run_id = e.run_id AND l.turn_number = e.turn_number"
        " AND l.agent_handle = e.agent_handle",
    )
    assert joined and all(r[0] == 1 and r[1:3] == ("llm_judge", "scripted") for r in joined)
    calls = _query(path, "SELECT count(*), sum(prompt_tokens) FROM llm_calls")[0]
    assert calls == (len(_comments(path, run_id)), 100 * len(_comments(path, run_id)))


def test_replay_makes_no_request_and_gives_identical_rows(study, tmp_path):
    path, run_id = study
    fresh = copy_database(path, tmp_path / "fresh.db")  # not evaluated yet
    with ScriptedLLM(judge) as server:
        assert run_simlab(*_judge_args(path, run_id, server.base_url)).returncode == 0
    with sqlite3.connect(fresh) as connection:  # the recorded cache, nothing else
        connection.execute("ATTACH DATABASE ? AS recorded", (str(path),))
        connection.execute("INSERT INTO llm_cache SELECT * FROM recorded.llm_cache")
    with ScriptedLLM(judge) as server:
        args = _judge_args(fresh, run_id, server.base_url, "--llm-cache", "replay")
        result = run_simlab(*args)
        assert result.returncode == 0, result.stderr
        assert server.requests == []
    columns = "evaluation_id, evaluator, evaluator_version, target_kind, target_id, run_id,"
    columns += " turn_number, agent_handle, status, scores, notes, model, latency_ms"
    sql = f"SELECT {columns} FROM evaluations ORDER BY evaluation_id"
    assert _query(fresh, sql) == _query(path, sql)
    assert _query(fresh, "SELECT count(*) FROM llm_calls WHERE cache_hit = 0") == [(0,)]


def test_replay_without_a_recorded_answer_fails_fast(study):
    path, run_id = study
    with ScriptedLLM(judge) as server:
        result = run_simlab(*_judge_args(path, run_id, server.base_url, "--llm-cache", "replay"))
        assert server.requests == []
    assert result.returncode == 2 and "llm cache replay: no response" in result.stderr
    assert _count(path) == 0


def test_a_blocking_budget_stops_the_evaluation_and_keeps_what_was_spent(study):
    path, run_id = study
    # Each request is estimated at ~ prompt chars / 4 + 300 tokens and uses 120.
    budget = ["--budget-tokens", "2000", "--budget-action", "block", "--batch-size", "4"]
    with ScriptedLLM(judge) as server:
        result = run_simlab(*_judge_args(path, run_id, server.base_url, *budget))
        asked = len(server.requests)
    assert result.returncode == 1 and "--budget-action block: budget_blocked" in result.stderr
    statuses = dict(_query(path, "SELECT status, count(*) FROM llm_calls GROUP BY 1"))
    assert statuses["ok"] == asked and statuses["budget_blocked"] >= 1
    assert 0 < asked * 120 <= 2000
    assert _count(path) == 4 * (asked // 4)  # whole batches only
    events = _query(path, "SELECT kind, metric, run_id FROM budget_events")
    assert ("blocked", "tokens", run_id) in events


def test_a_warning_budget_records_events_and_goes_on(study):
    path, run_id = study
    with ScriptedLLM(judge) as server:
        result = run_simlab(*_judge_args(path, run_id, server.base_url, "--budget-tokens", "500"))
    assert result.returncode == 0, result.stderr
    assert "budget exceeded" in result.stderr
    events = _query(path, "SELECT kind FROM budget_events ORDER BY event_id")
    assert events == [("alert",), ("exceeded",)]
    assert _count(path) == len(_comments(path, run_id))


def test_the_embedded_model_judges_two_texts(tmp_path):
    """The real SmolLM2 through the whole command: rows are recorded (ok or failed)."""
    path = tmp_path / "tiny.db"
    migrate(path)
    now = "2026-01-01T00:00:00+00:00"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO runs (run_id, created_at, total_turns, total_agents, started_at, status)"
            " VALUES ('r', ?, 1, 2, ?, 'running')",
            (now, now),
        )
        connection.executemany(
            "INSERT INTO comments (comment_id, run_id, turn_number, agent_handle, post_id, text,"
            " created_at) VALUES (?, 'r', 0, ?, 'p', ?, ?)",
            [("c1", "ann", "Lovely weather today.", now), ("c2", "bob", "Obey me or else.", now)],
        )
    args = [
        "evaluate",
        "r",
        "--evaluator",
        "llm_judge",
        "--llm-max-tokens",
        "96",
        "--db",
        str(path),
    ]
    result = run_simlab(*args)
    assert result.returncode == 0, result.stderr
    rows = _query(path, "SELECT target_id, status, model FROM evaluations ORDER BY target_id")
    assert [r[0] for r in rows] == ["c1", "c2"]
    assert all(r[1] in ("ok", "failed") and r[2] == "SmolLM2-135M-Instruct.Q4_1" for r in rows)
    calls = _query(path, "SELECT policy, base_url, completion_tokens FROM llm_calls")
    assert calls and all(
        c[0] == "llm_judge" and c[1].startswith("http://127.0.0.1:") for c in calls
    )
    assert all(0 < c[2] <= 96 for c in calls)
