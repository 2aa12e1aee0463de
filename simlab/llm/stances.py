"""Personas and stance histories of LLM agents (tables ``agent_personas``, ``agent_stances``).

``agent_stances`` is append-only: a new stance on a topic is inserted as
``current`` and the agent's previous ``current`` stance on that topic in the
run becomes ``superseded`` (the only update ever made). The stance at turn t
is the newest row with ``turn_number <= t``, whatever its status now, so
history queries do not depend on later turns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import and_, insert, select, update
from sqlalchemy.engine import Connection

from simlab.llm.accounting import now_iso
from simlab.llm.decision import StanceUpdate
from simlab.llm.prompts import Stance
from simlab.schema import agent_personas, agent_stances


def save_persona(
    connection: Connection,
    agent_id: str,
    tone: str,
    style: str,
    values: Sequence[str],
    source: str,
) -> None:
    """Add a persona version for an agent (the newest one is the agent's persona)."""
    connection.execute(
        insert(agent_personas),
        {
            "agent_id": agent_id,
            "tone": tone,
            "style": style,
            "values_json": json.dumps(list(values)),
            "source": source,
            "created_at": now_iso(),
        },
    )


def latest_persona(connection: Connection, agent_id: str) -> dict | None:
    """The agent's newest persona as a dict (``values`` decoded), or None."""
    row = (
        connection.execute(
            select(agent_personas)
            .where(agent_personas.c.agent_id == agent_id)
            .order_by(agent_personas.c.created_at.desc(), agent_personas.c.persona_id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    persona = dict(row)
    persona["values"] = tuple(json.loads(persona.pop("values_json")))
    return persona


def append_stance(
    connection: Connection, run_id: str, turn: int, agent: str, stance: StanceUpdate
) -> None:
    """Record a validated stance update; the previous current stance on its topic is superseded."""
    same_topic = and_(
        agent_stances.c.run_id == run_id,
        agent_stances.c.agent_handle == agent,
        agent_stances.c.topic == stance.topic,
        agent_stances.c.status == "current",
    )
    connection.execute(update(agent_stances).where(same_topic).values(status="superseded"))
    connection.execute(
        insert(agent_stances),
        {
            "run_id": run_id,
            "turn_number": turn,
            "agent_handle": agent,
            "topic": stance.topic,
            "stance": stance.stance,
            "confidence": stance.confidence,
            "leaning": stance.leaning,
            "rationale": stance.rationale,
            "status": "current",
            "created_at": now_iso(),
        },
    )


def stance_at(
    connection: Connection, run_id: str, agent: str, turn: int, topic: str | None = None
) -> Stance | None:
    """The agent's stance as of the end of ``turn`` (on ``topic``, or on any topic), or None."""
    query = (
        select(agent_stances.c.topic, agent_stances.c.stance, agent_stances.c.confidence)
        .where(
            agent_stances.c.run_id == run_id,
            agent_stances.c.agent_handle == agent,
            agent_stances.c.turn_number <= turn,
        )
        .order_by(agent_stances.c.turn_number.desc(), agent_stances.c.stance_id.desc())
        .limit(1)
    )
    if topic is not None:
        query = query.where(agent_stances.c.topic == topic)
    row = connection.execute(query).first()
    return None if row is None else Stance(row.topic, row.stance, row.confidence)
