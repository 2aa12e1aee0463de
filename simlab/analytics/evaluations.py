"""Evaluations: leaderboards, dimension trends, top-scoring texts, an agent's state at a turn.

Rows come from ``evaluations`` (status ``ok`` only) and ``agent_score_history``
(the newest row per run, turn, agent and evaluator version). Unless
``version`` is given, each evaluator's *newest* recorded version is used (the
version of its highest ``evaluation_id``). Only texts written in a run
(comments, agent posts) count here; ``feed_posts`` scores have no run.
Metric keys for the comparison table are ``run.evaluation.<evaluator>.<dimension>``
(a run's mean over its texts) and ``turn.evaluation.<evaluator>.<dimension>``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from simlab.analytics._query import ARM_ORDER, SELECTION, fetch, selection
from simlab.analytics.llm import stance_at
from simlab.errors import InputError

RUN_PREFIX = "run.evaluation."
# Shown first when present: the question a comparison most often asks of evaluations.
PREFERRED = ("offensive.offensive", "sentiment.compound", "llm_judge.harm_enablement")

# ``versions``: the version read per evaluator: $version if given, else the newest;
# $evaluators NULL means every evaluator.
VERSIONS = """
versions AS (
    SELECT evaluator, coalesce($version, arg_max(evaluator_version, evaluation_id)) AS version
    FROM sim.evaluations
    WHERE $evaluators IS NULL OR list_contains(CAST($evaluators AS VARCHAR[]), evaluator)
    GROUP BY evaluator
)"""

# ``scored``: one row per (ok evaluation in a selected run, dimension), for ``versions``.
SCORED = """
scored AS (
    SELECT e.evaluation_id, e.evaluator, e.evaluator_version, e.target_kind, e.target_id,
           e.run_id, s.arm, s.replicate, e.turn_number AS turn, e.agent_handle, e.notes,
           unnest(map_keys(e.m)) AS dimension, unnest(map_values(e.m)) AS value
    FROM (
        SELECT *, CAST(CAST(scores AS JSON) AS MAP(VARCHAR, DOUBLE)) AS m FROM sim.evaluations
        WHERE status = 'ok' AND turn_number IS NOT NULL
    ) AS e
    JOIN versions AS v ON v.evaluator = e.evaluator AND v.version = e.evaluator_version
    JOIN sel AS s ON s.run_id = e.run_id
)"""

# ``history``: the newest agent_score_history row per key, for the versions above.
HISTORY = """
history AS (
    SELECT h.* FROM sim.agent_score_history AS h
    JOIN versions AS v ON v.evaluator = h.evaluator AND v.version = h.evaluator_version
    JOIN sel AS s ON s.run_id = h.run_id
    QUALIFY row_number() OVER (
        PARTITION BY h.run_id, h.turn_number, h.agent_handle, h.evaluator, h.evaluator_version
        ORDER BY h.history_id DESC
    ) = 1
)"""


def _params(con, run_ids, comparison_id, evaluators, version) -> dict:
    if isinstance(evaluators, str):
        evaluators = [evaluators]
    return {
        **selection(con, run_ids=run_ids, comparison_id=comparison_id),
        "evaluators": None if evaluators is None else list(evaluators),
        "version": version,
    }


def _check_evaluator(con: duckdb.DuckDBPyConnection, evaluator: str, dimension: str) -> None:
    """Raise InputError unless ``evaluator`` has ok rows that score ``dimension``."""
    row = con.execute(
        "SELECT any_value(scores) FROM sim.evaluations WHERE evaluator = $e AND status = 'ok'",
        {"e": evaluator},
    ).fetchone()
    if row is None or row[0] is None:
        found = con.execute("SELECT DISTINCT evaluator FROM sim.evaluations ORDER BY 1").fetchall()
        allowed = ", ".join(r[0] for r in found) or "none yet (run `simlab evaluate`)"
        raise InputError(f"evaluator: no evaluations by {evaluator!r}; evaluated: {allowed}")
    keys = sorted(json.loads(row[0]))
    if dimension not in keys:
        raise InputError(
            f"dimension: {evaluator} has no dimension {dimension!r}; allowed: {', '.join(keys)}"
        )


def leaderboard(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    evaluator: str,
    dimension: str,
    version: str | None = None,
) -> pd.DataFrame:
    """Agents ranked by their mean ``dimension`` over everything they wrote in the selected runs.

    Returns:
        Columns rank (1 = highest mean), agent_handle, items (texts scored), runs,
        mean, max, turns (agent-turns with a history row), high_turns (of those,
        flagged ``has_high_<dimension>``), flagged (high_turns > 0). Ties in the
        mean rank by handle.

    Raises:
        InputError: no evaluations by ``evaluator``, or it has no such dimension.
    """
    _check_evaluator(con, evaluator, dimension)
    params = {
        **_params(con, run_ids, comparison_id, [evaluator], version),
        "dimension": dimension,
        "flag": f"$.has_high_{dimension}",
    }
    return fetch(
        con,
        f"""
        WITH {SELECTION}, {VERSIONS}, {SCORED}, {HISTORY},
        agents AS (
            SELECT agent_handle, count(*) AS items, count(DISTINCT run_id) AS runs,
                   avg(value) AS mean, max(value) AS max
            FROM scored WHERE dimension = $dimension GROUP BY agent_handle
        ),
        flags AS (
            SELECT agent_handle, count(*) AS turns,
                   count(*) FILTER (WHERE CAST(json_extract(high_flags, $flag) AS BOOLEAN))
                       AS high_turns
            FROM history GROUP BY agent_handle
        )
        SELECT row_number() OVER (ORDER BY a.mean DESC, a.agent_handle) AS rank,
               a.agent_handle, a.items, a.runs, a.mean, a.max,
               coalesce(f.turns, 0) AS turns, coalesce(f.high_turns, 0) AS high_turns,
               coalesce(f.high_turns, 0) > 0 AS flagged
        FROM agents AS a LEFT JOIN flags AS f ON f.agent_handle = a.agent_handle
        ORDER BY rank
        """,
        params,
    )


def evaluation_turn_metrics(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    evaluators: Iterable[str] | None = None,
    version: str | None = None,
) -> pd.DataFrame:
    """Per run and turn, the mean score of each evaluator dimension (turn_metrics' shape).

    Returns:
        Columns run_id, arm, replicate, turn, key
        (``turn.evaluation.<evaluator>.<dimension>``), value, items.
    """
    return fetch(
        con,
        f"""
        WITH {SELECTION}, {VERSIONS}, {SCORED}
        SELECT * FROM (
            SELECT run_id, arm, replicate, turn,
                   'turn.evaluation.' || evaluator || '.' || dimension AS key,
                   avg(value) AS value, count(*) AS items
            FROM scored GROUP BY ALL
        )
        ORDER BY {ARM_ORDER}, replicate, run_id, turn, key
        """,
        _params(con, run_ids, comparison_id, evaluators, version),
    )


def evaluation_metrics(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    evaluators: Iterable[str] | None = None,
    version: str | None = None,
) -> pd.DataFrame:
    """One number per run and evaluator dimension: its mean over the run's scored texts.

    Same shape as :func:`simlab.analytics.run_scalars`, so the frames concatenate
    into a comparison (e.g. ``run.evaluation.offensive.offensive`` per arm).

    Returns:
        Columns run_id, arm, replicate, key (``run.evaluation.<evaluator>.<dimension>``), value.
    """
    return fetch(
        con,
        f"""
        WITH {SELECTION}, {VERSIONS}, {SCORED}
        SELECT * FROM (
            SELECT run_id, arm, replicate,
                   'run.evaluation.' || evaluator || '.' || dimension AS key, avg(value) AS value
            FROM scored GROUP BY ALL
        )
        ORDER BY {ARM_ORDER}, replicate, run_id, key
        """,
        _params(con, run_ids, comparison_id, evaluators, version),
    )


def dimension_trends(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    evaluator: str,
    dimension: str,
    version: str | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per feed (arm) and turn: the mean over replicate runs of each run's mean ``dimension``.

    The interval is :func:`simlab.stats.mean_ci` over the runs (NaN bounds with one run).

    Returns:
        Columns arm, turn, n (runs with scored texts that turn), items, mean, ci_low, ci_high.
    """
    from simlab.stats import mean_ci  # scipy loads on first use

    _check_evaluator(con, evaluator, dimension)
    per_run = evaluation_turn_metrics(
        con, run_ids=run_ids, comparison_id=comparison_id, evaluators=[evaluator], version=version
    )
    per_run = per_run[per_run["key"] == f"turn.evaluation.{evaluator}.{dimension}"]
    rows = []
    for (arm, turn), group in per_run.groupby(["arm", "turn"], sort=False):
        mean, low, high = mean_ci(group["value"].to_numpy(), level)
        rows.append((arm, turn, len(group), int(group["items"].sum()), mean, low, high))
    columns = ["arm", "turn", "n", "items", "mean", "ci_low", "ci_high"]
    frame = pd.DataFrame(rows, columns=columns).astype({"n": np.int64, "items": np.int64})
    arms = list(dict.fromkeys(per_run["arm"]))  # comparison order (see evaluation_turn_metrics)
    position = frame["arm"].map(arms.index)
    return frame.iloc[np.lexsort((frame["turn"], position))].reset_index(drop=True)


# (kind, id, text) of every run-bound text, with the id column `simlab evaluate` stores as
# target_id (simlab.evaluators.targets.TARGETS: agent_post_id, since post_id repeats across runs).
TEXT_SOURCES = (
    "SELECT 'comments' AS kind, comment_id AS id, text FROM sim.comments UNION ALL "
    "SELECT 'agent_posts', agent_post_id, text FROM sim.agent_posts"
)


def top_items(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    evaluator: str,
    dimension: str,
    version: str | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """The highest-scoring texts on ``dimension``, with who wrote them under which feed.

    Returns:
        Columns score, text, agent_handle, arm (the feed), run_id, replicate, turn,
        target_kind, target_id, notes; highest score first (ties: lowest evaluation id).
    """
    _check_evaluator(con, evaluator, dimension)
    if limit < 1:
        raise InputError(f"limit: must be at least 1, got {limit}")
    params = {
        **_params(con, run_ids, comparison_id, [evaluator], version),
        "dimension": dimension,
        "limit": limit,
    }
    return fetch(
        con,
        f"""
        WITH {SELECTION}, {VERSIONS}, {SCORED},
        best AS (
            SELECT * FROM scored WHERE dimension = $dimension
            ORDER BY value DESC, evaluation_id LIMIT $limit
        ),
        texts AS ({TEXT_SOURCES})
        SELECT b.value AS score, t.text, b.agent_handle, b.arm, b.run_id, b.replicate, b.turn,
               b.target_kind, b.target_id, b.notes
        FROM best AS b LEFT JOIN texts AS t ON t.kind = b.target_kind AND t.id = b.target_id
        ORDER BY b.value DESC, b.evaluation_id
        """,
        params,
    )


@dataclass(frozen=True)
class AgentState:
    """What an agent was at the end of one turn of one run."""

    run_id: str
    agent: str
    turn: int
    leaning: float | None  # agent_leanings after the turn (None if not recorded)
    follows: list[str]  # accounts followed: initial follows plus follows up to the turn
    stance: pd.DataFrame  # its stance per topic at the turn (analytics.stance_at); may be empty
    scores: pd.DataFrame  # evaluator, evaluator_version, items, dimension, mean, has_high


def agent_state_at(
    con: duckdb.DuckDBPyConnection, *, run_id: str, agent: str, turn: int
) -> AgentState:
    """The agent's leaning, stance, follows and evaluation scores at the end of ``turn``.

    Scores are the newest ``agent_score_history`` row of each evaluator (newest
    version) for exactly that turn; an agent that wrote nothing scored that turn
    has none.

    Raises:
        InputError: no such run, or no such agent.
    """
    if con.execute("SELECT 1 FROM sim.runs WHERE run_id = $r", {"r": run_id}).fetchone() is None:
        raise InputError(f"run_id: no run {run_id!r} in the database")
    if con.execute("SELECT 1 FROM sim.agent WHERE handle = $a", {"a": agent}).fetchone() is None:
        raise InputError(f"agent: no agent with handle {agent!r} in the database")
    key = {"r": run_id, "a": agent, "t": turn}
    leaning = con.execute(
        "SELECT leaning FROM agent_leanings "
        "WHERE run_id = $r AND agent_handle = $a AND turn_number = $t",
        key,
    ).fetchone()
    follows = con.execute(
        "SELECT followed_handle FROM sim.initial_follows WHERE agent_handle = $a UNION "
        "SELECT user_id FROM sim.follows WHERE run_id = $r AND agent_handle = $a "
        "AND turn_number <= $t ORDER BY 1",
        key,
    ).fetchall()
    stance = stance_at(con, run_id=run_id, agent=agent, turn=turn)
    return AgentState(
        run_id, agent, turn, None if leaning is None else float(leaning[0]),
        [f[0] for f in follows], stance, _scores_at(con, run_id, agent, turn),
    )  # fmt: skip


def _scores_at(con: duckdb.DuckDBPyConnection, run_id: str, agent: str, turn: int) -> pd.DataFrame:
    params = {**_params(con, [run_id], None, None, None), "a": agent, "t": turn}
    return fetch(
        con,
        f"""
        WITH {SELECTION}, {VERSIONS}, {HISTORY},
        mine AS (
            SELECT evaluator, evaluator_version, items, high_flags,
                   CAST(CAST(dimension_means AS JSON) AS MAP(VARCHAR, DOUBLE)) AS m
            FROM history WHERE agent_handle = $a AND turn_number = $t
        ),
        long AS (
            SELECT evaluator, evaluator_version, items, high_flags,
                   unnest(map_keys(m)) AS dimension, unnest(map_values(m)) AS mean
            FROM mine
        )
        SELECT evaluator, evaluator_version, items, dimension, mean,
               CAST(json_extract(high_flags, '$.has_high_' || dimension) AS BOOLEAN) AS has_high
        FROM long ORDER BY evaluator, dimension
        """,
        params,
    )


def evaluated_dimensions(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every evaluator with ``ok`` rows, its newest version and the dimensions it scores.

    Returns:
        Columns evaluator, evaluator_version, dimension; by evaluator, then dimension.
        Empty when nothing was evaluated yet.
    """
    return fetch(
        con,
        """
        SELECT evaluator, evaluator_version, unnest(map_keys(m)) AS dimension FROM (
            SELECT evaluator, arg_max(evaluator_version, evaluation_id) AS evaluator_version,
                   CAST(CAST(arg_max(scores, evaluation_id) AS JSON) AS MAP(VARCHAR, DOUBLE)) AS m
            FROM sim.evaluations WHERE status = 'ok' GROUP BY evaluator
        )
        ORDER BY evaluator, dimension
        """,
        {},
    )


def summary_keys(con: duckdb.DuckDBPyConnection, everything: bool = False) -> list[str]:
    """The ``run.evaluation.<evaluator>.<dimension>`` keys worth a row in the comparison table.

    Args:
        con: an analytics connection.
        everything: every evaluated dimension instead of the preferred ones.
    """
    dims = evaluated_dimensions(con)
    present = [f"{e}.{d}" for e, d in zip(dims["evaluator"], dims["dimension"], strict=True)]
    chosen = present if everything else [p for p in PREFERRED if p in present]
    return [RUN_PREFIX + key for key in chosen]


def fill_run_scalars(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
    scalars: pd.DataFrame,
) -> pd.DataFrame:
    """``scalars`` (run_id, arm, replicate, key, value) with ``run.evaluation.*`` values filled.

    Rows keep their order; an evaluation key with no scored texts in a run stays NaN.
    """
    wanted = scalars["key"].str.startswith(RUN_PREFIX)
    if not wanted.any():
        return scalars
    means = evaluation_metrics(con, comparison_id=comparison_id, run_ids=run_ids)
    found = means.set_index(["run_id", "key"])["value"]
    keys = pd.MultiIndex.from_frame(scalars.loc[wanted, ["run_id", "key"]])
    filled = scalars.copy()
    filled.loc[wanted, "value"] = found.reindex(keys).to_numpy()
    return filled
