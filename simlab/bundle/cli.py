"""``simlab export`` and ``simlab import bundle``, registered on simlab's typer apps.

:func:`register` is called once from :mod:`simlab.cli` with the top-level app,
the ``import`` sub-app and the shared ``--db`` option type. (No
``from __future__ import annotations`` here: typer reads the option types
from the closures' signatures.)
"""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def _rows_table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for index, name in enumerate(columns):
        table.add_column(name, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*(str(value) for value in row))
    return table


def register(app: typer.Typer, import_app: typer.Typer, db_option: Any) -> None:
    """Add ``export`` to ``app`` and ``bundle`` to ``import_app``."""

    @app.command("export")
    def export_command(
        out: Annotated[Path, typer.Option(help="New folder to write the bundle into.")],
        run_ids: Annotated[
            list[str] | None,
            typer.Argument(metavar="RUN_ID", help="Run ids to export (or use --comparison)."),
        ] = None,
        comparison: Annotated[
            str | None, typer.Option(help="Export this comparison and all its runs.")
        ] = None,
        db: db_option = None,
    ) -> None:
        """Write runs (or a comparison) as Parquet per table + configs + a sha256 manifest."""
        from simlab.bundle import export_bundle

        done = export_bundle(db, out, run_ids=run_ids or (), comparison_id=comparison)
        rows = [[name, count] for name, count in done.rows.items()]
        console.print(_rows_table(f"bundle {done.folder}", ["table", "rows"], rows))
        console.print(
            f"wrote {len(done.selection.run_ids)} runs, {sum(done.rows.values())} rows, "
            f"{done.bytes / 1e6:.2f} MB to {done.folder}"
        )

    @import_app.command("bundle")
    def import_bundle_command(
        folder: Annotated[Path, typer.Argument(help="A folder written by `simlab export`.")],
        db: db_option = None,
    ) -> None:
        """Verify a bundle's manifest and merge its rows (importing twice adds nothing)."""
        from simlab.bundle import import_bundle

        done = import_bundle(folder, db)
        rows = [[name, done.added[name], done.present[name]] for name in done.added]
        console.print(_rows_table(f"bundle {folder}", ["table", "added", "already there"], rows))
        console.print(
            f"imported {len(done.manifest.run_ids)} runs: {sum(done.added.values())} rows added, "
            f"{sum(done.present.values())} already there"
        )
