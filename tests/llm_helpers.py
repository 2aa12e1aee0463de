"""Shared pieces of the LLM tests: a run row, a client wired to a cache and a ledger, one decision."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from simlab.llm.accounting import Ledger
from simlab.llm.cache import ResponseCache
from simlab.llm.client import CallResult, LLMClient
from simlab.llm.decision import decision_schema, parse_decision
from simlab.llm.prompts import FeedItem, Persona, build_messages
from simlab.llm.settings import LLMSettings
from simlab.schema import llm_calls, runs

FINGERPRINT = "scripted:test-model"
FEED = (FeedItem("p1", "alice", "Carbon taxes work."), FeedItem("p2", "bob", "Nice weather."))


def insert_run(engine: Engine, run_id: str = "run-1") -> str:
    now = datetime.now(UTC).isoformat()
    with engine.begin() as connection:
        connection.execute(
            insert(runs),
            {
                "run_id": run_id,
                "created_at": now,
                "total_turns": 3,
                "total_agents": 4,
                "started_at": now,
                "status": "running",
            },
        )
    return run_id


def make_client(
    engine: Engine,
    base_url: str,
    run_id: str = "run-1",
    cache_mode: str = "record",
    notify=None,
    fingerprint: str = FINGERPRINT,
    **settings,
) -> LLMClient:
    values = {"base_url": base_url, "model": "scripted-model", "backoff_s": 0.0, **settings}
    config = LLMSettings(**values)
    extra = {} if notify is None else {"notify": notify}
    ledger = Ledger(config, run_id=run_id, policy="llm", base_url=base_url, **extra)
    cache = ResponseCache(engine, cache_mode)
    return LLMClient(config, base_url, fingerprint, ledger, cache)


async def decide(client: LLMClient, agent: str, turn: int, feed=FEED) -> CallResult:
    persona = Persona(handle=agent, bio=f"{agent} writes about policy.", values=("fairness",))
    ids = [item.item_id for item in feed]
    return await client.complete(
        build_messages(persona, feed),
        schema=decision_schema(ids),
        validate=lambda text: parse_decision(text, ids),
        agent=agent,
        turn=turn,
        seed=1000 * turn + len(agent),
    )


def run_decisions(client: LLMClient, slots, engine: Engine | None = None) -> list[CallResult]:
    """Decide every (agent, turn) concurrently, close the client, then write the ledger."""

    async def main() -> list[CallResult]:
        async with client:
            return await asyncio.gather(*(decide(client, a, t) for a, t in slots))

    results = asyncio.run(main())
    if engine is not None:
        with engine.begin() as connection:
            client.ledger.flush(connection)
    return results


def call_rows(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(select(llm_calls).order_by(llm_calls.c.call_id)).mappings()
        return [dict(row) for row in rows]
