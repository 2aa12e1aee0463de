"""``simlab compare``: arms x paired replicates, and the summary table it prints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from simlab import db as database
from simlab.cli.app import (
    AddressOption,
    DbOption,
    ExecutorOption,
    app,
    check_jobs,
    console,
    lazy_progress,
)
from simlab.errors import InputError


def _fmt(value: float, digits: int = 3) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"


def print_summary(summary, out: Console = console) -> None:
    """Print a comparison summary frame: per metric, each arm's mean and difference with CIs."""
    from rich.table import Table

    for key, rows in summary.groupby("key", sort=False):
        table = Table(title=key, title_justify="left")
        for column in ("arm", "mean", "95% CI", "diff vs " + rows.iloc[0]["arm"], "95% CI"):
            table.add_column(column)
        for row in rows.itertuples():
            table.add_row(
                row.arm,
                _fmt(row.mean),
                f"[{_fmt(row.ci_low)}, {_fmt(row.ci_high)}]",
                _fmt(row.diff),
                f"[{_fmt(row.diff_low)}, {_fmt(row.diff_high)}]",
            )
        out.print(table)


def _spec(feeds, arm, feed_param, replicates, populations, seed, shared):
    from simlab import compare as comparisons
    from simlab.params import validate

    if feeds is None and not arm:
        raise InputError("compare: give --feeds A,B,... or --arm NAME=FEED (repeatable)")
    if feeds is not None and arm:
        raise InputError("compare: give --feeds or --arm, not both")
    values = {"replicates": replicates, "populations": populations, "seed": seed, "run": shared}
    if arm:
        if feed_param:
            raise InputError("--feed-param: with --arm, give parameters as NAME=FEED:K=V,...")
        values["arms"] = [comparisons.parse_arm(a) for a in arm]
    else:
        values["feeds"] = [f.strip() for f in feeds.split(",") if f.strip()]
        values["feed_params"] = comparisons.parse_feed_params(feed_param or [])
    return validate(comparisons.CompareConfig, values, "compare")


@app.command("compare")
def compare_command(
    feeds: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated feed algorithms, one arm each; the first is the baseline."
        ),
    ] = None,
    arm: Annotated[
        list[str] | None,
        typer.Option(
            "--arm",
            help="NAME=FEED[:K=V,...], repeatable; the first is the baseline. A feed may repeat "
            "(other parameters, or an A/A test with seed_stream=1).",
        ),
    ] = None,
    turns: Annotated[int | None, typer.Option(help="Turns per run.")] = None,
    replicates: Annotated[
        int, typer.Option(help="Runs per arm and population (paired seeds).")
    ] = 3,
    populations: Annotated[
        int,
        typer.Option(
            help="Populations drawn (synthetic: regenerated with seeds s..s+P-1; imported: "
            "bootstrap resamples); intervals are over populations."
        ),
    ] = 1,
    agents: Annotated[int | None, typer.Option(help="First N agents [default: all].")] = None,
    seed: Annotated[int, typer.Option(help="Root seed of the replicates.")] = 0,
    jobs: Annotated[
        int | None, typer.Option(help="Parallel processes [default: CPU count].")
    ] = None,
    feed_param: Annotated[
        list[str] | None, typer.Option("--feed-param", help="FEED.KEY=VALUE, repeatable.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="TOML run settings shared by all runs.")
    ] = None,
    resume: Annotated[
        str | None,
        typer.Option(
            "--resume", help="COMPARISON_ID: run only its missing, failed or stale cells."
        ),
    ] = None,
    executor: ExecutorOption = "local",
    address: AddressOption = None,
    db: DbOption = None,
) -> None:
    """Run arms on the same populations and seeds, then print differences with CIs."""
    from simlab import analytics
    from simlab import compare as comparisons
    from simlab import config as run_config
    from simlab.analytics.summary import estimator_note
    from simlab.executors import ExecutorChoice

    check_jobs(jobs)
    where = ExecutorChoice(executor, address)
    if resume is None:
        shared = run_config.read_toml(config) if config else {}
        for key, value in (("turns", turns), ("agents", agents)):
            if value is not None:
                shared[key] = value
        spec = _spec(feeds, arm, feed_param, replicates, populations, seed, shared)
        total_turns = spec.total_turns()  # validates every run before anything is written
    database.make_engine(db, must_exist=True).dispose()  # schema guard before any output
    if resume is None:
        console.print(f"comparison: {comparisons.describe(spec)}")
    with lazy_progress() as (bar, update):
        overall = bar.add_task("all runs", total=total_turns if resume is None else None)
        tasks: dict[str, int] = {}
        done_by_run: dict[str, int] = {}

        def on_progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            update(tasks[label], completed=done)
            done_by_run[label] = done
            update(overall, completed=sum(done_by_run.values()))

        try:
            if resume is None:
                result = comparisons.compare(
                    spec, db, jobs=jobs, on_progress=on_progress, executor=where
                )
            else:
                result = comparisons.resume_comparison(
                    resume, db, jobs=jobs, on_progress=on_progress, executor=where
                )
        except comparisons.Interrupted as stop:
            bar.stop()
            Console(stderr=True).print(stop.message, highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
    for (name, replicate), error in result.failures.items():
        console.print(
            f"[red]run {result.run_ids[(name, replicate)]} ({name} #{replicate}) failed:[/] {error}"
        )
    con = analytics.connect(db)
    summary = analytics.comparison_summary(con, comparison_id=result.comparison_id)
    print_summary(summary)
    console.print(estimator_note(summary))
    console.print(f"comparison id: {result.comparison_id}")
    if result.failures:
        raise typer.Exit(1)
