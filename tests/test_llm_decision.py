"""The decision schema, the persona prompt, and the persona / stance tables."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from simlab.llm.decision import StanceUpdate, decision_schema, parse_decision
from simlab.llm.prompts import FeedItem, Persona, Stance, build_messages
from simlab.llm.stances import append_stance, latest_persona, save_persona, stance_at
from simlab.schema import agent, agent_stances
from tests.llm_helpers import insert_run

IDS = ["p1", "p2", "p3"]


def _answer(**overrides) -> str:
    answer = {
        "actions": [
            {"item_id": "p2", "like": True, "comment": "Good point.", "follow_author": True}
        ],
        "post": {"text": "My view on transit.", "topic": "transit"},
        "stance": {
            "topic": "transit",
            "stance": "Fund buses.",
            "confidence": 0.7,
            "leaning": -0.3,
            "rationale": "Three posts showed shorter commutes.",
        },
    }
    answer.update(overrides)
    return json.dumps(answer)


def test_a_good_answer_parses():
    decision = parse_decision(_answer(), IDS)
    assert decision.actions[0].follow_author and decision.post.topic == "transit"
    assert decision.stance.confidence == 0.7
    assert parse_decision("{}", IDS).actions == []


@pytest.mark.parametrize(
    "text, problem",
    [
        (_answer(actions=[{"item_id": "p9", "like": True}]), "not in the feed: p9"),
        (_answer(actions=[{"item_id": "p1"}, {"item_id": "p1"}]), "at most once"),
        (
            _answer(stance={**json.loads(_answer())["stance"], "confidence": 1.5}),
            "stance.confidence",
        ),
        (
            _answer(stance={**json.loads(_answer())["stance"], "leaning": -1.37e15}),
            "stance.leaning",
        ),
        (_answer(post={"text": "x" * 281, "topic": "t"}), "post.text"),
        (_answer(mood="happy"), "mood"),
        ('{"actions": [', "json"),
    ],
)
def test_invalid_answers_are_rejected(text, problem):
    with pytest.raises(ValidationError) as caught:
        parse_decision(text, IDS)
    assert problem.lower() in str(caught.value).lower()


def test_schema_limits_item_ids_to_the_feed_and_keeps_ranges():
    schema = decision_schema(IDS)
    assert schema["$defs"]["ItemAction"]["properties"]["item_id"]["enum"] == IDS
    assert schema["properties"]["actions"]["maxItems"] == 3
    stance = schema["$defs"]["StanceUpdate"]["properties"]
    assert (stance["confidence"]["minimum"], stance["confidence"]["maximum"]) == (0, 1)
    decision_schema(["x"])  # each call builds its own copy
    assert schema == decision_schema(IDS)


def test_prompt_carries_persona_stance_memory_and_feed_ids():
    persona = Persona(
        handle="ann.test",
        bio="Urbanist from Lyon.",
        tone="warm",
        style="short sentences",
        values=("fairness", "evidence"),
        interests=("transit", "housing"),
    )
    feed = [FeedItem("p1", "bob", "Buses are\nslow."), FeedItem("p2", "cat", "Trams!")]
    system, user = build_messages(
        persona, feed, Stance("transit", "Fund buses.", 0.7), memory=["liked p0"]
    )
    assert system["role"] == "system" and user["role"] == "user"
    for fragment in ("@ann.test", "Urbanist from Lyon.", "warm", "short sentences"):
        assert fragment in system["content"]
    assert "fairness, evidence" in system["content"] and "transit, housing" in system["content"]
    assert 'stance on transit: "Fund buses." (confidence 0.70)' in system["content"]
    assert "- liked p0" in user["content"]
    assert (
        "[p1] @bob: Buses are slow." in user["content"] and "[p2] @cat: Trams!" in user["content"]
    )


def test_personas_keep_versions(engine):
    with engine.begin() as connection:
        connection.execute(insert(agent), {"agent_id": "a1", "handle": "ann", "persona_source": "t",
                                           "display_name": "Ann", "created_at": "x", "updated_at": "x"})  # fmt: skip
        save_persona(connection, "a1", "dry", "terse", ["order"], "synthetic")
        save_persona(connection, "a1", "warm", "chatty", ["care", "fun"], "manual")
        assert latest_persona(connection, "a1")["values"] == ("care", "fun")
        assert latest_persona(connection, "nobody") is None


def _stance(topic: str, text: str, confidence: float) -> StanceUpdate:
    return StanceUpdate(topic=topic, stance=text, confidence=confidence, leaning=0.1, rationale="r")


def test_stances_are_append_only_with_one_current_per_topic(engine):
    insert_run(engine)
    with engine.begin() as connection:
        append_stance(connection, "run-1", 0, "ann", _stance("transit", "buses", 0.5))
        append_stance(connection, "run-1", 1, "ann", _stance("climate", "act", 0.9))
        append_stance(connection, "run-1", 2, "ann", _stance("transit", "trams", 0.6))
        rows = connection.execute(select(agent_stances).order_by("stance_id")).mappings().all()
        assert [(r["topic"], r["stance"], r["status"]) for r in rows] == [
            ("transit", "buses", "superseded"),
            ("climate", "act", "current"),
            ("transit", "trams", "current"),
        ]
        assert stance_at(connection, "run-1", "ann", 0) == Stance("transit", "buses", 0.5)
        assert stance_at(connection, "run-1", "ann", 1, topic="transit").stance == "buses"
        assert stance_at(connection, "run-1", "ann", 5, topic="transit").stance == "trams"
        assert stance_at(connection, "run-1", "bob", 5) is None


def test_confidence_outside_0_1_is_refused_by_the_database(engine):
    insert_run(engine)
    row = {"run_id": "run-1", "turn_number": 0, "agent_handle": "ann", "topic": "t",
           "stance": "s", "confidence": 1.2, "rationale": "r", "status": "current",
           "created_at": "x"}  # fmt: skip
    with pytest.raises(IntegrityError, match="confidence_range"), engine.begin() as connection:
        connection.execute(insert(agent_stances), row)
