"""End to end with the real embedded model (SmolLM2-135M via xllamacpp): a few agents, 2 turns."""

from __future__ import annotations

import json
import socket
import sqlite3

from simlab import engine as simulation
from simlab.config import build
from simlab.db import make_engine

from .conftest import synthetic_database


def test_a_run_on_the_embedded_model_records_decisions_and_stops_the_server(tmp_path):
    db = tmp_path / "embedded.db"
    synthetic_database(db, agents=6, posts=60, seed=4)
    engine = make_engine(db)
    config = build(
        {
            "seed": 2,
            "turns": 2,
            "policy": {"name": "llm", "params": {"feed_items": 2, "memory": 2}},
            "llm": {"sampling": {"max_tokens": 96}, "concurrency": 1},
        }
    )
    run_id = simulation.run(config, engine)
    engine.dispose()
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT status FROM runs").fetchall() == [("completed",)]
        served = con.execute(
            "SELECT count(*) FROM generated_feeds WHERE run_id = ? AND post_ids <> '[]'", (run_id,)
        ).fetchone()[0]
        calls = con.execute(
            "SELECT status, base_url, prompt_tokens, completion_tokens, cache_hit FROM llm_calls"
        ).fetchall()
        metadata = [
            json.loads(r[0])
            for table in ("likes", "comments", "follows")
            for r in con.execute(
                f"SELECT generation_metadata_json FROM {table} WHERE model_used LIKE 'llm/%'"
            )
        ]
    assert served > 0
    assert sum(status != "invalid" for status, *_ in calls) == served  # one decision per feed
    assert {status for status, *_ in calls} <= {"ok", "invalid", "retried", "failed"}
    assert all(url.startswith("http://127.0.0.1:") for _, url, *_ in calls)
    assert all(p > 0 and c > 0 for _, _, p, c, hit in calls if hit == 0)  # the server's usage
    assert all(m["model_fingerprint"].startswith("sha256:") for m in metadata)
    port = int(calls[0][1].rsplit(":", 1)[1].split("/")[0])
    with socket.socket() as probe:  # the embedded server is gone after the run
        assert probe.connect_ex(("127.0.0.1", port)) != 0
