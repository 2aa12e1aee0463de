"""``simlab doctor|demo|notebook|report``: the environment and the workbench."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from simlab import db as database
from simlab.cli.app import (
    ComparisonOption,
    DbOption,
    RunsOption,
    app,
    check_jobs,
    console,
    lazy_progress,
    run_id_list,
)
from simlab.cli.compare_commands import print_summary
from simlab.errors import InputError


@app.command("doctor")
def doctor(db: DbOption = None) -> None:
    """Print versions, the database path, its schema revision and how DuckDB reads it."""
    import platform
    from importlib.metadata import version

    from sqlalchemy import text

    import simlab

    console.print(f"simlab {simlab.__version__} on Python {platform.python_version()}")
    packages = ("duckdb", "marimo", "sqlalchemy", "alembic", "altair", "pandas", "numpy")
    console.print("  " + ", ".join(f"{name} {version(name)}" for name in packages))
    from simlab import housekeeping

    url = database.resolve_url(db)
    path = database.sqlite_path(url)
    console.print(f"database: {database.display_url(url)}", highlight=False)
    if path is not None and not path.exists():
        console.print("  does not exist yet: run `simlab init` or `simlab db upgrade`")
        return
    engine = database.make_engine(db, must_exist=True, require_current=False)
    revision = database.current_revision(engine)
    head = database.head_revision()
    console.print(
        f"  schema revision: {revision or 'none'} ({'head' if revision == head else f'head is {head}'})"
    )
    try:
        database.require_head(engine)
    except InputError as exc:
        console.print(f"  {str(exc).removeprefix('--db: ')}", highlight=False)
        return
    with engine.connect() as connection:
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            for table in ("agent", "feed_posts", "runs", "comparisons")
        }
        stale = housekeeping.stale_runs(connection)
        empty = housekeeping.empty_comparisons(connection)
    console.print("  " + ", ".join(f"{n} {table}" for table, n in counts.items()))
    from simlab.population.timeline import source_windows

    for window in source_windows(engine):
        console.print(
            f"  posts from {window.source}: {window.posts}, {window.first} .. {window.last}",
            highlight=False,
        )
    for label, ids, fix in (
        ("stale runs (writer gone)", stale, "`simlab resume RUN_ID` or `simlab rm RUN_ID`"),
        ("empty comparisons", empty, "`simlab rm --comparison ID`"),
    ):
        if ids:
            console.print(f"  {label}: {', '.join(ids)}; fix: {fix}", highlight=False)
    postgres = database.is_postgres(url)
    if path is None and not postgres:
        return  # DuckDB analytics read SQLite files and PostgreSQL only
    from simlab import analytics

    con = analytics.connect(db)
    console.print(
        f"duckdb reads {'postgresql' if postgres else 'sqlite'} via: {analytics.access_method(con)}"
    )
    con.close()


@app.command("demo")
def demo(
    jobs: Annotated[
        int | None, typer.Option(help="Parallel processes [default: CPU count].")
    ] = None,
    llm: Annotated[
        bool, typer.Option("--llm", help="LLM agents on the embedded model (data/demo-llm.db).")
    ] = False,
) -> None:
    """Build data/demo.db, compare four feeds, write reports/demo/ and print the headlines."""
    from simlab import demo as walkthrough

    check_jobs(jobs)
    sized = {}
    if llm:  # one embedded model per run: one run at a time on a laptop
        sized = dict(db=walkthrough.DEMO_LLM_DB, out=walkthrough.DEMO_LLM_REPORT, jobs=jobs or 1,
                     population=walkthrough.DEMO_LLM_POPULATION,
                     comparison=walkthrough.DEMO_LLM_COMPARISON)  # fmt: skip
    with lazy_progress() as (bar, update):
        tasks: dict[str, int] = {}

        def on_progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            update(tasks[label], completed=done)

        result = walkthrough.run_demo(
            **{"jobs": jobs, **sized}, on_progress=on_progress, say=console.print
        )
    from rich.markdown import Markdown

    from simlab.analytics import headline

    print_summary(result.summary)
    console.print(Markdown(headline(result.summary)))
    console.print(f"\nreport: {result.report} (one file: open it in a browser)")
    console.print(
        f"notebooks: uv run simlab notebook compare_feeds --db {result.db}\n"
        f"           uv run simlab notebook explore_run --db {result.db}\n"
        f"           uv run simlab notebook new_experiment --db {result.db}"
    )


@app.command("notebook")
def notebook(
    name: Annotated[
        str,
        typer.Argument(help="compare_feeds, explore_run, live_experiment, new_experiment, ..."),
    ],
    comparison: Annotated[str | None, typer.Option(help="Comparison to open with.")] = None,
    runs: Annotated[str | None, typer.Option(help="Comma-separated run ids to open with.")] = None,
    edit: Annotated[
        bool, typer.Option("--edit", help="Open marimo's editor instead of the app view.")
    ] = False,
    port: Annotated[
        int | None, typer.Option(help="Port on 127.0.0.1 [default: a free one].")
    ] = None,
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = False,
    db: DbOption = None,
) -> None:
    """Serve a notebook as an app (code hidden, read-only) on 127.0.0.1; print its URL with token."""
    from simlab.notebook_launch import open_notebook

    if port is not None and not 1 <= port <= 65535:
        raise InputError(f"--port: must be between 1 and 65535, got {port}")
    run_ids = run_id_list(runs)
    code = open_notebook(
        name, db, say=lambda line: console.print(line, highlight=False, soft_wrap=True),
        port=port, comparison=comparison, runs=run_ids, headless=headless, edit=edit,
    )  # fmt: skip
    raise typer.Exit(code)


@app.command("report")
def report(
    comparison: ComparisonOption = None,
    runs: RunsOption = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: reports/<id>/].")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty --out that is not a report.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Write report.html (one file, opens from file://), the notebook's HTML, charts and a CSV."""
    from simlab.report import write_report

    if comparison and runs:
        raise InputError("--comparison and --runs are alternatives; give one")
    run_ids = run_id_list(runs) or None
    progress = Console(stderr=True, highlight=False)
    result = write_report(
        db, out, comparison_id=comparison, run_ids=run_ids, force=force, say=progress.print
    )
    console.print(
        f"wrote {result.html} (one file: open it in a browser, no server needed), "
        f"{len(result.charts)} charts as PNG, SVG and PDF, {result.summary_csv.name}",
        highlight=False,
    )
    console.print(
        f"the notebook page: python -m http.server --bind 127.0.0.1 -d {result.out_dir} "
        f"then http://127.0.0.1:8000/{result.interactive.name}",
        highlight=False,
    )
