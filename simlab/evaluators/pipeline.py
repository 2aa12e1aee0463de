"""``simlab evaluate``: score the texts of runs with evaluators, append rows, resume on re-run.

For each evaluator and target kind, unscored texts are read in id order in
batches (the evaluator's ``batch_size``); each batch is scored and its rows
inserted in one transaction, with the scorer's side records (the judge's
``llm_calls``). A crash or Ctrl-C loses at most the batch in
flight, and running the same command again scores only what is missing. A row
is keyed by (evaluator, recorded version, target kind, target id): the same
version never scores a text twice, a new version appends. After scoring, the
agents' score histories are brought up to date (:mod:`simlab.evaluators.history`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from simlab.errors import InputError
from simlab.evaluators.base import (
    EVALUATORS,
    EvaluationStopped,
    Evaluator,
    EvaluatorOptions,
    Score,
    Scorer,
)
from simlab.evaluators.history import update_history
from simlab.evaluators.targets import Item, Target
from simlab.recorder import utc_now
from simlab.schema import evaluations

Progress = Callable[[str, int, int], None]  # label, texts done, texts to do


@dataclass(frozen=True)
class Summary:
    """What one (evaluator, target) pass did."""

    evaluator: str
    version: str
    target: str
    scored: int
    failed: int
    already: int  # scored by this version before this call
    history_rows: int = 0


def resolve_runs(engine: Engine, run_ids: Sequence[str], comparison_id: str | None) -> list[str]:
    """The run ids to evaluate: the given ones, or every run of ``comparison_id``.

    Raises:
        InputError: both or neither were given, a run does not exist, or the
            comparison does not exist.
    """
    if bool(run_ids) == bool(comparison_id):
        raise InputError("give RUN_ID... or --comparison ID (one of the two)")
    with engine.connect() as connection:
        if comparison_id:
            found = (
                connection.execute(
                    text(
                        "SELECT run_id FROM comparison_runs WHERE comparison_id = :c ORDER BY run_id"
                    ),
                    {"c": comparison_id},
                )
                .scalars()
                .all()
            )
            if not found:
                raise InputError(f"--comparison: no comparison {comparison_id!r} with runs")
            return list(found)
        known = set(
            connection.execute(
                text("SELECT run_id FROM runs WHERE run_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": list(run_ids)},
            ).scalars()
        )
    missing = [r for r in run_ids if r not in known]
    if missing:
        raise InputError(f"RUN_ID: no run {missing[0]!r} in this database; see `simlab runs`")
    return list(dict.fromkeys(run_ids))


def build_scorers(
    names: Sequence[str] | None,
    options: EvaluatorOptions,
    engine: Engine | None = None,
    targets: Sequence[Target] = (),
) -> list[tuple[Evaluator, Scorer]]:
    """The chosen evaluators (default: every embedded one), each with a ready scorer.

    Close the scorers when done (:func:`close_scorers`): the judge may hold the
    embedded model.

    Raises:
        InputError: an unknown name, an evaluator missing a needed option, or an
            LLM evaluator asked to score texts that belong to no run (its calls
            are accounted per run).
    """
    chosen = list(dict.fromkeys(names)) if names else [e.name for e in EVALUATORS if not e.uses_llm]
    entries = [EVALUATORS.get(name) for name in chosen]
    for entry in entries:
        for target in targets:
            if entry.uses_llm and target.run_column is None:
                raise InputError(
                    f"--targets: {entry.name} cannot score {target.kind}: its LLM calls are "
                    f"accounted per run and {target.kind} belong to no run"
                )
    built: list[tuple[Evaluator, Scorer]] = []
    try:
        for entry in entries:
            built.append((entry, entry.build(options, engine)))
    except BaseException:
        close_scorers(built)
        raise
    return built


def close_scorers(scorers: Sequence[tuple[Evaluator, Scorer]]) -> None:
    """Close every scorer (stops an embedded model server the judge started)."""
    for _, scorer in scorers:
        scorer.close()


def _rows(entry: Evaluator, version: str, target: Target, items: list[Item], scores: list[Score]):
    if len(scores) != len(items):
        raise RuntimeError(f"{entry.name} returned {len(scores)} scores for {len(items)} texts")
    now = utc_now()
    for item, score in zip(items, scores, strict=True):
        if score.scores is not None:
            bad = [
                d.name
                for d in entry.dimensions
                if d.name not in score.scores or not d.contains(score.scores[d.name])
            ]
            if bad:
                raise RuntimeError(f"{entry.name} gave no in-range score for {bad[0]}")
        yield {
            "evaluator": entry.name,
            "evaluator_version": version,
            "target_kind": target.kind,
            "target_id": item.target_id,
            "run_id": item.run_id,
            "turn_number": item.turn_number,
            "agent_handle": item.agent_handle,
            "status": score.status,
            "scores": None if score.scores is None else json.dumps(score.scores, sort_keys=True),
            "notes": score.notes,
            "model": score.model,
            "latency_ms": score.latency_ms,
            "created_at": now,
        }


def _insert(connection: Connection, rows: list[dict]) -> None:
    if connection.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    # A concurrent `simlab evaluate` may have scored the same text: keep its row.
    connection.execute(insert(evaluations).on_conflict_do_nothing(), rows)


def score_target(
    engine: Engine,
    entry: Evaluator,
    scorer: Scorer,
    target: Target,
    run_ids: list[str],
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Score every text of ``target`` in ``run_ids`` that this scorer's version has not scored."""
    version, size = scorer.version, batch_size or entry.batch_size
    with engine.connect() as connection:
        todo = target.pending(connection, run_ids, entry.name, version)
        total = target.count(connection, run_ids)
    label = f"{entry.name} x {target.kind}"
    done = failed = 0
    after = ""
    if progress:
        progress(label, 0, todo)
    while True:
        with engine.connect() as connection:
            items = target.page(connection, run_ids, entry.name, version, after, size)
        if not items:
            break
        try:
            scores = scorer.score([i.text for i in items], items)
        except EvaluationStopped:
            with engine.begin() as connection:  # requests already made are accounted
                scorer.write(connection)
            raise
        rows = list(_rows(entry, version, target, items, scores))
        with engine.begin() as connection:
            _insert(connection, rows)
            scorer.write(connection)
        done += len(rows)
        failed += sum(r["status"] == "failed" for r in rows)
        after = items[-1].target_id
        if progress:
            progress(label, done, todo)
    return Summary(entry.name, version, target.kind, done - failed, failed, total - todo)


def evaluate(
    engine: Engine,
    run_ids: list[str],
    scorers: list[tuple[Evaluator, Scorer]],
    targets: list[Target],
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> list[Summary]:
    """Score every target of ``run_ids`` with every scorer, then update the score histories.

    Returns:
        One :class:`Summary` per (evaluator, target), with the history rows the
        evaluator appended on its last target.
    """
    if batch_size is not None and batch_size < 1:
        raise InputError(f"--batch-size: must be at least 1, got {batch_size}")
    summaries = []
    for entry, scorer in scorers:
        passes = [
            score_target(engine, entry, scorer, t, run_ids, batch_size, progress) for t in targets
        ]
        appended = update_history(engine, entry, scorer.version, run_ids)
        passes[-1] = replace(passes[-1], history_rows=appended)
        summaries += passes
    return summaries
