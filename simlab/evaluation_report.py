"""What the report and the comparison table take from evaluations, when there are any.

Hooks for :mod:`simlab.report_sections` and :mod:`simlab.analytics.metrics`:

- :func:`summary_keys` (from :mod:`simlab.analytics.evaluations`): the
  ``run.evaluation.<evaluator>.<dimension>`` keys to add to a comparison summary
  (``offensive`` first: "does the bridging feed lower the mean offensiveness of
  what agents write?"); :func:`simlab.analytics.evaluations.fill_run_scalars`
  fills their values into ``run_scalars`` (it lives in analytics so
  ``run_scalars`` can call it);
- :func:`evaluations_section`: the report section "What agents wrote, scored"
  (one of :data:`simlab.report_sections.SECTIONS`), left out when nothing in the
  selection was evaluated. For each of those dimensions it shows its trend per
  turn and feed with 95% CIs over replicates, each run's mean by feed, the
  leaderboard of agents, and tables of the top agents and the highest-scoring
  texts with the agent and feed that wrote them;
- :func:`report_charts`: that section's charts by file name (empty when nothing
  was evaluated).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import altair as alt
import duckdb
import pandas as pd

from simlab.analytics import Selection, evaluations
from simlab.charts import evaluations as evaluation_charts

if TYPE_CHECKING:
    from simlab.report_sections import Section

PREFIX = evaluations.RUN_PREFIX
summary_keys = evaluations.summary_keys  # lives in analytics, so run_scalars can use it
TOP_AGENTS = 10  # agents in each leaderboard chart; the table shows TOP_ROWS of them
TOP_ROWS = 5  # agents and texts per dimension in the section's tables
TEXT_CHARS = 240  # a longer text is cut in the table (the notebook shows it whole)


@dataclass(frozen=True)
class DimensionFrames:
    """What the report shows of one evaluated dimension in the selected runs."""

    evaluator: str
    dimension: str
    key: str  # run.evaluation.<evaluator>.<dimension>
    trends: pd.DataFrame  # analytics.dimension_trends
    metrics: pd.DataFrame  # analytics.evaluation_metrics rows of this key
    board: pd.DataFrame  # analytics.leaderboard
    top: pd.DataFrame  # analytics.top_items


def dimension_frames(
    con: duckdb.DuckDBPyConnection,
    comparison_id: str | None = None,
    run_ids: Iterable[str] | None = None,
) -> list[DimensionFrames]:
    """The frames of every :func:`summary_keys` dimension scored in the selected runs."""
    selected = {"comparison_id": comparison_id, "run_ids": run_ids}
    keys = summary_keys(con)
    metrics = evaluations.evaluation_metrics(con, **selected) if keys else pd.DataFrame()
    found = []
    for key in keys:
        evaluator, dimension = key.removeprefix(PREFIX).split(".")
        picked = {"evaluator": evaluator, "dimension": dimension, **selected}
        trends = evaluations.dimension_trends(con, **picked)
        if trends.empty:
            continue  # evaluated, but not in these runs
        found.append(
            DimensionFrames(
                evaluator, dimension, key, trends,
                metrics=metrics[metrics["key"] == key],
                board=evaluations.leaderboard(con, **picked),
                top=evaluations.top_items(con, **picked, limit=TOP_ROWS),
            )
        )  # fmt: skip
    return found


def _charts(frames: DimensionFrames) -> dict[str, alt.TopLevelMixin]:
    """One dimension's charts by file name: trend, per-run means by feed, leaderboard."""
    name = f"evaluation_{frames.evaluator}_{frames.dimension}"
    label = f"Mean {frames.dimension} per text ({frames.evaluator})"
    return {
        f"{name}_trend": evaluation_charts.dimension_trend(
            frames.trends, frames.evaluator, frames.dimension
        ),
        f"{name}_by_feed": evaluation_charts.arm_means(
            frames.metrics, frames.key, y_title=label,
            title=f"{evaluation_charts.dimension_label(frames.evaluator, frames.dimension)}: "
            "each run's mean, by feed",
        ),
        f"{name}_leaderboard": evaluation_charts.leaderboard_bars(
            frames.board, frames.dimension, top=TOP_AGENTS
        ),
    }  # fmt: skip


def report_charts(
    con: duckdb.DuckDBPyConnection,
    comparison_id: str | None = None,
    run_ids: Iterable[str] | None = None,
) -> dict[str, alt.TopLevelMixin]:
    """Per evaluated summary dimension: its trend, per-run means by feed and leaderboard."""
    return {
        name: chart
        for frames in dimension_frames(con, comparison_id, run_ids)
        for name, chart in _charts(frames).items()
    }


def _scale(evaluator: str, dimension: str) -> str:
    """The dimension's range and flag threshold from the registry ("" for an unknown evaluator)."""
    from simlab.evaluators import EVALUATORS

    if evaluator not in EVALUATORS:
        return ""
    try:
        found = EVALUATORS.get(evaluator).dimension(dimension)
    except KeyError:
        return ""
    return f" (scale {found.low:g} to {found.high:g}; flagged at a turn mean ≥ {found.threshold:g})"


def _captions(frames: DimensionFrames, design: str) -> dict[str, str]:
    what = f"{frames.evaluator} {frames.dimension}{_scale(frames.evaluator, frames.dimension)}"
    name = f"evaluation_{frames.evaluator}_{frames.dimension}"
    agents = len(frames.board)
    return {
        f"{name}_trend": (
            f"Mean {what} of the texts agents wrote in each turn: lines are the mean over "
            f"replicate runs of each run's mean, bands the 95% CI over replicates. {design}"
        ),
        f"{name}_by_feed": (
            f"Mean {what} over each run's texts (dots, one per run) and the mean over the "
            f"feed's runs (ticks). {design}"
        ),
        f"{name}_leaderboard": (
            f"The {min(agents, TOP_AGENTS)} of {agents} agents with the highest mean {what} "
            f"over everything they wrote in these runs; orange: flagged "
            f"has_high_{frames.dimension} in at least one turn. {design}"
        ),
    }


def _tables(found: list[DimensionFrames]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The top agents and the highest-scoring texts of every dimension, for the page."""
    agents = pd.concat(
        [
            f.board.nsmallest(TOP_ROWS, "rank").assign(dimension=f"{f.evaluator}.{f.dimension}")
            for f in found
        ]
    )
    agents = agents[["dimension", "rank", "agent_handle", "items", "mean", "max", "high_turns"]]
    texts = pd.concat([f.top.assign(dimension=f"{f.evaluator}.{f.dimension}") for f in found])
    texts = texts.assign(
        feed=texts["arm"],
        text=texts["text"].fillna("").str.slice(0, TEXT_CHARS),
    )[["dimension", "score", "text", "agent_handle", "feed", "replicate", "turn"]]
    return agents.round(3), texts.round(3)


def evaluations_section(
    con: duckdb.DuckDBPyConnection, chosen: Selection, design: str
) -> Section | None:
    """The report section on what agents wrote, scored; None if nothing selected was evaluated."""
    from simlab.report_sections import Figure, Section  # that module lists this builder

    found = dimension_frames(con, **chosen.kwargs)
    if not found:
        return None
    figures = {}
    for frames in found:
        captions = _captions(frames, design)
        figures |= {name: Figure(chart, captions[name]) for name, chart in _charts(frames).items()}
    dimensions = ", ".join(f"`{f.evaluator}.{f.dimension}`" for f in found)
    text = (
        f"`simlab evaluate` scored the comments and posts agents wrote; shown: {dimensions} "
        "(each evaluator's newest version). The first table lists the top agents of each "
        "leaderboard (mean over their texts; `high_turns`: turns in which the agent's mean "
        "reached the dimension's flag threshold), the second the highest-scoring texts with "
        "the agent and the feed that produced them. The observatory notebook "
        "(`simlab notebook observatory`) shows every dimension."
    )
    return Section(
        title="What agents wrote, scored", text=text, tables=_tables(found), figures=figures
    )
