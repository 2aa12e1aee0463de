"""What a report shows, section by section: text, tables and captioned figures.

A report (``report.html``, ``simlab figures``) is the list :data:`SECTIONS` of
section builders, each called as ``builder(con, chosen, design)`` and returning
a :class:`Section` (or None to leave it out). Adding a section to every report
is one line: append a builder to :data:`SECTIONS` (or pass ``sections=`` to
:func:`build_sections`). A section's figure names are file names, unique over
the report; its figures get the design sentence (:func:`design_caption`) in
their caption, so a figure read on its own still says what was run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import altair as alt
import duckdb
import pandas as pd

from simlab import analytics, figures, report_llm
from simlab.analytics import Selection
from simlab.errors import InputError
from simlab.evaluation_report import evaluations_section


@dataclass(frozen=True)
class Figure:
    """One chart of a report and the caption printed under it."""

    chart: alt.TopLevelMixin
    caption: str


@dataclass(frozen=True)
class Section:
    """A heading, some Markdown, optional tables and figures (by file name), in that order."""

    title: str
    text: str = ""
    tables: tuple[pd.DataFrame, ...] = ()
    figures: dict[str, Figure] = field(default_factory=dict)


SectionBuilder = Callable[[duckdb.DuckDBPyConnection, Selection, str], "Section | None"]


def design_caption(con: duckdb.DuckDBPyConnection, chosen: Selection) -> str:
    """One sentence on what was run: agents, turns, replicates, feeds and key parameters.

    Read from the selected runs' stored configs (``runs.config_json``), so it holds
    for any selection; values that differ between runs are listed as ranges or sets.
    """
    frame = _selected_runs(con, chosen)
    if frame.empty:
        return "Design: no runs selected."
    configs = [json.loads(text or "{}") for text in frame["config_json"]]
    arms = list(dict.fromkeys(frame["arm"].astype(str)))
    per_arm = frame.groupby("arm", sort=False)["run_id"].nunique()
    replicates = _span(per_arm.tolist())
    kind = "replicates per arm, paired by seed" if chosen.comparison_id else "runs per arm"
    parts = [
        f"{_span(frame['total_agents'].tolist())} agents",
        f"{_span(frame['total_turns'].tolist())} turns",
        f"{replicates} {kind} ({len(frame)} runs)",
        f"arms: {', '.join(arms)}",
    ]
    feed_params = {
        f"{c['feed']['name']}({_params(changed)})"
        for c in configs
        if (changed := _changed("feed", c.get("feed", {})))
    }
    if feed_params:
        parts.append(f"feed parameters off their defaults: {'; '.join(sorted(feed_params))}")
    sizes = {
        (c.get("feed", {}).get("size"), c.get("feed", {}).get("candidate_pool")) for c in configs
    }
    if len(sizes) == 1 and None not in next(iter(sizes)):
        size, pool = next(iter(sizes))
        parts.append(f"feeds of {size} items from {pool} candidates")
    for part in ("policy", "opinion"):
        names = {_component(part, c[part]) for c in configs if c.get(part)}
        if names:
            parts.append(f"{part} {' / '.join(sorted(names))}")
    hours = {c.get("turn_hours") for c in configs if c.get("turn_hours") is not None}
    if len(hours) == 1:
        parts.append(f"1 turn = {next(iter(hours)):g} h")
    return "Design: " + "; ".join(parts) + "."


def _selected_runs(con: duckdb.DuckDBPyConnection, chosen: Selection) -> pd.DataFrame:
    if chosen.comparison_id is not None:
        return analytics.runs(con, comparison_id=chosen.comparison_id)
    frame = analytics.runs(con).drop_duplicates("run_id")
    frame = frame[frame["run_id"].isin(chosen.run_ids or ())]
    return frame.assign(arm=frame["feed_algorithm"])


def _span(values: Sequence) -> str:
    distinct = sorted({int(v) for v in values if pd.notna(v)})
    if not distinct:
        return "?"
    return str(distinct[0]) if len(distinct) == 1 else f"{distinct[0]}–{distinct[-1]}"


def _params(params: dict) -> str:
    return ", ".join(f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"
                     for key, value in params.items())  # fmt: skip


def _changed(part: str, config: dict) -> dict:
    """The params in ``config`` (a stored feed, policy or opinion block) that differ from the defaults.

    Defaults come from the registered ``Params`` model; for a name that is not
    registered (a plug-in not loaded here) every param counts.
    """
    from simlab.feeds import FEEDS
    from simlab.opinion import OPINIONS
    from simlab.policies import POLICIES

    registry = {"feed": FEEDS, "policy": POLICIES, "opinion": OPINIONS}[part]
    params = config.get("params") or {}
    try:
        defaults = registry.get(config.get("name", "")).params().model_dump()
    except InputError:
        return dict(params)
    return {key: value for key, value in params.items() if defaults.get(key, object()) != value}


def _component(part: str, config: dict) -> str:
    name = config.get("name", "?")
    changed = _changed(part, config)
    return f"{name} ({_params(changed)})" if changed else name


# --- the default sections ---------------------------------------------------------------


def headline_section(con: duckdb.DuckDBPyConnection, chosen: Selection, design: str) -> Section:
    """The headline in words, the summary table and the forest plot of differences."""
    summary = analytics.summary(con, **chosen.kwargs)
    table = analytics.summary_table(summary) if not summary.empty else pd.DataFrame()
    caption = (
        "Each arm's difference to the first arm in the mean of each metric over its runs "
        "(dots), with the 95% confidence interval (bars; paired by replicate in a comparison)."
    )
    return Section(
        title="Headline",
        text=analytics.headline(summary),
        tables=(table,) if not table.empty else (),
        figures={"difference": Figure(figures.difference(summary), f"{caption} {design}")},
    )


def metrics_section(con: duckdb.DuckDBPyConnection, chosen: Selection, design: str) -> Section:
    """The default turn metrics over turns, one chart each."""
    options = analytics.metric_options(con, **chosen.kwargs)
    keys = [options[label] for label in analytics.default_metrics(options)]
    drawn = figures.metric_charts(con, keys=keys, **chosen.kwargs)
    caption = "Lines: mean over replicates per arm; bands: 95% confidence interval of that mean."
    return Section(
        title="Metrics over turns",
        figures={
            f"metric_{key.removeprefix('turn.').replace('.', '_')}": Figure(
                chart, f"{figures.metric_caption(key)} {caption} {design}"
            )
            for key, chart in zip(keys, drawn, strict=True)
        },
    )


def actions_section(con: duckdb.DuckDBPyConnection, chosen: Selection, design: str) -> Section:
    """What agents did: the action mix and actions per turn."""
    selected = chosen.kwargs
    return Section(
        title="What agents did",
        figures={
            "action_mix": Figure(
                figures.action_mix(con, **selected),
                f"Likes, comments and follows per agent and turn, mean over each arm's runs. {design}",
            ),
            "actions_over_turns": Figure(
                figures.actions_over_turns(con, **selected),
                f"Actions per turn, one panel per action; lines are means over replicates. {design}",
            ),
        },
    )


def exposure_section(con: duckdb.DuckDBPyConnection, chosen: Selection, design: str) -> Section:
    """What agents saw and what it did: exposure diversity, leanings and follows."""
    selected = chosen.kwargs
    return Section(
        title="What agents saw, and what it did to them",
        text=(
            "Topic entropy per agent is −Σ p_k ln p_k over the topics of one agent's feed; "
            "cross-cutting exposure is the share of feed items whose leaning is on the other "
            "side of the agent's."
        ),
        figures={
            "exposure_diversity": Figure(
                figures.exposure_diversity(con, **selected),
                f"Topic entropy per agent (nats) and cross-cutting share per turn, mean over "
                f"replicates. {design}",
            ),
            "polarization": Figure(
                figures.polarization(con, **selected),
                f"Share of agents per leaning bin and turn, one panel per arm (pooled over "
                f"replicates). {design}",
            ),
            "follow_growth": Figure(
                figures.follow_growth(con, **selected),
                f"Cumulative new follows: mean over replicates, shaded from the smallest to the "
                f"largest replicate. {design}",
            ),
        },
    )


SECTIONS: list[SectionBuilder] = [
    headline_section,
    metrics_section,
    actions_section,
    exposure_section,
    report_llm.llm_usage_section,
    evaluations_section,
]


def build_sections(
    con: duckdb.DuckDBPyConnection,
    chosen: Selection,
    sections: Sequence[SectionBuilder] | None = None,
) -> tuple[str, list[Section]]:
    """The design sentence and every section of ``sections`` (default :data:`SECTIONS`).

    Raises:
        ValueError: two sections use the same figure name.
    """
    design = design_caption(con, chosen)
    built = [s for builder in (SECTIONS if sections is None else sections)
             if (s := builder(con, chosen, design)) is not None]  # fmt: skip
    names = [name for section in built for name in section.figures]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ValueError(f"report sections: figure names used twice: {', '.join(duplicated)}")
    return design, built


def all_figures(sections: Sequence[Section]) -> dict[str, Figure]:
    """Every figure of ``sections`` by file name, in report order."""
    return {name: figure for section in sections for name, figure in section.figures.items()}
