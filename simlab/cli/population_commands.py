"""``simlab init`` and ``simlab import ...``: fill the database with a population."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simlab.bundle.cli import register as register_bundle_commands
from simlab.cli.app import DbOption, app, console, shown
from simlab.errors import InputError

import_app = typer.Typer(
    help="Import a population from real data, or a run bundle.", no_args_is_help=True
)
app.add_typer(import_app, name="import")
register_bundle_commands(app, import_app, DbOption)  # simlab export, simlab import bundle


OnDuplicateOption = Annotated[
    str,
    typer.Option(
        "--on-duplicate", help="Rows seen before: error, skip (keep the stored row) or update."
    ),
]


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
    console.print(f"{shown(db)}: {summary}", highlight=False, soft_wrap=True)
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
