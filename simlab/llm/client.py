"""Async client for any OpenAI-compatible endpoint, built on the ``openai`` SDK.

One call (:meth:`LLMClient.complete`) asks for a structured answer and returns
a :class:`CallResult`, never raising for the model's or the server's faults:

1. the request body names every parameter (sampling defaults included) and
   asks for ``response_format`` = the answer's JSON schema; it is posted as
   is with the SDK's ``post`` (the typed ``create`` re-walks the whole schema
   on every call: ~0.45 ms of CPU per request in ``benchmarks/bench_llm.py``);
2. the cache answers if it can (``replay`` fails fast on a miss);
3. otherwise the budget must admit the request, which then goes out under a
   concurrency limit (``asyncio.Semaphore``), with retries on 429 / 5xx /
   timeouts / connection errors: the server's ``retry-after`` (or
   ``retry-after-ms``) when given, else ``backoff_s * 2**retry``, capped at
   ``max_backoff_s``;
4. the answer is validated (pydantic); invalid output gets ONE retry with
   the validation error appended to the conversation, then the decision is
   recorded as failed.

Statuses of the ``llm_calls`` rows: ``ok`` (valid at once), ``invalid`` (a
first attempt that failed validation), ``retried`` (valid on the retry),
``failed`` (invalid twice, or the server never answered), ``budget_blocked``.
The API key is read from the environment by :meth:`LLMSettings.api_key` and
handed only to the SDK.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from simlab.llm.accounting import CallRecord, Ledger, now_iso
from simlab.llm.cache import LLMResponse, ResponseCache, Slot, cache_key, canonical_json
from simlab.llm.settings import LLMSettings

_RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
)
MAX_ERROR_CHARS = 600


@dataclass(frozen=True)
class CallResult:
    """The outcome of one decision (one or two requests).

    ``value`` is the validated answer or None; ``status`` is ``ok``,
    ``retried``, ``failed`` or ``budget_blocked``; tokens and latency are
    summed over the attempts; ``cache_hit`` is True when no attempt reached
    the server.
    """

    value: Any
    status: str
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    latency_ms: float
    cache_hit: bool
    calls: tuple[CallRecord, ...]

    @property
    def ok(self) -> bool:
        """Whether the decision has a validated value."""
        return self.value is not None


def describe_invalid(exc: Exception) -> str:
    """A short, one-line account of why an answer failed validation."""
    if isinstance(exc, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in err['loc']) or 'answer'}: {err['msg']}"
            for err in exc.errors()[:5]
        ]
        text = "; ".join(parts)
    else:
        text = str(exc)
    return " ".join(text.split())[:MAX_ERROR_CHARS]


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            return max(float(response.headers[header]) / divisor, 0.0)
        except (KeyError, ValueError):
            continue
    return None


def _response_from(completion: Any, latency_ms: float, retries: int) -> LLMResponse:
    usage = completion.usage
    details = getattr(usage, "prompt_tokens_details", None)
    return LLMResponse(
        content=completion.choices[0].message.content or "",
        prompt_tokens=int(usage.prompt_tokens) if usage else 0,
        completion_tokens=int(usage.completion_tokens) if usage else 0,
        cached_tokens=int(getattr(details, "cached_tokens", 0) or 0),
        latency_ms=latency_ms,
        transport_retries=retries,
    )


class LLMClient:
    """Structured decisions from an OpenAI-compatible endpoint, cached and accounted.

    Args:
        settings: Endpoint, sampling, retries, concurrency, cache mode, prices, budget.
        base_url: The ``/v1`` URL actually used (the embedded server's when settings have none).
        fingerprint: Model fingerprint for cache keys (GGUF sha256 or served model id).
        ledger: Where calls and budget events are kept until the caller writes them.
        cache: The response cache (None: no caching).
    """

    def __init__(
        self,
        settings: LLMSettings,
        base_url: str,
        fingerprint: str,
        ledger: Ledger,
        cache: ResponseCache | None = None,
    ) -> None:
        self.settings = settings
        self.fingerprint = fingerprint
        self.ledger = ledger
        self.cache = cache
        self._semaphore = asyncio.Semaphore(settings.concurrency)
        self._openai = openai.AsyncOpenAI(
            base_url=base_url,
            api_key=settings.api_key(),
            timeout=settings.timeout_s,
            max_retries=0,
        )

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP connections and the cache's lookup connection."""
        await self._openai.close()
        if self.cache is not None:
            self.cache.close()

    def body(self, messages: list[dict], schema: dict, schema_name: str, seed: int) -> dict:
        """The complete request body: every parameter that shapes the answer."""
        return {
            "model": self.settings.model,
            "messages": messages,
            **self.settings.sampling.model_dump(),
            "seed": seed,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": schema, "strict": False},
            },
        }

    def _backoff(self, retry: int, exc: Exception) -> float:
        wait = _retry_after(exc)
        if wait is None:
            wait = self.settings.backoff_s * 2**retry
        return min(wait, self.settings.max_backoff_s)

    async def _send(self, body: dict) -> LLMResponse:
        """One request with transport retries; a final failure becomes an error response."""
        elapsed = 0.0  # time in requests: not queueing for the semaphore, not backing off
        retries = 0
        while True:
            try:
                async with self._semaphore:
                    start = time.perf_counter()
                    try:
                        completion = await self._openai.post(
                            "/chat/completions", body=body, cast_to=ChatCompletion
                        )
                    finally:
                        elapsed += time.perf_counter() - start
                return _response_from(completion, elapsed * 1000, retries)
            except _RETRYABLE as exc:
                if retries >= self.settings.max_retries:
                    error = f"gave up after {retries} retries: {type(exc).__name__}: {exc}"
                    break
                await asyncio.sleep(self._backoff(retries, exc))
                retries += 1
            except (openai.OpenAIError, AttributeError, IndexError, TypeError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
                break
        return LLMResponse(
            content=None,
            error=" ".join(error.split())[:MAX_ERROR_CHARS],
            latency_ms=elapsed * 1000,
            transport_retries=retries,
        )

    async def _attempt(self, body: dict, slot: Slot) -> tuple[LLMResponse | None, bool, str]:
        """The response for one attempt: from the cache, or sent if the budget admits it."""
        request_json = canonical_json(body)
        key = cache_key(request_json, self.fingerprint, slot)
        if self.cache is not None and (hit := self.cache.lookup(key, slot)) is not None:
            return hit, True, key
        estimate = self.ledger.estimate(body["messages"])
        if not self.ledger.budget.admit(slot.turn, *estimate):
            return None, False, key
        response = await self._send(body)
        actual = (response.prompt_tokens + response.completion_tokens, self.ledger.cost(response))
        self.ledger.budget.settle(slot.turn, estimate, actual)
        if self.cache is not None:
            self.cache.store(key, request_json, body["model"], self.fingerprint, slot, response)
        return response, False, key

    async def complete(
        self,
        messages: list[dict],
        *,
        schema: dict,
        validate: Callable[[str], Any],
        agent: str,
        turn: int,
        seed: int,
        sample_index: int = 0,
        schema_name: str = "decision",
    ) -> CallResult:
        """Ask for an answer matching ``schema``; validate it; retry once if invalid.

        Args:
            messages: Chat messages (system, user...).
            schema: JSON schema sent as ``response_format``.
            validate: Parses the answer text; raises ``ValueError`` (e.g. pydantic's) if invalid.
            agent: Agent handle (accounting and cache key).
            turn: Turn number (accounting and cache key).
            seed: Sampling seed sent with the request.
            sample_index: Which of several samples of the same decision this is.
            schema_name: Name of the schema in ``response_format``.

        Returns:
            The :class:`CallResult`; never raises for invalid output or server errors.

        Raises:
            CacheMissError: Cache mode ``replay`` and a request is not stored.
        """
        calls: list[CallRecord] = []
        for attempt in (0, 1):
            slot = Slot(agent, turn, sample_index, attempt)
            body = self.body(messages, schema, schema_name, seed)
            started = now_iso()
            response, hit, key = await self._attempt(body, slot)
            if response is None:
                reason = f"budget_blocked: {self.ledger.budget.blocked_reason}"
                calls.append(
                    self.ledger.record(
                        slot, LLMResponse(None), "budget_blocked", False, key, started, reason
                    )
                )
                return _result(None, "budget_blocked", reason, calls)
            if response.error is not None:
                calls.append(
                    self.ledger.record(slot, response, "failed", hit, key, started, response.error)
                )
                return _result(None, "failed", response.error, calls)
            try:
                value = validate(response.content)
            except ValueError as exc:
                error = describe_invalid(exc)
                status = "invalid" if attempt == 0 else "failed"
                calls.append(self.ledger.record(slot, response, status, hit, key, started, error))
                messages = [
                    *messages,
                    {"role": "assistant", "content": response.content},
                    {
                        "role": "user",
                        "content": f"That answer was invalid ({error}). "
                        "Answer again with JSON that matches the schema.",
                    },
                ]
                continue
            status = "ok" if attempt == 0 else "retried"
            calls.append(self.ledger.record(slot, response, status, hit, key, started))
            return _result(value, status, None, calls)
        return _result(None, "failed", calls[-1].error, calls)


def _result(value: Any, status: str, error: str | None, calls: list[CallRecord]) -> CallResult:
    return CallResult(
        value=value,
        status=status,
        error=error,
        prompt_tokens=sum(c.prompt_tokens for c in calls),
        completion_tokens=sum(c.completion_tokens for c in calls),
        cached_tokens=sum(c.cached_tokens for c in calls),
        latency_ms=sum(c.latency_ms for c in calls),
        cache_hit=all(c.cache_hit for c in calls),
        calls=tuple(calls),
    )
