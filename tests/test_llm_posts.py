"""Model-written posts land in agent_posts, next to the rule-based agents' posts."""

from __future__ import annotations

import json
import re

from simlab.population.topics import TOPIC_NAMES
from simlab.posting import RULE_BASED_MODEL
from tests.scripted_llm import ScriptedLLM, posting
from tests.test_llm_policy import content, db, llm_config, population_db, rows, run  # noqa: F401

LLM_MODEL = "llm/1.0:scripted"
POSTS_SQL = (
    "SELECT turn_number, agent_handle, post_id, text, topic, leaning, model_used, "
    "generation_metadata_json FROM agent_posts WHERE run_id = ? ORDER BY turn_number, post_id"
)


def posting_config(base_url: str, **llm) -> dict:
    config = llm_config(base_url, share=0.5, **llm)
    config["posting"] = {"rate": 0.6}  # rule-based agents post too
    return config


def test_llm_agents_posts_carry_the_models_text_and_each_posts_model(db):  # noqa: F811
    with ScriptedLLM(posting) as server:
        run_id = run(db, posting_config(server.base_url))
    posts = rows(db, POSTS_SQL, run_id)
    by_model = {}
    for post in posts:
        by_model.setdefault(post[6], []).append(post)
    assert set(by_model) == {LLM_MODEL, RULE_BASED_MODEL}  # one turn's posts may mix both
    calls = {
        (turn, handle): key
        for turn, handle, key in rows(
            db,
            "SELECT turn_number, agent_handle, cache_key FROM llm_calls "
            "WHERE run_id = ? AND status = 'ok'",
            run_id,
        )
    }
    llm_posts = by_model[LLM_MODEL]
    assert {(p[0], p[1]) for p in llm_posts} == set(calls)  # every valid decision posted once
    for turn, handle, _, text, topic, leaning, _, meta in llm_posts:
        seed = int(re.fullmatch(rf"@{re.escape(handle)} writes \(seed (\d+)\)", text).group(1))
        meta = json.loads(meta)
        assert meta["cache_key"] == calls[(turn, handle)]
        assert meta["model_fingerprint"] == "served:scripted" and meta["decision_status"] == "ok"
        assert meta["topic_named"] == (seed % 2 == 0)
        assert topic == "economy" if seed % 2 == 0 else topic in TOPIC_NAMES
        assert leaning == 0.2  # the post leans as its author's stated stance
    llm_agents = {handle for _, handle in calls}
    rule_posts = by_model[RULE_BASED_MODEL]
    assert not {p[1] for p in rule_posts} & llm_agents
    assert all("p" in json.loads(p[7]) and "cache_key" not in json.loads(p[7]) for p in rule_posts)
    # the posts join the world: later feeds serve them, later prompts remember them
    served = rows(db, "SELECT post_ids FROM generated_feeds WHERE run_id = ?", run_id)
    served_ids = {p for (ids,) in served for p in json.loads(ids)}
    assert {p[2] for p in llm_posts if p[0] < 2} & served_ids
    remembered = [r for r in server.requests if "posted on economy" in r["messages"][1]["content"]]
    assert remembered


def test_a_replayed_run_writes_the_same_model_posts_without_a_request(db):  # noqa: F811
    with ScriptedLLM(posting) as server:
        recorded = run(db, posting_config(server.base_url))
    with ScriptedLLM(posting) as server:
        replayed = run(db, posting_config(server.base_url, cache="replay"))
    assert server.requests == []
    assert content(db, replayed)["agent_posts"] == content(db, recorded)["agent_posts"]
    assert any(p[6] == LLM_MODEL for p in rows(db, POSTS_SQL, replayed))


def test_with_posting_disabled_the_model_posts_nothing_and_remembers_no_post(db):  # noqa: F811
    config = posting_config("http://unused")
    config["posting"] = {"enabled": False}
    with ScriptedLLM(posting) as server:
        config["llm"]["base_url"] = server.base_url
        run_id = run(db, config)
    assert server.requests and rows(db, POSTS_SQL, run_id) == []
    assert not any("posted on" in r["messages"][1]["content"] for r in server.requests)
