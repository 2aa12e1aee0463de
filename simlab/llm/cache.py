"""Exact replay: LLM responses stored under a key that names everything that shaped them.

    key = sha256(canonical_json({request, model_fingerprint, agent, turn, sample, attempt}))

``request`` is the full request body (model, messages, every sampling
parameter including defaults, seed, max_tokens, response schema), so any
change to the prompt or the parameters misses the cache. The fingerprint
(the GGUF's sha256, or the served model id) separates models that share a
name. Agent, turn, sample index and attempt number separate deliberate
re-asks: a retry after invalid output is a new entry, not a cache hit. This
is the fix for the cache-collision reports of peers (litellm issues 894 and
8706, see ``docs/llm.md``).

Modes: ``record`` serves hits and stores misses (so a resumed run reuses the
decisions of a lost turn), ``replay`` serves hits and fails fast on a miss,
``off`` does neither. The table ``llm_cache`` holds no run id: arms and
replicates of a comparison share it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from simlab.errors import InputError
from simlab.schema import llm_cache

CacheMode = Literal["record", "replay", "off"]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Slot:
    """Which decision a request belongs to (part of the cache key)."""

    agent: str
    turn: int
    sample_index: int = 0
    attempt: int = 0


@dataclass(frozen=True)
class LLMResponse:
    """What one request produced: the message text or a transport error, usage and latency."""

    content: str | None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    latency_ms: float = 0.0
    transport_retries: int = 0


def cache_key(body: dict[str, Any], fingerprint: str, slot: Slot) -> str:
    """The sha256 hex key of one request (see the module docstring for what it covers).

    Args:
        body: The complete request body sent to ``/chat/completions``.
        fingerprint: The model fingerprint.
        slot: Agent, turn, sample index and attempt number.

    Returns:
        64 hex characters.
    """
    material = {"request": body, "model_fingerprint": fingerprint, **asdict(slot)}
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()


class CacheMissError(InputError):
    """``replay`` found no stored response for a request."""


def _insert_ignoring_duplicates(engine: Engine):
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(llm_cache).on_conflict_do_nothing(index_elements=["cache_key"])


class ResponseCache:
    """The ``llm_cache`` table in one mode; each stored entry commits on its own."""

    def __init__(self, engine: Engine, mode: CacheMode = "record") -> None:
        if mode not in ("record", "replay", "off"):
            raise InputError(f"llm cache mode must be record, replay or off, got {mode!r}")
        self.engine = engine
        self.mode = mode
        self._insert = _insert_ignoring_duplicates(engine)

    def lookup(self, key: str, slot: Slot) -> LLMResponse | None:
        """The stored response for ``key``, or None on a miss (mode ``record``/``off``).

        Raises:
            CacheMissError: Mode ``replay`` and nothing is stored under ``key``.
        """
        if self.mode == "off":
            return None
        columns = [llm_cache.c[name] for name in LLMResponse.__dataclass_fields__]
        with self.engine.connect() as connection:
            row = connection.execute(select(*columns).where(llm_cache.c.cache_key == key)).first()
        if row is not None:
            return LLMResponse(**row._asdict())
        if self.mode == "replay":
            raise CacheMissError(
                f"llm cache replay: no response for agent {slot.agent} turn {slot.turn} "
                f"(sample {slot.sample_index}, attempt {slot.attempt}, key {key[:12]}); "
                "record it first with --llm-cache record"
            )
        return None

    def store(
        self, key: str, body: dict[str, Any], fingerprint: str, slot: Slot, response: LLMResponse
    ) -> None:
        """Keep ``response`` under ``key`` (mode ``record`` only; an existing entry wins)."""
        if self.mode != "record":
            return
        row = {
            "cache_key": key,
            "model": str(body.get("model", "")),
            "model_fingerprint": fingerprint,
            "agent_handle": slot.agent,
            "turn_number": slot.turn,
            "sample_index": slot.sample_index,
            "attempt": slot.attempt,
            "request_json": canonical_json(body),
            "created_at": datetime.now(UTC).isoformat(),
            **asdict(response),
        }
        with self.engine.begin() as connection:
            connection.execute(self._insert, row)
