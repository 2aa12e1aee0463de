"""The ``simlab`` command line (typer). Commands parse flags and call into simlab."""

from __future__ import annotations

import sys
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
SCHEMA_DOC = Path("docs") / "db" / "schema.md"


def main() -> None:
    """Console entry point: bad input becomes a one-line error and exit code 2."""
    try:
        app()
    except InputError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head", db: DbOption = None) -> None:
    """Create or upgrade the database to REVISION (default: head)."""
    database.check_revision(revision)
    engine = database.make_engine(db)
    database.migrate(engine, revision)
    console.print(f"{engine.url.render_as_string()} is at {database.current_revision(engine)}")


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument()], db: DbOption = None) -> None:
    """Downgrade the database to REVISION (``base`` removes every simlab table)."""
    database.check_revision(revision)
    engine = database.make_engine(db, must_exist=True)
    database.downgrade(engine, revision)
    console.print(
        f"{engine.url.render_as_string()} is at {database.current_revision(engine) or 'base'}"
    )


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Print the database's migration revision (and whether it is the head)."""
    revision = database.current_revision(db)
    head = database.head_revision()
    state = "head" if revision == head else f"behind head {head}"
    console.print(f"{revision or 'base (empty)'} ({state})")


@db_app.command("check")
def db_check() -> None:
    """Fail when schema.py and the migrations disagree (check constraints included)."""
    from simlab.drift import find_drift

    problems = find_drift()
    if problems:
        for problem in problems:
            console.print(f"drift: {problem}", highlight=False)
        raise typer.Exit(1)
    console.print("no drift: schema.py matches the migrations at head")


@db_app.command("schema-doc")
def db_schema_doc(
    out: Annotated[Path, typer.Option(help="Where to write the Markdown doc.")] = SCHEMA_DOC,
    check: Annotated[
        bool, typer.Option("--check", help="Only check that OUT is up to date.")
    ] = False,
) -> None:
    """Write the schema doc (Mermaid ER diagram + per-table sections) from a fresh database."""
    from simlab.schema_doc import render_fresh

    text = render_fresh()
    if check:
        if not out.is_file() or out.read_text() != text:
            console.print(f"{out} is stale: run `simlab db schema-doc --out {out}`")
            raise typer.Exit(1)
        console.print(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    console.print(f"wrote {out}")
