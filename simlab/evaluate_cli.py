"""The ``simlab evaluate`` command, mounted in :mod:`simlab.cli` (imports stay inside it)."""

from __future__ import annotations

from typing import Annotated

import typer


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
    llm_base_url: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible endpoint for llm_judge [default: the embedded model]."
        ),
    ] = None,
    llm_model: Annotated[
        str | None, typer.Option(help="Model name sent to the endpoint [default: embedded].")
    ] = None,
    llm_api_key_env: Annotated[
        str | None, typer.Option(help="Name of the environment variable holding the API key.")
    ] = None,
    llm_cache: Annotated[str, typer.Option(help="LLM response cache: record, replay or off.")] = (
        "record"
    ),
    llm_max_tokens: Annotated[int, typer.Option(help="Longest judge answer, in tokens.")] = 300,
    llm_prompt_price: Annotated[float, typer.Option(help="USD per 1M prompt tokens.")] = 0.0,
    llm_completion_price: Annotated[
        float, typer.Option(help="USD per 1M completion tokens.")
    ] = 0.0,
    budget_tokens: Annotated[
        int | None, typer.Option(help="Token budget of this command (prompt + completion).")
    ] = None,
    budget_cost: Annotated[float | None, typer.Option(help="Cost budget (USD).")] = None,
    budget_alert: Annotated[float, typer.Option(help="Alert at this fraction of a budget.")] = 0.8,
    budget_action: Annotated[
        str, typer.Option(help="At the budget: warn (record, go on) or block (stop).")
    ] = "warn",
    concurrency: Annotated[int, typer.Option(help="Parallel LLM requests.")] = 8,
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
    options = validate(EvaluatorOptions, values, "evaluate")
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
