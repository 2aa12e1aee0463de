"""``simlab run|resume|runs|rm|evaluate``: single runs and their housekeeping."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from simlab import db as database
from simlab.cli.app import DbOption, app, console, lazy_progress
from simlab.errors import InputError
from simlab.evaluate_cli import evaluate as evaluate_command
from simlab.llm import options as llm_options


def _run_with_progress(label: str, start, total_turns: int) -> str:
    """Call ``start(progress_callback)`` with a progress bar over the run's turns."""
    with lazy_progress() as (bar, update):
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


def llm_overrides(flags: dict) -> dict:
    """Config overrides from the LLM flags that were given (policy params and ``[llm]``)."""
    given = llm_options.given(flags)
    overrides: dict = {}
    params = {}
    if "share" in given:
        params["share"] = given.pop("share")
    if "agents" in given:
        params["agents"] = [h.strip() for h in given.pop("agents").split(",") if h.strip()]
    if params:
        overrides["policy"] = {"params": params}
    llm: dict = {}
    if "max_tokens" in given:
        llm["sampling"] = {"max_tokens": given.pop("max_tokens")}
    budget = {
        key[len("budget_") :]: given.pop(key) for key in list(given) if key.startswith("budget_")
    }
    if budget:
        llm["budget"] = budget
    llm.update(given)
    if llm:
        overrides["llm"] = llm
    return overrides


def _stopped_is_failure(start) -> str:
    """Run ``start``; a run a policy stopped (an LLM budget) prints why and exits 1."""
    from simlab.policies.base import RunStopped

    try:
        return start()
    except RunStopped as stop:
        Console(stderr=True).print(f"run failed: {stop}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


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
    policy: Annotated[str | None, typer.Option(help="Policy (see `simlab policies`).")] = None,
    policy_param: Annotated[
        list[str] | None, typer.Option("--policy-param", help="KEY=VALUE, repeatable.")
    ] = None,
    llm_share: llm_options.llm_flag(float, "Share of agents deciding with the LLM.") = None,
    llm_agents: llm_options.llm_flag(str, "Comma-separated handles deciding with the LLM.") = None,
    llm_base_url: llm_options.LLMBaseUrl = None,
    llm_model: llm_options.LLMModel = None,
    llm_api_key_env: llm_options.LLMApiKeyEnv = None,
    llm_cache: llm_options.LLMCache = None,
    llm_max_tokens: llm_options.LLMMaxTokens = None,
    llm_concurrency: llm_options.LLMConcurrency = None,
    budget_tokens: llm_options.BudgetTokens = None,
    budget_cost: llm_options.BudgetCost = None,
    budget_alert: llm_options.BudgetAlert = None,
    budget_action: llm_options.BudgetAction = None,
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
    if policy is not None or policy_param:
        overrides["policy"] = {"name": policy} if policy is not None else {}
        if policy_param:
            overrides["policy"]["params"] = parse_assignments(policy_param, "--policy-param")
    llm_flags = {
        "share": llm_share, "agents": llm_agents, "base_url": llm_base_url, "model": llm_model,
        "api_key_env": llm_api_key_env, "cache": llm_cache, "max_tokens": llm_max_tokens,
        "concurrency": llm_concurrency, "budget_tokens": budget_tokens, "budget_cost": budget_cost,
        "budget_alert": budget_alert, "budget_action": budget_action,
    }  # fmt: skip
    overrides = run_config.merge(overrides, llm_overrides(llm_flags))
    resolved = run_config.build(run_config.merge(values, overrides))
    engine = database.make_engine(db, must_exist=True)
    _warn_unserved(engine, resolved)
    label = f"{resolved.feed.name} x {resolved.turns} turns"
    run_id = _stopped_is_failure(
        lambda: _run_with_progress(
            label,
            lambda progress: simulation.run(resolved, engine, progress=progress),
            resolved.turns,
        )
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
    done = _stopped_is_failure(
        lambda: _run_with_progress(
            f"resume {run_id} from turn {last + 1}",
            lambda progress: simulation.resume(run_id, engine, progress=progress),
            config.turns,
        )
    )
    console.print(done)


@app.command("runs")
def list_runs(db: DbOption = None) -> None:
    """List the runs in the database."""
    from rich.measure import Measurement
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
        table.add_column(column, no_wrap=True)
    for r in rows:
        table.add_row(
            r.run_id, r.feed_algorithm, states[r.run_id], str(r.total_agents),
            f"{r.done}/{r.total_turns}", str(r.seed), r.created_at[:16].replace("T", " "),
        )  # fmt: skip
    # Every cell on one line: wider than the terminal, the terminal folds rows, not rich.
    needed = Measurement.get(console, console.options.update_width(10_000), table).maximum
    terminal, console.width = console.width, max(console.width, needed)
    try:
        console.print(table, crop=False)
    finally:
        console.width = terminal


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
