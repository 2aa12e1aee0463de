"""The ``simlab evaluate`` command, mounted in :mod:`simlab.cli` (imports stay inside it)."""

from __future__ import annotations

from typing import Annotated

import typer

from simlab.llm import options as llm_options


def evaluate(
    run_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="RUN_ID...", help="Runs to evaluate.", show_default=False),
    ] = None,
    comparison: Annotated[
        str | None, typer.Option(help="Evaluate every run of this comparison instead.")
    ] = None,
    evaluator: Annotated[
        list[str] | None,
        typer.Option(help="Evaluator name, repeatable (default: every embedded one)."),
    ] = None,
    targets: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated: comments, agent_posts, feed_posts "
            "[default: comments, and agent_posts when the database has them]."
        ),
    ] = None,
    llm_base_url: llm_options.LLMBaseUrl = None,
    llm_model: llm_options.LLMModel = None,
    llm_api_key_env: llm_options.LLMApiKeyEnv = None,
    llm_cache: llm_options.LLMCache = None,
    llm_max_tokens: llm_options.LLMMaxTokens = None,
    llm_prompt_price: llm_options.llm_flag(float, "USD per 1M prompt tokens (default: 0).") = None,
    llm_completion_price: llm_options.llm_flag(
        float, "USD per 1M completion tokens (default: 0)."
    ) = None,
    budget_tokens: llm_options.BudgetTokens = None,
    budget_cost: llm_options.BudgetCost = None,
    budget_alert: llm_options.BudgetAlert = None,
    budget_action: llm_options.BudgetAction = None,
    concurrency: llm_options.LLMConcurrency = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Texts per committed batch (default: per evaluator).")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="SQLite path or SQLAlchemy URL [default: $SIMLAB_DB or data/simlab.db]"
        ),
    ] = None,
) -> None:
    """Score what agents wrote; append to `evaluations`; re-running resumes and skips done texts."""
    from rich.console import Console
    from rich.table import Table

    from simlab.cli.app import lazy_progress
    from simlab.db import make_engine
    from simlab.evaluators.base import EvaluationStopped, EvaluatorOptions
    from simlab.evaluators.pipeline import build_scorers, close_scorers, evaluate, resolve_runs
    from simlab.evaluators.targets import parse_targets
    from simlab.params import validate

    engine = make_engine(db, must_exist=True)
    runs = resolve_runs(engine, run_ids or [], comparison)
    chosen_targets = parse_targets(targets)
    values = {
        "llm_base_url": llm_base_url, "llm_model": llm_model, "llm_api_key_env": llm_api_key_env,
        "llm_cache": llm_cache, "llm_max_tokens": llm_max_tokens,
        "llm_prompt_price": llm_prompt_price, "llm_completion_price": llm_completion_price,
        "budget_tokens": budget_tokens, "budget_cost": budget_cost, "budget_alert": budget_alert,
        "budget_action": budget_action, "concurrency": concurrency,
    }  # fmt: skip
    options = validate(EvaluatorOptions, llm_options.given(values), "evaluate")
    scorers = build_scorers(evaluator, options, engine, chosen_targets)
    console = Console()
    try:
        with lazy_progress() as (bar, update):
            tasks: dict[str, int] = {}

            def on_progress(label: str, done: int, total: int) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=total)
                update(tasks[label], completed=done, total=total)

            try:
                summaries = evaluate(engine, runs, scorers, chosen_targets, batch_size, on_progress)
            except EvaluationStopped as exc:
                Console(stderr=True).print(
                    f"[bold red]error:[/] {exc}; committed batches are kept, re-run to resume",
                    highlight=False,
                    soft_wrap=True,
                )
                raise typer.Exit(1) from None
    finally:
        close_scorers(scorers)
    table = Table(box=None, padding=(0, 1))
    for column in ("evaluator", "version", "target", "scored", "failed", "already", "history"):
        table.add_column(column, overflow="fold")
    for s in summaries:
        table.add_row(
            s.evaluator, s.version, s.target, str(s.scored), str(s.failed), str(s.already),
            str(s.history_rows),
        )  # fmt: skip
    console.print(table)
