"""The ``--llm-*`` and ``--budget-*`` flags, defined once for every command that calls a model.

Each is an optional typer flag (default None: not given), so a command passes
on only what was given (:func:`given`) and the settings' own defaults apply to
the rest: ``simlab run`` merges them into the run config
(:func:`simlab.cli.run_commands.llm_overrides`), ``simlab evaluate`` into its
evaluator options. The API key itself is never a flag: ``--llm-api-key-env``
names the environment variable that holds it.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

PANEL = "LLM"


def llm_flag(kind: type, help_text: str) -> Any:
    """An optional typer flag of ``kind`` in the LLM help panel."""
    return Annotated[kind | None, typer.Option(help=help_text, rich_help_panel=PANEL)]


LLMBaseUrl = llm_flag(str, "OpenAI-compatible /v1 URL (default: the embedded model).")
LLMModel = llm_flag(str, "Model name sent to the endpoint (default: the embedded one).")
LLMApiKeyEnv = llm_flag(str, "NAME of the environment variable holding the API key.")
LLMCache = llm_flag(str, "LLM response cache: record | replay | off (default: record).")
LLMMaxTokens = llm_flag(int, "max_tokens per request (the longest answer).")
LLMConcurrency = llm_flag(int, "LLM requests in flight at most.")
BudgetTokens = llm_flag(int, "Token budget (prompt + completion) of the run or command.")
BudgetCost = llm_flag(float, "Cost budget (USD) of the run or command.")
BudgetAlert = llm_flag(float, "Fraction of a budget that raises an alert (default: 0.8).")
BudgetAction = llm_flag(str, "At the budget: warn (record, go on) or block (stop); default warn.")


def given(flags: dict[str, Any]) -> dict[str, Any]:
    """The flags that were given (not None), in their order."""
    return {key: value for key, value in flags.items() if value is not None}
