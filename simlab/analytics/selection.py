"""What a notebook or report shows: a comparison or some runs, the options of its pickers.

A :class:`Selection` is either one comparison (arms and replicates from
``comparison_runs``) or a list of runs (arms are their feeds, not paired). Its
:attr:`Selection.kwargs` are the selector arguments every analytics function
takes, so a notebook cell is one call: ``analytics.summary(con, **chosen.kwargs)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import duckdb
import pandas as pd

from simlab.analytics.runs import comparisons, latest_comparison, runs
from simlab.errors import InputError

# Turn metrics charted by default: the per-turn counterparts of the headline metrics.
DEFAULT_METRICS = (
    "turn.engagement.rate",
    "turn.exposure.cross_cutting_share",
    "turn.exposure.topic_entropy_per_agent",
    "turn.attention.like_gini_posts",
    "turn.opinion.leaning_variance",
    "turn.network.ei_index",
)


@dataclass(frozen=True)
class Selection:
    """The runs a notebook compares: one comparison, or a list of runs (arms = their feeds)."""

    comparison_id: str | None = None
    run_ids: tuple[str, ...] | None = None

    @classmethod
    def from_pickers(cls, comparison_id: str | None, run_ids: Iterable[str] | None) -> Selection:
        """The pickers' choice: picked runs if any, else the picked comparison."""
        picked = tuple(run_ids or ())
        return cls(run_ids=picked) if picked else cls(comparison_id=comparison_id)

    @property
    def kwargs(self) -> dict:
        """The selector keyword arguments of the ``simlab.analytics`` functions."""
        return {"run_ids": self.run_ids, "comparison_id": self.comparison_id}

    @property
    def title(self) -> str:
        """How the notebook names what it shows."""
        if self.comparison_id is not None:
            return f"comparison `{self.comparison_id}`"
        return f"runs {', '.join(f'`{r}`' for r in self.run_ids or ())}"


def initial_selection(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Sequence[str] = (),
    comparison_id: str | None = None,
) -> Selection:
    """What to show first: ``run_ids``, else ``comparison_id``, else the latest comparison.

    Raises:
        InputError: an unknown comparison or run id, or a database without comparisons
            when neither is given.
    """
    if run_ids:
        known = set(runs(con)["run_id"])
        missing = [r for r in run_ids if r not in known]
        if missing:
            raise InputError(f"--runs: no run {missing[0]!r} in the database")
        return Selection(run_ids=tuple(run_ids))
    if comparison_id is not None:
        if comparison_id not in set(comparisons(con)["comparison_id"]):
            raise InputError(f"--comparison: no comparison {comparison_id!r} in the database")
        return Selection(comparison_id=comparison_id)
    latest = latest_comparison(con)
    if latest is None:
        raise InputError(
            "--comparison: the database has no comparison yet; run `simlab compare` "
            "or the new_experiment notebook, or pass --runs"
        )
    return Selection(comparison_id=latest)


def initial_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Sequence[str] = (),
    comparison_id: str | None = None,
) -> str:
    """The run to show first: the first of ``run_ids``, else the comparison's first, else the newest.

    Raises:
        InputError: an unknown run or comparison id, or no run to show.
    """
    if run_ids:
        if run_ids[0] not in set(runs(con)["run_id"]):
            raise InputError(f"--runs: no run {run_ids[0]!r} in the database")
        return run_ids[0]
    if comparison_id is not None:
        initial_selection(con, comparison_id=comparison_id)  # an unknown id is one line
        members = runs(con, comparison_id=comparison_id)["run_id"]
        if members.empty:
            raise InputError(f"--comparison: comparison {comparison_id!r} has no run yet")
        return str(members.iloc[0])
    known = runs(con)["run_id"]
    if known.empty:
        raise InputError("--runs: the database has no run yet; start one with `simlab run`")
    return str(known.iloc[-1])


# --- picker options: a readable label -> the value --------------------------------


def comparison_options(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Dropdown options: a readable label per comparison (newest first) -> its id."""
    frame = comparisons(con).iloc[::-1]
    return {
        f"{row.comparison_id} · {row.arms.replace(',', ' vs ')} · {row.replicates} replicates × "
        f"{row.turns} turns": row.comparison_id
        for row in frame.itertuples()
    }


def run_options(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Picker options: a readable label per run (newest first) -> its id."""
    frame = runs(con).drop_duplicates("run_id").iloc[::-1]
    return {
        f"{row.run_id} · {row.feed_algorithm} · {row.total_turns} turns · {row.status}": row.run_id
        for row in frame.itertuples()
    }


def metric_options(
    con: duckdb.DuckDBPyConnection,
    *,
    run_ids: Iterable[str] | None = None,
    comparison_id: str | None = None,
) -> dict[str, str]:
    """Multiselect options: label -> key of every ``turn.*`` metric the selected runs recorded."""
    from simlab.charts import metric_label  # altair loads only when a picker is built

    keys = con.execute(
        "SELECT DISTINCT t.key FROM turn_metrics_long AS t "
        "JOIN runs_overview AS r ON r.run_id = t.run_id "
        "WHERE ($c IS NULL OR r.comparison_id = $c) "
        "AND ($r IS NULL OR list_contains(CAST($r AS VARCHAR[]), t.run_id)) ORDER BY t.key",
        {"c": comparison_id, "r": None if run_ids is None else list(run_ids)},
    ).fetchall()
    labels = [metric_label(k) for (k,) in keys]
    repeated = {label for label in labels if labels.count(label) > 1}
    return {
        f"{label} · {k}" if label in repeated else label: k
        for label, (k,) in zip(labels, keys, strict=True)
    }


def default_metrics(options: Mapping[str, str]) -> list[str]:
    """The labels of :data:`DEFAULT_METRICS` among ``options`` (else its first three)."""
    wanted = [label_of(options, key) for key in DEFAULT_METRICS]
    return [label for label in wanted if label] or list(options)[:3]


def label_of(options: Mapping[str, str], value: str | None) -> str | None:
    """The option label whose value is ``value`` (a dropdown's default), or None."""
    return next((label for label, v in options.items() if v == value), None)


def labels_of(options: Mapping[str, str], values: Iterable[str] | None) -> list[str]:
    """The option labels of ``values`` (a multiselect's default), skipping unknown ones."""
    labels = [label_of(options, value) for value in values or ()]
    return [label for label in labels if label is not None]


def busiest_agent(activity: pd.DataFrame) -> str | None:
    """The handle with the most feeds, then actions (ties: first by handle).

    Args:
        activity: :func:`simlab.analytics.agent_activity` of one run.
    """
    if activity.empty:
        return None
    total = activity["feeds"] * 1_000_000 + activity[["likes", "comments", "follows"]].sum(axis=1)
    return str(activity.loc[total.idxmax(), "agent_handle"])
