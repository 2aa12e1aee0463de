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
        str | None, typer.Option(help="OpenAI-compatible endpoint for llm_judge.")
    ] = None,
    llm_model: Annotated[str, typer.Option(help="Model name sent to the endpoint.")] = "default",
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
    from simlab.evaluators.base import EvaluatorOptions
    from simlab.evaluators.chat import EndpointError
    from simlab.evaluators.pipeline import build_scorers, evaluate, resolve_runs
    from simlab.evaluators.targets import parse_targets
    from simlab.params import validate

    engine = make_engine(db, must_exist=True)
    runs = resolve_runs(engine, run_ids or [], comparison)
    chosen_targets = parse_targets(targets, engine)
    options = validate(
        EvaluatorOptions,
        {"llm_base_url": llm_base_url, "llm_model": llm_model, "concurrency": concurrency},
        "evaluate",
    )
    scorers = build_scorers(evaluator, options)
    console = Console()
    with lazy_progress() as (bar, update):
        tasks: dict[str, int] = {}

        def on_progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            update(tasks[label], completed=done, total=total)

        try:
            summaries = evaluate(engine, runs, scorers, chosen_targets, batch_size, on_progress)
        except EndpointError as exc:
            Console(stderr=True).print(
                f"[bold red]error:[/] {exc}; committed batches are kept, re-run to resume",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None
    table = Table(box=None, padding=(0, 1))
    for column in ("evaluator", "version", "target", "scored", "failed", "already", "history"):
        table.add_column(column, overflow="fold")
    for s in summaries:
        table.add_row(
            s.evaluator, s.version, s.target, str(s.scored), str(s.failed), str(s.already),
            str(s.history_rows),
        )  # fmt: skip
    console.print(table)
