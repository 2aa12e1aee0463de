"""The judge's link to :mod:`simlab.llm`: one client, cache and ledger for a whole evaluation.

:class:`JudgeClient` builds :class:`simlab.llm.settings.LLMSettings` from the
``simlab evaluate`` options and asks :class:`simlab.llm.client.LLMClient` for
every text of a batch at once (at most ``concurrency`` requests in flight),
inside one long-lived event loop (``asyncio.Runner``: the SDK's connections
belong to the loop that opened them). Without ``--llm-base-url`` it starts the
embedded model (:class:`simlab.llm.server.EmbeddedServer`) and stops it on
:meth:`JudgeClient.close`.

Two adaptations of the LLM infrastructure, which was written for one run:

- **Accounting per target.** One evaluation spans many runs, so the ledger
  writes each ``llm_calls`` row (``policy`` = ``llm_judge``) and each
  ``budget_events`` row with the run of the text being judged: every request
  runs in its own asyncio task, which sets a context variable before asking;
  the ledger and the budget read it synchronously when they record. Turn and
  agent are the text's (the cache key's agent and turn too). The budget covers
  the whole command.
- **No cached outages.** Transport failures are not stored in the cache
  (``simlab.llm`` stores them so a replayed *run* reproduces its rows; an
  evaluation records nothing for those texts and must ask again when re-run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from sqlalchemy.engine import Connection, Engine

from simlab.errors import InputError
from simlab.evaluators.base import EvaluationStopped, EvaluatorOptions
from simlab.evaluators.targets import Item
from simlab.llm.accounting import BudgetTracker, Ledger
from simlab.llm.cache import LLMResponse, ResponseCache, Slot
from simlab.llm.client import CallResult, LLMClient
from simlab.llm.settings import EMBEDDED_MODEL, LLMSettings
from simlab.params import validate as validate_params

POLICY = "llm_judge"  # the llm_calls.policy of the judge's requests
SEED = 0
_target_run: ContextVar[str | None] = ContextVar("judge_target_run", default=None)


class _TargetBudget(BudgetTracker):
    """A budget whose events name the run of the text being judged."""

    def admit(self, turn: int, tokens: int, cost: float) -> bool:
        """See :meth:`BudgetTracker.admit`; events carry the current target's run."""
        self.run_id = _target_run.get() or self.run_id
        return super().admit(turn, tokens, cost)

    def settle(self, turn: int, estimated: tuple[int, float], actual: tuple[int, float]) -> None:
        """See :meth:`BudgetTracker.settle`; events carry the current target's run."""
        self.run_id = _target_run.get() or self.run_id
        super().settle(turn, estimated, actual)


class _TargetLedger(Ledger):
    """A ledger whose rows name the run of the text being judged."""

    def __init__(self, settings: LLMSettings, base_url: str) -> None:
        super().__init__(settings, run_id="", policy=POLICY, base_url=base_url)
        self.budget = _TargetBudget(settings.budget, "")

    def record(self, slot: Slot, *args, **kwargs):
        """See :meth:`Ledger.record`; the row carries the current target's run."""
        self.run_id = _target_run.get() or self.run_id
        return super().record(slot, *args, **kwargs)


class _AnswersOnlyCache(ResponseCache):
    """The response cache without transport failures (a re-run must ask again)."""

    def store(self, key, request_json, model, fingerprint, slot, response: LLMResponse) -> None:
        """Keep ``response`` unless it is a transport error."""
        if response.error is None:
            super().store(key, request_json, model, fingerprint, slot, response)


def llm_settings(options: EvaluatorOptions) -> LLMSettings:
    """The judge's LLM settings: temperature 0, the options' endpoint, cache, prices, budget.

    Raises:
        InputError: an invalid base URL, or ``--llm-api-key-env`` names an unset variable.
    """
    model = options.llm_model or EMBEDDED_MODEL
    values = {
        "base_url": options.llm_base_url,
        "model": model,
        "api_key_env": options.llm_api_key_env,
        "timeout_s": options.timeout_s,
        "concurrency": options.concurrency,
        "cache": options.llm_cache,
        "sampling": {"temperature": 0.0, "max_tokens": options.llm_max_tokens},
        "prices": {
            model: {
                "prompt_per_1m": options.llm_prompt_price,
                "completion_per_1m": options.llm_completion_price,
            }
        },
        "budget": {
            "tokens": options.budget_tokens,
            "cost": options.budget_cost,
            "alert": options.budget_alert,
            "action": options.budget_action,
        },
    }
    settings = validate_params(LLMSettings, values, "evaluate --llm-*")
    settings.api_key()  # fail now, before a server starts, if the named variable is unset
    return settings


@dataclass(frozen=True)
class Judged:
    """One text's outcome: the client's result and how many answers failed validation."""

    result: CallResult
    invalid_answers: int


class JudgeClient:
    """Asks the judge about batches of texts; keeps the calls until :meth:`write`."""

    def __init__(
        self,
        options: EvaluatorOptions,
        engine: Engine | None,
        schema: dict,
        parse: Callable[[str], object],
    ) -> None:
        self.settings = llm_settings(options)
        self.schema = schema
        self.parse = parse
        self._server = None
        if self.settings.base_url is None:
            from simlab.llm.server import EmbeddedServer

            self._server = EmbeddedServer(threads=1).start()
            base_url, fingerprint = self._server.base_url, self._server.fingerprint
        else:
            base_url, fingerprint = self.settings.base_url, f"served:{self.settings.model}"
        self.ledger = _TargetLedger(self.settings, base_url)
        use_cache = engine is not None and self.settings.cache != "off"
        cache = _AnswersOnlyCache(engine, self.settings.cache) if use_cache else None
        self._runner = asyncio.Runner()
        self._client = LLMClient(self.settings, base_url, fingerprint, self.ledger, cache)

    def ask(self, conversations: Sequence[list[dict]], sources: Sequence[Item | None]) -> list:
        """One :class:`Judged` per conversation, in order.

        Raises:
            EvaluationStopped: a request got no answer after the transport retries,
                or the budget blocked one (after every request of the batch ended).
            simlab.llm.cache.CacheMissError: ``--llm-cache replay`` and a request is not stored.
        """
        outcomes = self._runner.run(self._ask_all(conversations, sources))
        for judged in outcomes:
            result = judged.result
            if result.status == "budget_blocked":
                raise EvaluationStopped(f"--budget-action block: {result.error}")
            if result.status == "failed" and judged.invalid_answers < 2:
                raise EvaluationStopped(f"--llm-base-url: the endpoint failed: {result.error}")
        return outcomes

    async def _ask_all(self, conversations, sources) -> list[Judged]:
        return await asyncio.gather(
            *(self._ask(m, s) for m, s in zip(conversations, sources, strict=True))
        )

    async def _ask(self, messages: list[dict], source: Item | None) -> Judged:
        _target_run.set(source.run_id if source else None)  # this task's own context
        invalid = 0

        def check(content: str):
            nonlocal invalid
            try:
                return self.parse(content)
            except ValueError:
                invalid += 1
                raise

        result = await self._client.complete(
            messages,
            schema=self.schema,
            validate=check,
            agent=(source.agent_handle if source else None) or "",
            turn=(source.turn_number if source else None) or 0,
            seed=SEED,
            schema_name="judge_answer",
        )
        return Judged(result, invalid)

    def write(self, connection: Connection) -> None:
        """Insert the ``llm_calls`` and ``budget_events`` rows kept since the last call.

        Raises:
            InputError: a call belongs to no run (texts without a run cannot be accounted).
        """
        if any(not call.run_id for call in self.ledger.calls):
            raise InputError("llm_judge: calls for texts without a run cannot be accounted")
        self.ledger.flush(connection)

    def close(self) -> None:
        """Close the client's connections and the loop; stop the embedded model if started."""
        try:
            self._runner.run(self._client.close())
            self._runner.close()
        finally:
            if self._server is not None:
                self._server.stop()
                self._server = None
