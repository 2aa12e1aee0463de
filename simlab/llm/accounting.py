"""Accounting for LLM calls: one ``llm_calls`` row per request, prices, per-run budgets.

Token counts come from the server's ``usage`` (the truth; ``tiktoken`` cannot
load its encodings offline). Cost is priced per model from the settings'
table, per one million tokens (:meth:`simlab.llm.settings.Price.cost`).

Budgets cap a run's tokens (prompt + completion) and/or cost. Before each
request its size is estimated from the prompt length,

    estimate = ceil(len(canonical_json(messages)) / 4) + max_tokens

(about four characters per token, plus the largest possible answer), and
reserved while the request is in flight, so concurrent requests cannot
overshoot together. ``warn`` records a ``budget_events`` row and prints one
line when usage reaches the alert fraction and again when it passes the
limit; ``block`` refuses the first request whose estimate would pass the
limit, and every request after it, and keeps the reason so that the caller
can end the run ``failed`` with it. Cache hits cost nothing and count as
avoided tokens and cost.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from simlab.llm.cache import LLMResponse, Slot, canonical_json
from simlab.llm.settings import Budget, LLMSettings
from simlab.schema import budget_events, llm_calls

Notify = Callable[[str], None]


def _print_line(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def now_iso() -> str:
    """The current UTC time as ISO 8601."""
    return datetime.now(UTC).isoformat()


def redact_url(url: str) -> str:
    """``url`` without user info, query or fragment (where credentials could hide)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def estimate_tokens(messages: list[dict], max_tokens: int) -> int:
    """Upper estimate of a request's tokens: ``ceil(chars / 4) + max_tokens``."""
    return math.ceil(len(canonical_json(messages)) / 4) + max_tokens


@dataclass(frozen=True)
class CallRecord:
    """One ``llm_calls`` row."""

    run_id: str
    turn_number: int
    agent_handle: str
    policy: str
    model: str
    base_url: str
    attempt: int
    transport_retries: int
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    latency_ms: float
    cost_usd: float
    status: str
    cache_hit: int
    cache_key: str | None
    error: str | None
    started_at: str
    completed_at: str


@dataclass
class BudgetTracker:
    """Running totals of one run against its :class:`Budget` (see the module docstring)."""

    budget: Budget
    run_id: str
    notify: Notify = _print_line
    used: dict[str, float] = field(default_factory=lambda: {"tokens": 0.0, "cost": 0.0})
    reserved: dict[str, float] = field(default_factory=lambda: {"tokens": 0.0, "cost": 0.0})
    events: list[dict] = field(default_factory=list)
    blocked_reason: str | None = None
    _raised: set[tuple[str, str]] = field(default_factory=set)

    def _limits(self) -> dict[str, float]:
        limits = {"tokens": self.budget.tokens, "cost": self.budget.cost}
        return {metric: limit for metric, limit in limits.items() if limit is not None}

    def _event(self, turn: int, kind: str, metric: str, used: float, limit: float) -> None:
        message = (
            f"budget {kind}: run {self.run_id} {metric} {used:g} of {limit:g}"
            f" ({used / limit:.0%}, action {self.budget.action})"
        )
        self.events.append(
            {
                "run_id": self.run_id,
                "turn_number": turn,
                "kind": kind,
                "metric": metric,
                "used": float(used),
                "limit_value": float(limit),
                "action": self.budget.action,
                "message": message,
                "created_at": now_iso(),
            }
        )
        self.notify(message)

    def admit(self, turn: int, tokens: int, cost: float) -> bool:
        """Reserve an estimated request, or refuse it (``block``) when it would pass a limit."""
        estimate = {"tokens": float(tokens), "cost": cost}
        if self.blocked_reason is not None:
            return False
        if self.budget.action == "block":
            for metric, limit in self._limits().items():
                projected = self.used[metric] + self.reserved[metric] + estimate[metric]
                if projected > limit:
                    self.blocked_reason = (
                        f"{metric} budget {limit:g} would be exceeded: {self.used[metric]:g} used,"
                        f" the next request is estimated at {estimate[metric]:g}"
                    )
                    self._event(turn, "blocked", metric, self.used[metric], limit)
                    return False
        for metric in estimate:
            self.reserved[metric] += estimate[metric]
        return True

    def settle(self, turn: int, estimated: tuple[int, float], actual: tuple[int, float]) -> None:
        """Replace a reservation by the request's real usage; raise alerts it crosses."""
        for metric, reserved, spent in zip(("tokens", "cost"), estimated, actual, strict=True):
            self.reserved[metric] -= reserved
            self.used[metric] += spent
        for metric, limit in self._limits().items():
            used = self.used[metric]
            if used >= self.budget.alert * limit and (metric, "alert") not in self._raised:
                self._raised.add((metric, "alert"))
                self._event(turn, "alert", metric, used, limit)
            if used > limit and (metric, "exceeded") not in self._raised:
                self._raised.add((metric, "exceeded"))
                self._event(turn, "exceeded", metric, used, limit)


class Ledger:
    """The calls and budget events of one run, kept until the caller's turn commits them."""

    def __init__(
        self,
        settings: LLMSettings,
        run_id: str,
        policy: str,
        base_url: str,
        notify: Notify = _print_line,
    ) -> None:
        self.settings = settings
        self.run_id = run_id
        self.policy = policy
        self.base_url = redact_url(base_url)
        self.budget = BudgetTracker(settings.budget, run_id, notify)
        self.calls: list[CallRecord] = []
        self._flushed_events = 0

    def estimate(self, messages: list[dict]) -> tuple[int, float]:
        """Estimated (tokens, cost) of a request (see :func:`estimate_tokens`)."""
        max_tokens = self.settings.sampling.max_tokens
        tokens = estimate_tokens(messages, max_tokens)
        cost = self.settings.price(self.settings.model).cost(tokens - max_tokens, max_tokens)
        return tokens, cost

    def cost(self, response: LLMResponse) -> float:
        """The priced cost of a response's usage."""
        return self.settings.price(self.settings.model).cost(
            response.prompt_tokens, response.completion_tokens, response.cached_tokens
        )

    def record(
        self,
        slot: Slot,
        response: LLMResponse,
        status: str,
        cache_hit: bool,
        cache_key: str | None,
        started_at: str,
        error: str | None = None,
    ) -> CallRecord:
        """Keep one call; returns the row it will write."""
        call = CallRecord(
            run_id=self.run_id,
            turn_number=slot.turn,
            agent_handle=slot.agent,
            policy=self.policy,
            model=self.settings.model,
            base_url=self.base_url,
            attempt=slot.attempt,
            transport_retries=response.transport_retries,
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
            cached_tokens=response.cached_tokens,
            latency_ms=response.latency_ms,
            cost_usd=self.cost(response),
            status=status,
            cache_hit=int(cache_hit),
            cache_key=cache_key,
            error=error,
            started_at=started_at,
            completed_at=now_iso(),
        )
        self.calls.append(call)
        return call

    def drain(self) -> tuple[list[CallRecord], list[dict]]:
        """Hand over the calls and budget events kept since the last drain (for a turn's rows)."""
        calls, self.calls = self.calls, []
        events = self.budget.events[self._flushed_events :]
        self._flushed_events += len(events)
        return calls, events

    def flush(self, connection: Connection) -> int:
        """Insert the calls and budget events kept since the last flush (inside the caller's transaction).

        Returns:
            The number of ``llm_calls`` rows written.
        """
        calls, events = self.drain()
        write_calls(connection, calls, events)
        return len(calls)


def write_calls(connection: Connection, calls: list[CallRecord], events: list[dict]) -> None:
    """Insert ``llm_calls`` and ``budget_events`` rows on ``connection`` (the caller's transaction)."""
    if calls:
        connection.execute(insert(llm_calls), [asdict(call) for call in calls])
    if events:
        connection.execute(insert(budget_events), events)
