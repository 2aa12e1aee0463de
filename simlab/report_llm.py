"""The report's LLM usage section: calls, success, latency, tokens, cost and cache per arm.

Left out (None) when the selected runs made no LLM call, so rule-based reports
do not change. The numbers are :func:`simlab.analytics.llm_usage` (its module
docstring defines every column); the charts are :mod:`simlab.charts.llm`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from simlab import analytics
from simlab.analytics import Selection
from simlab.charts.llm import llm_decision_outcomes, llm_tokens_over_turns

if TYPE_CHECKING:
    from simlab.report_sections import Section

TABLE_COLUMNS = {
    "arm": "arm",
    "decisions": "decisions",
    "success_rate": "success rate",
    "failed": "failed",
    "blocked": "budget-blocked",
    "mean_latency_ms": "mean latency (ms)",
    "p95_latency_ms": "p95 latency (ms)",
    "tokens": "tokens",
    "cost_usd": "cost (USD)",
    "cache_hits": "cache hits",
    "avoided_tokens": "tokens saved by the cache",
}


def usage_table(by_arm: pd.DataFrame) -> pd.DataFrame:
    """The per-arm usage as the report prints it: counts whole, latency in whole ms."""
    table = by_arm[list(TABLE_COLUMNS)].copy()
    whole = ["decisions", "failed", "blocked", "tokens", "cache_hits", "avoided_tokens"]
    table[whole] = table[whole].fillna(0).astype("int64")
    latency = ["mean_latency_ms", "p95_latency_ms"]
    table[latency] = table[latency].round(0).astype("Int64")
    table["success_rate"] = table["success_rate"].round(3)
    table["cost_usd"] = table["cost_usd"].round(6)
    return table.rename(columns=TABLE_COLUMNS)


def usage_text(by_arm: pd.DataFrame, by_model: pd.DataFrame) -> str:
    """The section's Markdown: what the selected runs asked of which models, in one paragraph."""
    decisions, tokens = int(by_arm["decisions"].sum()), int(by_arm["tokens"].sum())
    succeeded = by_arm["success_rate"].fillna(0).mul(by_arm["decisions"]).sum()
    rate = f"{succeeded / decisions:.0%}" if decisions else "none"
    models = ", ".join(f"`{m}`" for m in dict.fromkeys(by_model["model"].astype(str)))
    hits, saved = int(by_arm["cache_hits"].sum()), int(by_arm["avoided_tokens"].sum())
    cache = f" {hits} answers came from the cache, saving {saved:,} tokens." if hits else ""
    return (
        f"LLM agents made {decisions:,} decisions with {models}; {rate} succeeded "
        f"(a valid answer, at most one re-ask), the rest were recorded as failed or "
        f"budget-blocked decisions and the agent did nothing that turn. They spent "
        f"{tokens:,} tokens (cost {by_arm['cost_usd'].sum():.4f} USD at the configured "
        f"prices).{cache} Latency is per request, as the client measured it."
    )


def llm_usage_section(
    con: duckdb.DuckDBPyConnection, chosen: Selection, design: str
) -> Section | None:
    """LLM usage of the selected runs (None when they made no LLM call)."""
    from simlab.report_sections import Figure, Section  # which lists this builder in SECTIONS

    by_arm = analytics.llm_usage(con, **chosen.kwargs, by="arm")
    if by_arm.empty:
        return None
    by_turn = analytics.llm_usage(con, **chosen.kwargs, by="turn")
    by_model = analytics.llm_usage(con, **chosen.kwargs, by="model")
    table = usage_table(by_arm)
    return Section(
        title="LLM usage",
        text=usage_text(by_arm, by_model),
        tables=(table,),
        figures={
            "llm_tokens": Figure(
                llm_tokens_over_turns(by_turn),
                f"Tokens the LLM agents spent per turn (prompt + completion, summed over each "
                f"arm's runs; cache hits cost nothing). {design}",
            ),
            "llm_decisions": Figure(
                llm_decision_outcomes(by_arm),
                f"LLM decisions per arm by outcome: succeeded (valid answer, possibly after one "
                f"re-ask), failed (invalid twice or unreachable) and budget-blocked. {design}",
            ),
        },
    )
