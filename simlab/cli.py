"""The ``simlab`` command line (typer). Commands parse flags and call into simlab."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from simlab import db as database
from simlab.bundle.cli import register as register_bundle_commands
from simlab.errors import InputError
from simlab.evaluate_cli import evaluate as evaluate_command

app = typer.Typer(
    help="simlab: agent-based social-media simulation with recorded feeds.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Create, migrate and check the simlab database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(__import__("simlab.llm.cli", fromlist=["app"]).app)  # llm serve, usage

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


# --------------------------------------------------------------------------
# Populations
# --------------------------------------------------------------------------

import_app = typer.Typer(help="Import a population from real data.", no_args_is_help=True)
app.add_typer(import_app, name="import")
register_bundle_commands(app, import_app, DbOption)  # simlab export, simlab import bundle


OnDuplicateOption = Annotated[
    str,
    typer.Option(
        "--on-duplicate", help="Rows seen before: error, skip (keep the stored row) or update."
    ),
]


def _shown(db: str | None) -> str:
    """The database as printed: its path, or its URL with the password masked."""
    return database.display_url(database.resolve_url(db))


def _overlap_warning(engine) -> str | None:
    """A one-line warning when the population's sources do not overlap in time."""
    from simlab.population.timeline import source_windows

    spans = sorted(source_windows(engine), key=lambda w: w.first)
    gaps = [(a, b) for a, b in zip(spans, spans[1:], strict=False) if a.last < b.first]
    if not gaps:
        return None
    a, b = gaps[0]
    return (
        f"warning: {a.source} posts ({a.first[:10]}..{a.last[:10]}) end before {b.source} "
        f"posts ({b.first[:10]}..{b.last[:10]}) begin; feeds of the newest posts will "
        "serve one source only (see `simlab doctor`)"
    )


def _print_import(db: str | None, summary, warning: str | None) -> None:
    """The one-line summary, then the time-overlap warning if there is one."""
    console.print(f"{_shown(db)}: {summary}", highlight=False, soft_wrap=True)
    if warning:
        console.print(warning, highlight=False, soft_wrap=True)


@app.command("init")
def init(
    agents: Annotated[int, typer.Option(help="Number of agents.")] = 1000,
    posts: Annotated[int, typer.Option(help="Number of posts.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed of the population.")] = 0,
    start: Annotated[
        str | None,
        typer.Option(
            help="ISO 8601 time of the first synthetic post [default: the first imported post, "
            "else 2026-01-05T00:00:00+00:00]."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Create (or upgrade) the database and fill it with a synthetic population."""
    from simlab.params import validate
    from simlab.population import SyntheticConfig, create_synthetic
    from simlab.population.timeline import imported_start
    from simlab.staging import population_target

    values: dict = {"agents": agents, "posts": posts, "seed": seed}
    if start is not None:
        values["start"] = start
    config = validate(SyntheticConfig, values, "init")  # bad input: nothing is written
    with population_target(db) as engine:
        aligned = imported_start(engine) if start is None else None
        if aligned is not None:
            config = validate(SyntheticConfig, {**values, "start": aligned.isoformat()}, "init")
        summary = create_synthetic(engine, config)
        warning = _overlap_warning(engine)
    if aligned is not None:
        console.print(f"synthetic posts start at the first imported post: {aligned.isoformat()}")
    _print_import(db, summary, warning)


@import_app.command("bluesky")
def import_bluesky(
    files: Annotated[
        list[Path],
        typer.Argument(help="getProfile(s) / getAuthorFeed / getTimeline / getPostThread JSON."),
    ],
    on_duplicate: OnDuplicateOption = "skip",
    labels: Annotated[
        str,
        typer.Option(help="Posts with hiding moderation labels: exclude (not served) or serve."),
    ] = "exclude",
    db: DbOption = None,
) -> None:
    """Import Bluesky profiles, feeds and threads (public API JSON) as agents and posts."""
    from simlab.population import import_bluesky as run_import
    from simlab.staging import population_target

    with population_target(db) as engine:
        summary = run_import(engine, files, on_duplicate=on_duplicate, labels=labels)
        warning = _overlap_warning(engine)
    _print_import(db, summary, warning)


@import_app.command("sqlite")
def import_sqlite(
    path: Annotated[Path, typer.Argument(help="A SQLite database with the seed tables.")],
    on_duplicate: OnDuplicateOption = "skip",
    db: DbOption = None,
) -> None:
    """Import bluesky_profiles, feed_posts and agent_bios from another simlab-schema database."""
    from simlab.population import import_sqlite as run_import
    from simlab.staging import population_target

    with population_target(db) as engine:
        summary = run_import(engine, path, on_duplicate=on_duplicate)
        warning = _overlap_warning(engine)
    _print_import(db, summary, warning)


@import_app.command("oasis")
def import_oasis(
    path: Annotated[Path, typer.Argument(help="An OASIS simulation database (SQLite).")],
    step_hours: Annotated[
        float, typer.Option(help="Hours per OASIS time step (numeric created_at).")
    ] = 1.0,
    start: Annotated[
        str, typer.Option(help="ISO 8601 time of OASIS step 0.")
    ] = "2025-01-01T00:00:00+00:00",
    on_duplicate: OnDuplicateOption = "skip",
    db: DbOption = None,
) -> None:
    """Import an OASIS run (user, post, follow, like, dislike, comment, rec, trace)."""
    from datetime import datetime

    from simlab.population.oasis import import_oasis as run_import
    from simlab.staging import population_target

    try:
        moment = datetime.fromisoformat(start.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--start: {start!r} is not an ISO 8601 time") from None
    with population_target(db) as engine:
        summary = run_import(engine, path, step_hours, moment, on_duplicate=on_duplicate)
        warning = _overlap_warning(engine)
    _print_import(db, summary, warning)


# --------------------------------------------------------------------------
# Registries
# --------------------------------------------------------------------------


def _metadata_line(entry) -> str:
    """The entry's registry metadata in one line: label, range, randomness, LLM use, citations."""
    parts = [getattr(entry, "axis_title", None) or getattr(entry, "label", None)]
    if (bounds := getattr(entry, "value_range", None)) is not None:
        parts.append(f"range [{bounds[0]:g}, {bounds[1]:g}]")
    if hasattr(entry, "stochastic"):
        parts.append("stochastic" if entry.stochastic else "deterministic")
    if getattr(entry, "uses_llm", False):
        parts.append("uses an LLM")
    if citations := getattr(entry, "citations", ()):
        parts.append("cites " + ", ".join(citations))
    return " · ".join(part for part in parts if part)


def _print_registry(entries, with_params: bool) -> None:
    """Each entry: its name, metadata, docstring as written (formulas keep their layout), parameters."""
    from textwrap import dedent

    from rich.table import Table

    from simlab.params import parameter_rows

    for entry in entries:
        name = getattr(entry, "name", None) or entry.key
        console.rule(f"[bold]{name}", align="left")
        if metadata := _metadata_line(entry):
            console.print(metadata, highlight=False, markup=False)
        console.print(dedent(entry.doc).strip(), highlight=False, markup=False)
        if with_params:
            table = Table("parameter", "type", "default", "description", box=None, padding=(0, 2))
            for row in parameter_rows(entry.params):
                table.add_row(*(str(cell) for cell in row))
            console.print(table if table.row_count else "(no parameters)")
        console.print()


@app.command("feeds")
def list_feeds() -> None:
    """List the feed algorithms with their formulas and parameters."""
    from simlab.feeds import FEEDS

    _print_registry(FEEDS, with_params=True)


@app.command("policies")
def list_policies() -> None:
    """List the agent policies with their models and parameters."""
    from simlab.policies import POLICIES

    _print_registry(POLICIES, with_params=True)


@app.command("opinions")
def list_opinions() -> None:
    """List the opinion models with their formulas and parameters."""
    from simlab.opinion import OPINIONS

    _print_registry(OPINIONS, with_params=True)


@app.command("metrics")
def list_metrics() -> None:
    """List the turn.* and run.* metrics with their formulas."""
    from simlab.metrics import METRICS

    _print_registry(METRICS, with_params=False)


# --------------------------------------------------------------------------
# Runs
# --------------------------------------------------------------------------


@contextmanager
def _lazy_progress():
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


def _run_with_progress(label: str, start, total_turns: int) -> str:
    """Call ``start(progress_callback)`` with a progress bar over the run's turns."""
    with _lazy_progress() as (bar, update):
        task = bar.add_task(label, total=total_turns)
        return start(lambda done, total: update(task, completed=done, total=total))


def _warn_unserved(engine, resolved) -> None:
    """One line when the run would never offer the posts of a source (time alignment)."""
    from simlab.population import timeline

    feed = resolved.feed  # a chronological feed serves exactly its `size` newest candidates
    pool = feed.size if feed.name == "chronological" else feed.candidate_pool
    sources = timeline.unserved_sources(
        engine, resolved.turns, resolved.turn_hours, resolved.history_share, pool
    )
    line = timeline.unserved_warning(sources, timeline.source_windows(engine))
    if line:
        Console(stderr=True).print(line, highlight=False, soft_wrap=True)


@app.command("run")
def run_command(
    feed: Annotated[str | None, typer.Option(help="Feed algorithm (see `simlab feeds`).")] = None,
    feed_param: Annotated[
        list[str] | None, typer.Option("--feed-param", help="KEY=VALUE, repeatable.")
    ] = None,
    opinion: Annotated[
        str | None, typer.Option(help="Opinion model (see `simlab opinions`).")
    ] = None,
    opinion_param: Annotated[
        list[str] | None, typer.Option("--opinion-param", help="KEY=VALUE, repeatable.")
    ] = None,
    turns: Annotated[int | None, typer.Option(help="Number of turns.")] = None,
    agents: Annotated[int | None, typer.Option(help="First N agents [default: all].")] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    config: Annotated[Path | None, typer.Option(help="TOML run config; flags override it.")] = None,
    metrics: Annotated[
        str | None, typer.Option(help="Comma-separated metric keys or groups.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Run the population under one feed algorithm and print the run id."""
    from simlab import config as run_config
    from simlab import engine as simulation
    from simlab.params import parse_assignments

    values = run_config.read_toml(config) if config else {}
    overrides: dict = {"feed": {}}
    if feed is not None:
        overrides["feed"]["name"] = feed
    if feed_param:
        overrides["feed"]["params"] = parse_assignments(feed_param, "--feed-param")
    if opinion is not None or opinion_param:
        overrides["opinion"] = {"name": opinion} if opinion is not None else {}
        if opinion_param:
            overrides["opinion"]["params"] = parse_assignments(opinion_param, "--opinion-param")
    for key, value in (("turns", turns), ("agents", agents), ("seed", seed)):
        if value is not None:
            overrides[key] = value
    if metrics is not None:
        overrides["metrics"] = [m.strip() for m in metrics.split(",") if m.strip()]
    resolved = run_config.build(run_config.merge(values, overrides))
    engine = database.make_engine(db, must_exist=True)
    _warn_unserved(engine, resolved)
    label = f"{resolved.feed.name} x {resolved.turns} turns"
    run_id = _run_with_progress(
        label,
        lambda progress: simulation.run(resolved, engine, progress=progress),
        resolved.turns,
    )
    console.print(run_id)


@app.command("resume")
def resume_command(
    run_id: Annotated[str, typer.Argument(help="The run to continue.")], db: DbOption = None
) -> None:
    """Continue a failed or interrupted run from its last complete turn."""
    from simlab import engine as simulation
    from simlab.replay import load_run

    engine = database.make_engine(db, must_exist=True)
    config, _, last = load_run(engine, run_id)
    done = _run_with_progress(
        f"resume {run_id} from turn {last + 1}",
        lambda progress: simulation.resume(run_id, engine, progress=progress),
        config.turns,
    )
    console.print(done)


@app.command("runs")
def list_runs(db: DbOption = None) -> None:
    """List the runs in the database."""
    from rich.table import Table
    from sqlalchemy import text

    from simlab.lifecycle import run_states

    engine = database.make_engine(db, must_exist=True)
    with engine.connect() as connection:
        states = run_states(connection)
        rows = connection.execute(
            text(
                "SELECT r.run_id, r.feed_algorithm, r.status, r.total_agents, r.total_turns, "
                "(SELECT count(*) FROM turn_metadata t WHERE t.run_id = r.run_id) AS done, "
                "c.seed, r.created_at FROM runs r LEFT JOIN run_configs c ON c.run_id = r.run_id "
                "ORDER BY r.created_at"
            )
        ).all()
    table = Table(box=None, padding=(0, 1))
    for column in ("run", "feed", "status", "agents", "turns", "seed", "created"):
        table.add_column(column, no_wrap=column in ("run", "feed", "status"))
    for r in rows:
        table.add_row(
            r.run_id, r.feed_algorithm, states[r.run_id], str(r.total_agents),
            f"{r.done}/{r.total_turns}", str(r.seed), r.created_at[:16].replace("T", " "),
        )  # fmt: skip
    console.print(table)


app.command("evaluate")(evaluate_command)


@app.command("rm")
def remove(
    run_ids: Annotated[list[str] | None, typer.Argument(help="Runs to delete.")] = None,
    comparison: Annotated[
        str | None, typer.Option(help="Delete this comparison and all its runs.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Delete runs (or a comparison with its runs) and every row they wrote, atomically."""
    from simlab import housekeeping

    if comparison is not None and run_ids:
        raise InputError("rm: give RUN_ID... or --comparison ID, not both")
    engine = database.make_engine(db, must_exist=True)
    if comparison is not None:
        n = housekeeping.remove_comparison(engine, comparison)
        console.print(f"removed comparison {comparison} and its {n} runs")
    else:
        n = housekeeping.remove_runs(engine, run_ids or [])
        console.print(f"removed {n} run{'s' if n != 1 else ''}")
    engine.dispose()


# --------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------


MAX_JOBS = 256


def _check_jobs(jobs: int | None) -> None:
    """Refuse a ``--jobs`` outside [1, MAX_JOBS]."""
    if jobs is not None and not 1 <= jobs <= MAX_JOBS:
        raise InputError(f"--jobs: must be between 1 and {MAX_JOBS}, got {jobs}")


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
    _check_jobs(jobs)
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
    with _lazy_progress() as (bar, update):
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


# --------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------


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
    if path is None:
        return  # DuckDB analytics read SQLite files only
    from simlab import analytics

    con = analytics.connect(db)
    console.print(f"duckdb reads sqlite via: {analytics.access_method(con)}")
    con.close()


# --------------------------------------------------------------------------
# Workbench: notebooks, reports, the demo
# --------------------------------------------------------------------------


@app.command("demo")
def demo(
    jobs: Annotated[
        int | None, typer.Option(help="Parallel processes [default: CPU count].")
    ] = None,
) -> None:
    """Build data/demo.db, compare four feeds, write reports/demo/ and print the headlines."""
    from simlab import demo as walkthrough

    _check_jobs(jobs)
    with _lazy_progress() as (bar, update):
        tasks: dict[str, int] = {}

        def on_progress(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            update(tasks[label], completed=done)

        result = walkthrough.run_demo(jobs=jobs, on_progress=on_progress, say=console.print)
    from rich.markdown import Markdown

    from simlab.analytics import headline

    print_summary(result.summary)
    console.print(Markdown(headline(result.summary)))
    console.print(
        f"\nreport: {result.report} (serve it: python -m http.server --bind 127.0.0.1 -d {result.report.parent})"
    )
    console.print(
        f"notebooks: uv run simlab notebook compare_feeds --db {result.db}\n"
        f"           uv run simlab notebook explore_run --db {result.db}\n"
        f"           uv run simlab notebook new_experiment --db {result.db}"
    )


@app.command("notebook")
def notebook(
    name: Annotated[str, typer.Argument(help="compare_feeds, explore_run or new_experiment.")],
    comparison: Annotated[str | None, typer.Option(help="Comparison to open with.")] = None,
    runs: Annotated[str | None, typer.Option(help="Comma-separated run ids to open with.")] = None,
    port: Annotated[int | None, typer.Option(help="Port on 127.0.0.1 [default: marimo's].")] = None,
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = False,
    db: DbOption = None,
) -> None:
    """Open a notebook in marimo's editor, bound to 127.0.0.1."""
    from simlab.notebook_launch import open_notebook

    if port is not None and not 1 <= port <= 65535:
        raise InputError(f"--port: must be between 1 and 65535, got {port}")
    run_ids = [r.strip() for r in runs.split(",") if r.strip()] if runs else []
    code = open_notebook(
        name, db, port=port, comparison=comparison, runs=run_ids, headless=headless
    )
    raise typer.Exit(code)


@app.command("report")
def report(
    comparison: Annotated[
        str | None, typer.Option(help="Comparison id [default: the latest].")
    ] = None,
    runs: Annotated[
        str | None, typer.Option(help="Comma-separated run ids instead of a comparison.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: reports/<id>/].")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty --out that is not a report.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Execute compare_feeds.py and export it as static HTML with PNG/SVG charts and a CSV."""
    from simlab.report import write_report

    if comparison and runs:
        raise InputError("--comparison and --runs are alternatives; give one")
    run_ids = [r.strip() for r in runs.split(",") if r.strip()] if runs else None
    result = write_report(db, out, comparison_id=comparison, run_ids=run_ids, force=force)
    console.print(
        f"wrote {result.html} ({len(result.charts)} charts as PNG and SVG, {result.summary_csv.name})"
    )
    console.print(f"view it: python -m http.server --bind 127.0.0.1 -d {result.html.parent}")
