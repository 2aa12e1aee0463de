"""Settings for LLM calls: endpoint, sampling, prices, budget and cache mode.

The API key itself never appears here: ``api_key_env`` names the environment
variable that holds it, so a stored configuration cannot leak it.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simlab.errors import InputError

EMBEDDED_MODEL = "SmolLM2-135M-Instruct.Q4_1"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Sampling(_Strict):
    """Every sampling parameter sent with a request (defaults included, so cache keys are complete)."""

    temperature: float = Field(0.7, ge=0, le=2)
    top_p: float = Field(1.0, gt=0, le=1)
    max_tokens: int = Field(256, ge=1, le=32768)
    presence_penalty: float = Field(0.0, ge=-2, le=2)
    frequency_penalty: float = Field(0.0, ge=-2, le=2)


class Price(_Strict):
    """USD per one million tokens; cached prompt tokens default to the prompt price."""

    prompt_per_1m: float = Field(0.0, ge=0)
    completion_per_1m: float = Field(0.0, ge=0)
    cached_prompt_per_1m: float | None = Field(None, ge=0)

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """Cost in USD of one call's usage.

        Args:
            prompt_tokens: Prompt tokens, cached ones included (the server's ``usage``).
            completion_tokens: Completion tokens.
            cached_tokens: The part of the prompt served from the server's prompt cache.

        Returns:
            ``((prompt - cached) * p + cached * p_cached + completion * c) / 1e6``.
        """
        cached_price = (
            self.prompt_per_1m if self.cached_prompt_per_1m is None else self.cached_prompt_per_1m
        )
        fresh = max(prompt_tokens - cached_tokens, 0)
        return (
            fresh * self.prompt_per_1m
            + cached_tokens * cached_price
            + completion_tokens * self.completion_per_1m
        ) / 1e6


class Budget(_Strict):
    """Per-run limits on tokens and/or cost, an alert fraction and what happens at the limit."""

    tokens: int | None = Field(None, gt=0, description="total prompt + completion tokens")
    cost: float | None = Field(None, gt=0, description="total cost in USD")
    alert: float = Field(0.8, gt=0, le=1, description="fraction of a limit that raises an alert")
    action: Literal["warn", "block"] = "warn"


class LLMSettings(_Strict):
    """Where to send requests and how (one object per run, stored with the run config)."""

    base_url: str | None = Field(None, description="OpenAI-compatible /v1 URL; None: embedded")
    model: str = EMBEDDED_MODEL
    api_key_env: str | None = Field(None, description="environment variable holding the key")
    timeout_s: float = Field(60.0, gt=0)
    max_retries: int = Field(3, ge=0, le=10, description="retries on 429 / 5xx / timeouts")
    backoff_s: float = Field(0.5, ge=0, description="first backoff; doubles per retry")
    max_backoff_s: float = Field(8.0, ge=0)
    concurrency: int = Field(4, ge=1, le=1024, description="requests in flight at most")
    cache: Literal["record", "replay", "off"] = "record"
    sampling: Sampling = Sampling()
    prices: dict[str, Price] = Field(default_factory=dict, description="per model, per 1M tokens")
    budget: Budget = Budget()

    @model_validator(mode="after")
    def _check_url(self) -> LLMSettings:
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {self.base_url!r}")
        return self

    def price(self, model: str) -> Price:
        """The price entry for ``model`` (free when the table has none)."""
        return self.prices.get(model, Price())

    def api_key(self) -> str:
        """The API key from the environment (``"none"`` when no variable is named).

        Raises:
            InputError: The named variable is not set.
        """
        if self.api_key_env is None:
            return "none"
        value = os.environ.get(self.api_key_env)
        if not value:
            raise InputError(
                f"environment variable {self.api_key_env} (the LLM API key) is not set"
            )
        return value
