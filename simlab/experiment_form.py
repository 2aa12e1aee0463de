"""The new_experiment notebook's form: the comparison it describes, in words, and what next.

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
        f"- `simlab notebook compare_feeds --db {db} --comparison {cid}`\n"
        f"- `simlab notebook explore_run --db {db} --runs {next(iter(comparison.run_ids.values()))}`\n"
        f"- `simlab report --db {db} --comparison {cid}` (static HTML, charts, CSV)\n"
    )
