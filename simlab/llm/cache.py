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

from sqlalchemy import bindparam, select
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


def cache_key(request_json: str, fingerprint: str, slot: Slot) -> str:
    """The sha256 hex key of one request (see the module docstring for what it covers).

    Args:
        request_json: ``canonical_json`` of the complete request body.
        fingerprint: The model fingerprint.
        slot: Agent, turn, sample index and attempt number.

    Returns:
        64 hex characters. Canonical JSON escapes newlines, so the newline
        separating the request from the rest cannot be forged by either part.
    """
    rest = canonical_json([fingerprint, slot.agent, slot.turn, slot.sample_index, slot.attempt])
    return hashlib.sha256(f"{request_json}\n{rest}".encode()).hexdigest()


_RESPONSE_COLUMNS = tuple(LLMResponse.__dataclass_fields__)
_LOOKUP = select(*(llm_cache.c[name] for name in _RESPONSE_COLUMNS)).where(
    llm_cache.c.cache_key == bindparam("key")
)
# SQLite fast path: one driver-level query per lookup (SQLAlchemy Core costs ~5x more here).
_LOOKUP_SQLITE = f"SELECT {', '.join(_RESPONSE_COLUMNS)} FROM llm_cache WHERE cache_key = ?"


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
        self._sqlite = None

    def _read(self, key: str) -> tuple | None:
        if self.engine.dialect.name != "sqlite":
            with self.engine.connect() as connection:
                return connection.execute(_LOOKUP, {"key": key}).first()
        if self._sqlite is None:
            # sqlite3's default transaction handling opens no transaction for a SELECT,
            # so this long-lived connection never pins an old snapshot.
            self._sqlite = self.engine.raw_connection()
        return self._sqlite.driver_connection.execute(_LOOKUP_SQLITE, (key,)).fetchone()

    def close(self) -> None:
        """Return the lookup connection to the pool."""
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None

    def lookup(self, key: str, slot: Slot) -> LLMResponse | None:
        """The stored response for ``key``, or None on a miss (mode ``record``/``off``).

        Raises:
            CacheMissError: Mode ``replay`` and nothing is stored under ``key``.
        """
        if self.mode == "off":
            return None
        row = self._read(key)
        if row is not None:
            return LLMResponse(*row)
        if self.mode == "replay":
            raise CacheMissError(
                f"llm cache replay: no response for agent {slot.agent} turn {slot.turn} "
                f"(sample {slot.sample_index}, attempt {slot.attempt}, key {key[:12]}); "
                "record it first with --llm-cache record"
            )
        return None

    def store(
        self,
        key: str,
        request_json: str,
        model: str,
        fingerprint: str,
        slot: Slot,
        response: LLMResponse,
    ) -> None:
        """Keep ``response`` under ``key`` (mode ``record`` only; an existing entry wins)."""
        if self.mode != "record":
            return
        row = {
            "cache_key": key,
            "model": model,
            "model_fingerprint": fingerprint,
            "agent_handle": slot.agent,
            "turn_number": slot.turn,
            "sample_index": slot.sample_index,
            "attempt": slot.attempt,
            "request_json": request_json,
            "created_at": datetime.now(UTC).isoformat(),
            **asdict(response),
        }
        with self.engine.begin() as connection:
            connection.execute(self._insert, row)
