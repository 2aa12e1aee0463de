"""``simlab db ...``: create, migrate, check and document the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simlab import db as database
from simlab.cli.app import SCHEMA_DOC, DbOption, console, db_app


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
    engine = database.make_engine(db, must_exist=True, require_current=False)
    database.downgrade(engine, revision)
    console.print(
        f"{engine.url.render_as_string()} is at {database.current_revision(engine) or 'base'}"
    )


@db_app.command("current")
def db_current(db: DbOption = None) -> None:
    """Print the database's migration revision (and whether it is the head)."""
    revision = database.current_revision(db)
    head = database.head_revision()
    if revision == head:
        state = "head"
    elif revision is None or revision in database.known_revisions():
        state = f"behind head {head}"
    else:
        state = f"unknown to this simlab, whose head is {head}"
    console.print(f"{revision or 'base (empty)'} ({state})")


@db_app.command("check")
def db_check() -> None:
    """Fail when schema.py and the migrations disagree (check constraints included)."""
    from simlab.schema_check import find_differences

    problems = find_differences()
    if problems:
        for problem in problems:
            console.print(f"schema mismatch: {problem}", highlight=False)
        raise typer.Exit(1)
    console.print("schema check passed: schema.py matches the migrations at head")


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
