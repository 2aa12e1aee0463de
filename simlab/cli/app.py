"""The top-level typer app, its shared options, and helpers every command group uses."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from simlab import db as database
from simlab.errors import InputError

app = typer.Typer(
    help="simlab: agent-based social-media simulation with recorded feeds.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Create, migrate and check the simlab database.", no_args_is_help=True)
app.add_typer(db_app, name="db")

console = Console()
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLite path or SQLAlchemy URL [default: $SIMLAB_DB or data/simlab.db]"
    ),
]
ExecutorOption = Annotated[
    str,
    typer.Option(
        help="Where runs execute: local (worker processes) or ray (Ray tasks; a private local "
        "Ray unless --address)."
    ),
]
AddressOption = Annotated[
    str | None,
    typer.Option(help="Ray cluster address (auto, ray://HOST:10001, HOST:6379); --executor ray."),
]
SCHEMA_DOC = Path("docs") / "db" / "schema.md"
# What a report or a figure set shows: a comparison, or loose runs.
ComparisonOption = Annotated[str | None, typer.Option(help="Comparison id [default: the latest].")]
RunsOption = Annotated[
    str | None, typer.Option(help="Comma-separated run ids instead of a comparison.")
]


def run_id_list(runs: str | None) -> list[str]:
    """The run ids of a comma-separated ``--runs`` value (empty when not given)."""
    return [r.strip() for r in runs.split(",") if r.strip()] if runs else []


def main() -> None:
    """Console entry point: bad input becomes a one-line error and exit code 2."""
    try:
        app()
    except InputError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


@contextmanager
def lazy_progress():
    """A rich progress display that appears on its first update.

    Bad input is found before the first turn finishes, so it stays a one-line error.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )

    def update(task, **fields) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, **fields)

    try:
        yield bar, update
    finally:
        bar.stop()


MAX_JOBS = 256


def check_jobs(jobs: int | None) -> None:
    """Refuse a ``--jobs`` outside [1, MAX_JOBS]."""
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise InputError(f"--jobs: must be between 1 and {MAX_JOBS}, got {jobs}")


def shown(db: str | None) -> str:
    """The database as printed: its path, or its URL with the password masked."""
    return database.display_url(database.resolve_url(db))
