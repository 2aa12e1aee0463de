"""The experiment notebooks' forms: the comparison or run they describe, in words, and what next.

``new_experiment`` runs a comparison; ``live_experiment`` one run turn by turn,
its feed, policy and opinion parameters edited in widgets built from each
registry entry's ``Params`` JSON schema (:func:`param_widgets`).

The form's value becomes a :class:`~simlab.compare.CompareConfig`; the
notebook runs it with :func:`simlab.compare.compare`, the runner the CLI uses,
updating its progress bar from ``on_progress`` (:func:`progress_step`). The
notebook's stop button interrupts the cell while ``compare`` relays progress on
that thread, so the comparison is cancelled as on Ctrl-C: no queued run starts,
running ones are marked failed (``interrupted``), and ``simlab compare
--resume ID`` finishes it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from simlab import config as run_config
from simlab.compare import CompareConfig, Comparison, ProgressEvent, describe
from simlab.errors import InputError


def compare_config(values: Mapping[str, object]) -> CompareConfig:
    """The comparison the experiment form describes.

    Args:
        values: the form's value: feeds (list), replicates, populations (default 1),
            turns, agents (0 = all) and seed.

    Raises:
        InputError: no feed picked, or an invalid setting (one line).
    """
    feeds = list(values.get("feeds") or [])
    if not feeds:
        raise InputError("feeds: pick at least one feed algorithm")
    agents = int(values.get("agents") or 0)
    run = {"turns": int(values.get("turns") or 1), "agents": agents or None}
    try:
        return CompareConfig(
            feeds=feeds, replicates=int(values.get("replicates") or 1),
            populations=int(values.get("populations") or 1),
            seed=int(values.get("seed") or 0), run=run,
        )  # fmt: skip
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        if isinstance(exc, InputError):
            raise
        raise InputError(_first_error(exc)) from None


def _first_error(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors) and errors():
        first = errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(exc).splitlines()[0]


def describe_form(values: Mapping[str, object]) -> str:
    """Markdown: what the form would run, or what is wrong with it (one line)."""
    try:
        return f"Will run {describe(compare_config(values))}."
    except InputError as exc:
        return f"**Cannot run yet:** {exc}"


def progress_step(update: Callable[..., object]) -> ProgressEvent:
    """An ``on_progress`` for :func:`~simlab.compare.compare` that advances a marimo progress bar.

    Args:
        update: the bar's ``update``; called with ``subtitle="<run>: turn d of n"``
            once per finished turn (the bar's total is ``config.total_turns()``).
    """
    return lambda label, done, total: update(subtitle=f"{label}: turn {done} of {total}")


def next_steps(comparison: Comparison, db: str) -> str:
    """Markdown: the new comparison's id, failures if any, and how to look at it."""
    cid, db = comparison.comparison_id, shlex.quote(str(db))
    failed = "".join(
        f"\n- run {arm} #{rep} failed: `{error}`"
        for (arm, rep), error in comparison.failures.items()
    )
    return (
        f"**Comparison `{cid}`** finished: {len(comparison.run_ids)} runs"
        f"{', ' + str(len(comparison.failures)) + ' failed' if failed else ''}.{failed}\n\n"
        "Look at it:\n\n"
        f"- `uv run simlab notebook compare_feeds --db {db} --comparison {cid}`\n"
        f"- `uv run simlab notebook explore_run --db {db} --runs {next(iter(comparison.run_ids.values()))}`\n"
        f"- `uv run simlab report --db {db} --comparison {cid}` (static HTML, charts, CSV)\n"
    )


# --- one run, parameters as widgets (live_experiment) ---------------------------------


@dataclass(frozen=True)
class ParamField:
    """One editable parameter of a Params model, read from its JSON schema.

    ``kind`` is ``number`` (with ``start``/``stop`` from minimum/maximum and
    ``step`` 1 for integers), ``choice`` (an enum: ``options``), ``flag``
    (boolean) or ``text``. Fields of other types (lists, optional values) are
    not editable here and keep their defaults.
    """

    name: str
    kind: str
    default: Any
    label: str
    start: float | None = None
    stop: float | None = None
    step: float | None = None
    options: tuple = ()


def param_fields(model: type[BaseModel]) -> list[ParamField]:
    """The editable fields of ``model`` (a registry entry's ``params``), in schema order."""
    fields = []
    for name, prop in model.model_json_schema().get("properties", {}).items():
        label = prop.get("description") or prop.get("title") or name
        default, kind = prop.get("default"), prop.get("type")
        if "enum" in prop:
            fields.append(ParamField(name, "choice", default, label, options=tuple(prop["enum"])))
        elif kind in ("number", "integer"):
            low = prop.get("minimum", prop.get("exclusiveMinimum"))
            high = prop.get("maximum", prop.get("exclusiveMaximum"))
            step = 1 if kind == "integer" else None
            fields.append(ParamField(name, "number", default, label, low, high, step))
        elif kind == "boolean":
            fields.append(ParamField(name, "flag", bool(default), label))
        elif kind == "string":
            fields.append(ParamField(name, "text", default or "", label))
    return fields


def param_widgets(model: type[BaseModel]):
    """A ``mo.ui.dictionary`` of widgets, one per :func:`param_fields` entry, set to the defaults."""
    import marimo as mo

    def widget(field: ParamField):
        label = f"`{field.name}`: {field.label}"
        if field.kind == "number":
            return mo.ui.number(
                start=field.start, stop=field.stop, step=field.step, value=field.default,
                label=label,
            )  # fmt: skip
        if field.kind == "choice":
            return mo.ui.dropdown(list(field.options), value=field.default, label=label)
        if field.kind == "flag":
            return mo.ui.checkbox(value=field.default, label=label)
        return mo.ui.text(value=field.default, label=label)

    return mo.ui.dictionary({field.name: widget(field) for field in param_fields(model)})


def live_config(
    values: Mapping[str, object],
    feed_params: Mapping[str, object],
    policy_params: Mapping[str, object],
    opinion_params: Mapping[str, object],
) -> run_config.RunConfig:
    """The run the live form describes.

    Args:
        values: the form: feed, policy, opinion (registry names), turns, agents
            (0 = all), seed and population (None = the stored one, else a
            :class:`~simlab.population.draws.PopulationDraw` dict).
        feed_params: the feed's parameter widgets' value (unset values, None, take
            the defaults).
        policy_params: the policy's, likewise.
        opinion_params: the opinion model's, likewise.

    Raises:
        InputError: an invalid setting, named (one line).
    """

    def given(params: Mapping[str, object]) -> dict:
        return {key: value for key, value in params.items() if value is not None}

    return run_config.build(
        {
            "seed": int(values.get("seed") or 0),
            "turns": int(values.get("turns") or 1),
            "agents": int(values.get("agents") or 0) or None,
            "population": values.get("population"),
            "feed": {"name": values["feed"], "params": given(feed_params)},
            "policy": {"name": values["policy"], "params": given(policy_params)},
            "opinion": {"name": values["opinion"], "params": given(opinion_params)},
        }
    )


def run_links(run_id: str, db: str) -> str:
    """Markdown: how to open a finished run in the explore and compare notebooks."""
    db = shlex.quote(str(db))
    return (
        f"**Run `{run_id}`** is in the database. Look at it:\n\n"
        f"- explore it: `uv run simlab notebook explore_run --db {db} --runs {run_id}`\n"
        f"- compare it with other runs: "
        f"`uv run simlab notebook compare_feeds --db {db} --runs {run_id},OTHER_ID`\n"
        f"- `uv run simlab report --db {db} --runs {run_id}` (static HTML)\n"
    )


def population_options(db: str, drawn: int = 3) -> dict[str, dict | None]:
    """The populations a live run can simulate: the stored one, then ``drawn`` draws of it.

    Draws are those a comparison with that many extra populations would use
    (:func:`simlab.population.draws.plan`, root seed 0): regenerated synthetic
    populations, or bootstrap resamples of imported data.
    """
    from simlab.db import make_engine
    from simlab.population.draws import plan

    engine = make_engine(db, must_exist=True)
    try:
        with engine.connect() as connection:
            draws = plan(connection, drawn + 1, 0)
    finally:
        engine.dispose()
    options: dict[str, dict | None] = {"the stored population": None}
    for draw in draws:
        if draw is not None:
            options[f"{draw.kind} draw #{draw.index} (seed {draw.seed})"] = draw.model_dump()
    return options


def checked_live_config(values, feed_params, policy_params, opinion_params):
    """:func:`live_config`, or ``None`` and the one-line reason the form cannot run.

    Returns:
        (config or None, Markdown describing the run or what is wrong).
    """
    try:
        config = live_config(values, feed_params, policy_params, opinion_params)
    except InputError as exc:
        return None, f"**Cannot run yet:** {exc}"
    agents = f"the first {config.agents} agents" if config.agents else "every agent"
    return config, (
        f"Will run **{config.feed.name}** for {config.turns} turns on {agents} "
        f"(policy {config.policy.name}, opinion model {config.opinion.name}, seed {config.seed})."
    )
