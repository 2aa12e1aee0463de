"""``simlab compare``: arms x paired replicates, and the summary table it prints."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from simlab import db as database
from simlab.cli.app import DbOption, app, check_jobs, console, lazy_progress


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


@app.command("compare")
def compare_command(
    feeds: Annotated[
        str, typer.Option(help="Comma-separated feed algorithms; the first is the baseline.")
    ],
    turns: Annotated[int | None, typer.Option(help="Turns per run.")] = None,
    replicates: Annotated[int, typer.Option(help="Runs per arm (paired seeds).")] = 3,
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
    db: DbOption = None,
) -> None:
    """Run several feeds on the same population and seeds, then print differences with CIs."""
    from simlab import analytics
    from simlab import compare as comparisons
    from simlab import config as run_config
    from simlab.params import validate

    shared = run_config.read_toml(config) if config else {}
    for key, value in (("turns", turns), ("agents", agents)):
        if value is not None:
            shared[key] = value
    check_jobs(jobs)
    spec = validate(
        comparisons.CompareConfig,
        {
            "feeds": [f.strip() for f in feeds.split(",") if f.strip()],
            "replicates": replicates,
            "seed": seed,
            "feed_params": comparisons.parse_feed_params(feed_param or []),
            "run": shared,
        },
        "compare",
    )
    total_turns = spec.total_turns()  # validates every run before anything is written
    database.make_engine(db, must_exist=True).dispose()  # schema guard before any output
    console.print(f"comparison: {comparisons.describe(spec)}")
    with lazy_progress() as (bar, update):
        overall = bar.add_task("all runs", total=total_turns)
        tasks: dict[str, int] = {}
        done_by_run: dict[str, int] = {}

        def on_progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            update(tasks[label], completed=done)
            done_by_run[label] = done
            update(overall, completed=sum(done_by_run.values()))

        result = comparisons.compare(spec, db, jobs=jobs, on_progress=on_progress)
    for (arm, replicate), error in result.failures.items():
        console.print(
            f"[red]run {result.run_ids[(arm, replicate)]} ({arm} #{replicate}) failed:[/] {error}"
        )
    con = analytics.connect(db)
    print_summary(analytics.comparison_summary(con, comparison_id=result.comparison_id))
    console.print(f"comparison id: {result.comparison_id}")
    if result.failures:
        raise typer.Exit(1)
