"""``simlab sweep`` (a grid of runs, resumable, local or on Ray) and ``simlab merge`` (shards)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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

MAX_RETRIES = 100


def read_sweep_config(path: Path):
    """The validated sweep config in TOML file ``path``.

    Raises:
        InputError: unreadable TOML, a field that is not allowed or out of range, or a
            cell whose run settings are invalid.
    """
    from simlab.config import read_toml
    from simlab.sweep.config import parse

    return parse(read_toml(path), f"sweep config {path}")


def print_failures(result, out: Console = console) -> None:
    """A table of the cells that failed every attempt: settings, attempts, last error."""
    from rich.table import Table

    from simlab.sweep.config import describe_settings

    table = Table(title=f"failed cells of sweep {result.sweep_id}", title_justify="left")
    for column in ("cell", "run", "settings", "attempts", "last error"):
        table.add_column(column)
    for cell, errors in sorted(result.failures.items()):
        settings = describe_settings(result.settings[cell])
        table.add_row(str(cell), result.run_ids[cell], settings, str(len(errors)), errors[-1])
    out.print(table)


@app.command("sweep")
def sweep_command(
    config: Annotated[
        Path | None, typer.Argument(help="Sweep config TOML (grid, replicates, run settings).")
    ] = None,
    resume: Annotated[
        str | None, typer.Option("--resume", help="SWEEP_ID: run only its unfinished cells.")
    ] = None,
    retries: Annotated[int, typer.Option(help="Extra attempts for a failed cell.")] = 0,
    jobs: Annotated[int | None, typer.Option(help="Cells at once (default: CPU count).")] = None,
    shards: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the per-cell SQLite shards (default: DB.shards next to --db)."
        ),
    ] = None,
    executor: ExecutorOption = "local",
    address: AddressOption = None,
    db: DbOption = None,
) -> None:
    """Run a grid of runs (feeds x parameters x populations x replicates) and merge the rows."""
    import os

    from simlab import sweep as sweeps
    from simlab.executors import ExecutorChoice

    check_jobs(jobs)
    if not 0 <= retries <= MAX_RETRIES:
        raise InputError(f"--retries: must be between 0 and {MAX_RETRIES}, got {retries}")
    if (config is None) == (resume is None):
        raise InputError("sweep: give CONFIG.toml or --resume SWEEP_ID (one of them)")
    where = ExecutorChoice(executor, address)
    jobs = jobs or os.cpu_count() or 1
    spec = read_sweep_config(config) if config is not None else None
    if spec is not None:
        console.print(f"sweep: {spec.size()} cells on {where.name}")
    with lazy_progress() as (bar, update):
        task = bar.add_task("cells", total=None)

        def on_progress(done: int, running: int, failed: int, total: int) -> None:
            update(
                task,
                total=total,
                completed=done,
                description=f"cells: {done} done, {running} running, {failed} failed",
            )

        try:
            if spec is not None:
                result = sweeps.sweep(spec, db, jobs, retries, where, shards, on_progress)
            else:
                result = sweeps.resume_sweep(resume, db, jobs, retries, where, on_progress)
        except sweeps.Interrupted as stop:
            bar.stop()
            Console(stderr=True).print(stop.message, highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
    added = sum(m.added for m in result.merged)
    if result.merged:
        console.print(f"merged {len(result.merged)} shards: {added} rows added")
    done = len(result.run_ids) - len(result.failures)
    console.print(f"sweep {result.sweep_id}: {done} of {len(result.run_ids)} cells completed")
    if result.failures:
        print_failures(result)
        console.print(f"finish it with `simlab sweep --resume {result.sweep_id}`")
        raise typer.Exit(1)


@app.command("merge")
def merge_command(
    paths: Annotated[list[Path], typer.Argument(help="Shard files, or folders of shards.")],
    db: DbOption = None,
) -> None:
    """Merge per-cell SQLite shards into the database (idempotent; conflicting ids refused)."""
    from simlab.sweep import merge_shards

    merged = merge_shards(paths, db)
    for item in merged:
        left = f", {item.left_out} unfinished runs left out" if item.left_out else ""
        console.print(f"{item.shard}: {len(item.runs)} runs, {item.added} rows added{left}")
    console.print(
        f"merged {len(merged)} shards: {sum(m.added for m in merged)} rows added, "
        f"{sum(len(m.runs) for m in merged)} runs"
    )
