"""The top-level typer app, its shared options, and helpers every command group uses."""

from __future__ import annotations

import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich import markup as rich_markup
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


# Options whose None means "the run config's value": where that value lives in a default
# RunConfig (with an llm block), as (attribute path) or the llm policy's params.
CONFIG_DEFAULTS = {
    "--feed": "feed.name", "--turns": "turns", "--seed": "seed", "--policy": "policy.name",
    "--opinion": "opinion.name", "--llm-model": "llm.model", "--llm-cache": "llm.cache",
    "--llm-max-tokens": "llm.sampling.max_tokens", "--llm-concurrency": "llm.concurrency",
    "--budget-alert": "llm.budget.alert", "--budget-action": "llm.budget.action",
    "--llm-share": "llm_policy.share", "--metrics": "all",
}  # fmt: skip
_STATED = re.compile(r"[\[(]default:", re.IGNORECASE)


def _config_default(option: str) -> str:
    """The value a run uses for ``option`` when neither the flag nor a --config sets it."""
    from simlab.config import RunConfig
    from simlab.llm.settings import LLMSettings
    from simlab.policies import POLICIES

    path = CONFIG_DEFAULTS[option]
    if path == "all":
        return "all"
    roots = {"llm": LLMSettings(), "llm_policy": POLICIES.get("llm").params()}
    head, *rest = path.split(".")
    value = roots[head] if head in roots else getattr(RunConfig(), head)
    for name in rest:
        value = getattr(value, name)
    return str(value)


def show_defaults(command) -> None:
    """Make every option's help line of ``command`` (and its subcommands) show its default.

    rich markup would eat a ``[default: ...]`` written in a help text, so brackets are
    escaped; a flag shows ``[default: off]``; an option whose None means "the run
    config's value" shows that value (:data:`CONFIG_DEFAULTS`), any other None ``none``.
    Other defaults typer shows itself.
    """
    for sub in getattr(command, "commands", {}).values():
        show_defaults(sub)
    names = {param.opts[0] for param in command.params if getattr(param, "opts", None)}
    for param in command.params:
        if not hasattr(param, "show_default") or param.name == "help" or param.required:
            continue
        text = param.help or ""
        if _STATED.search(text):
            stated = None
        elif getattr(param, "is_flag", False) and not param.default:
            stated = "off"
        elif param.default is None and param.opts[0] in CONFIG_DEFAULTS:
            config = ", or the --config file's" if "--config" in names else ""
            stated = _config_default(param.opts[0]) + config
        elif param.default is None:
            stated = "none"
        else:
            continue  # typer shows it
        if stated is not None:
            text = f"{text.rstrip()} [default: {stated}]"
        param.help, param.show_default = rich_markup.escape(text), False


def _asks_for_help(argv: list[str]) -> bool:
    return "--help" in argv or not argv


def main() -> None:
    """Console entry point: bad input becomes a one-line error and exit code 2."""
    import typer.main

    try:
        command = typer.main.get_command(app)
        if _asks_for_help(sys.argv[1:]):
            show_defaults(command)
        command()
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
