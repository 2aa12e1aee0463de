"""LLM analytics over DuckDB against independent computations (SQLAlchemy, pandas)."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from simlab import analytics
from simlab.analytics.llm import llm_usage, stance_at, stance_history
from simlab.charts.llm import llm_decision_outcomes, llm_tokens_over_turns
from simlab.db import make_engine
from simlab.errors import InputError
from simlab.llm import stances
from simlab.llm.usage import usage_summary
from tests.scripted_llm import Reply, ScriptedLLM, decision_json, malformed, sequence
from tests.test_llm_policy import db, llm_config, population_db, run  # noqa: F401 (fixtures)


def varied(body: dict, index: int) -> Reply:
    """Stances whose topic, leaning and usage vary with the request index."""
    import json

    answer = json.loads(decision_json(body, leaning=round(-0.9 + 0.1 * (index % 19), 2)))
    answer["stance"]["topic"] = ("climate", "housing")[index % 2]
    return Reply(json.dumps(answer), usage=(100 + index, 10 + index % 7, index % 3))


def test_stance_at_and_usage_match_independent_computations(db, shorthand_channels):  # noqa: F811
    script = lambda body, i: malformed(body, i) if i % 5 == 4 else varied(body, i)  # noqa: E731
    with ScriptedLLM(sequence(script)) as server:
        run_id = run(db, llm_config(server.base_url, turns=4, concurrency=1))
    con = analytics.connect(db)
    engine = make_engine(db)
    history = stance_history(con, run_id=run_id)
    assert len(history) > 0
    with engine.connect() as connection:
        for agent in history.agent_handle.unique():
            for turn in range(4):
                frame = stance_at(con, run_id=run_id, agent=agent, turn=turn)
                for topic in ("climate", "housing"):
                    expected = stances.stance_at(connection, run_id, agent, turn, topic)
                    got = frame[frame.topic == topic]
                    if expected is None:
                        assert got.empty
                    else:
                        assert got.stance.item() == expected.stance
                        assert got.confidence.item() == pytest.approx(expected.confidence)
    by_run = usage_summary(engine, by="run", run_id=run_id).iloc[0]
    [row] = llm_usage(con, run_ids=[run_id]).to_dict("records")
    for column in ("calls", "decisions", "success_rate", "tokens", "cache_hits"):
        assert row[column] == pytest.approx(by_run[column])
    assert row["p95_latency_ms"] == pytest.approx(by_run["p95_latency_ms"])
    with sqlite3.connect(db) as raw:
        failed = raw.execute("SELECT count(*) FROM llm_calls WHERE status = 'failed'").fetchone()[0]
        per_turn = dict(
            raw.execute(
                "SELECT turn_number, sum(prompt_tokens + completion_tokens) FROM llm_calls "
                "GROUP BY 1"
            ).fetchall()
        )
    assert row["failed"] == failed
    turns = llm_usage(con, run_ids=[run_id], by="turn")
    np.testing.assert_array_equal(turns.tokens.to_numpy(), [per_turn[t] for t in turns.turn])
    assert llm_tokens_over_turns(turns).to_dict()["mark"]["type"] == "line"
    assert llm_decision_outcomes(llm_usage(con)).to_dict()["mark"]["type"] == "bar"
    assert shorthand_channels == []
    with pytest.raises(InputError, match="by must be one of"):
        llm_usage(con, by="weekday")
    con.close()
    engine.dispose()
