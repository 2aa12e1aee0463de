"""``simlab validate``: the built-in validation suite, printed as a table."""

from __future__ import annotations

from typing import Annotated

import typer

from simlab.cli.app import app, console


@app.command("validate")
def validate_command(
    fast: Annotated[
        bool, typer.Option("--fast", help="Smaller runs (the subset the test suite runs).")
    ] = False,
) -> None:
    """Reproduce published results (opinion models, A/A coverage, feed-ranking field studies).

    Prints check | published result | simlab | pass; exits 0 when every check
    passes and 1 when any fails.
    """
    from rich.table import Table

    from simlab import validate

    rows = validate.run(fast=fast)
    table = Table("check", "published result", "simlab", "pass", title="simlab validate")
    for row in rows:
        table.add_row(
            row.check, row.published, row.simlab, "[green]yes[/]" if row.passed else "[red]no[/]"
        )
    console.print(table)
    failed = [row.key for row in rows if not row.passed]
    console.print(
        f"{len(rows) - len(failed)} of {len(rows)} checks pass"
        + (f"; failing: {', '.join(failed)}" if failed else "")
    )
    if failed:
        raise typer.Exit(1)
