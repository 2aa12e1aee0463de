"""Altair chart builders for the tidy frames of :mod:`simlab.analytics`.

Each builder is a pure function from a pandas frame to an Altair chart. None of them
reads a file or a database. :func:`save`, at the bottom, is the single I/O helper.

Colours: a feed always gets the same colour. :data:`FEED_COLORS` fixes one
Okabe–Ito colour per registered feed [Okabe2008], and :func:`color_scale` makes
every builder's arm scale from it. An arm name that is not a feed gets a colour from
:data:`EXTRA_COLORS`, picked by a CRC-32 hash of the name. So it keeps that colour
in every chart, unless two unknown arms in one chart hash to the same colour; the
later arm then moves on to the next free colour.

Theme: importing this module registers the Altair theme ``"simlab"`` and enables it.
This is a process-wide switch, which is what a notebook wants. Call
``alt.theme.enable("default")`` to undo it.

Data size: Altair raises ``MaxRowsError`` when a chart embeds more than 5,000 rows.
To avoid that, each builder first reduces its input to the marks it draws (for
example one row per arm × turn, averaged over replicates). If a series over turns
still needs more than :data:`MAX_ROWS` rows, the builder keeps only every k-th turn
(the first and the last are always kept) and says so in the subtitle. Any other
frame that is still too large raises ``ValueError``. None of this enables the
vegafusion data transformer: once enabled, it makes a plain ``chart.to_dict()``
raise, and ``to_dict(format="vega")`` becomes required. A notebook may still turn it
on for its own charts.

Empty frames and missing columns raise ``ValueError`` naming the builder and the
expected columns. No empty chart is drawn.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd

THEME = "simlab"
MAX_ROWS = 5000  # Altair's default max_rows for embedded data
WIDTH = 600
PANEL_WIDTH = 280  # one panel of a two-column facet or concat
_LEFT_HEADER = alt.Header(labelAnchor="start", labelFontWeight="bold")

# Okabe–Ito, without its yellow, which is too light for lines on white [Okabe2008].
FEED_COLORS: dict[str, str] = {
    "chronological": "#000000",
    "popularity": "#E69F00",
    "personalized": "#0072B2",
    "random": "#56B4E9",
    "in_network": "#009E73",
    "bridging": "#CC79A7",
    "diverse": "#D55E00",
}
# Colours for arms that are not feed names (Tableau10 colours not already in use).
EXTRA_COLORS: tuple[str, ...] = (
    "#9D755D",
    "#B279A2",
    "#72B7B2",
    "#E45756",
    "#54A24B",
    "#4C78A8",
    "#FF9DA6",
    "#BAB0AC",
    "#EECA3B",
    "#F58518",
)
ACTIONS = ("like", "comment", "follow")
# What the agent did with a feed item, from weakest to strongest.
FEED_ACTIONS: dict[str, str] = {
    "no action": "#BAB0AC",
    "liked": "#E69F00",
    "commented": "#0072B2",
    "followed author": "#D55E00",
}
ENTROPY = "turn.exposure.topic_entropy_per_agent"
CROSS_CUTTING = "turn.exposure.cross_cutting_share"
METRIC_LABELS: dict[str, str] = {
    "turn.actions.likes": "Likes (count per turn)",
    "turn.actions.comments": "Comments (count per turn)",
    "turn.actions.follows": "Follows (count per turn)",
    "turn.actions.total": "Actions (count per turn)",
    "turn.feed.impressions": "Impressions (items served per turn)",
    "turn.feed.unique_posts": "Unique posts served (count per turn)",
    "turn.feed.coverage": "Catalog coverage (share of visible posts)",
    "turn.feed.mean_liked_rank": "Mean rank of liked items (rank, 1 = top)",
    "turn.engagement.rate": "Engagement rate (actions per impression)",
    "turn.attention.like_gini_posts": "Like concentration over posts (Gini, 0–1)",
    "turn.attention.like_gini_authors": "Like concentration over authors (Gini, 0–1)",
    "turn.exposure.topic_entropy": "Topic entropy of all feeds (nats)",
    ENTROPY: "Topic entropy per agent (nats)",
    "turn.exposure.leaning_entropy": "Leaning entropy of feeds (nats)",
    CROSS_CUTTING: "Cross-cutting exposure (share of items)",
    "turn.network.follow_edges": "Follow edges (count)",
    "turn.network.ei_index": "E-I index of follows (−1 to 1)",
    "turn.network.leaning_assortativity": "Leaning assortativity (r, −1 to 1)",
    "turn.opinion.mean_leaning": "Mean leaning (scale −1 to 1)",
    "turn.opinion.leaning_std": "Leaning spread (std, scale −1 to 1)",
    "turn.opinion.leaning_variance": "Leaning variance (0–1)",
    "turn.opinion.bimodality": "Bimodality coefficient (0–1)",
    "turn.opinion.mean_abs_shift": "Mean leaning shift (|Δ| per turn, 0–2)",
    "run.actions.total": "Actions (count per run)",
    "run.engagement.rate": "Engagement rate (actions per impression)",
    "run.attention.like_gini_posts": "Like concentration over posts (Gini, 0–1)",
    "run.attention.like_gini_authors": "Like concentration over authors (Gini, 0–1)",
    "run.network.new_follow_edges": "New follow edges (count per run)",
    "run.network.ei_index_change": "Change in E-I index (−2 to 2)",
    "run.opinion.variance_change": "Change in leaning variance (−1 to 1)",
    "run.opinion.mean_abs_drift": "Mean leaning drift (|Δ| over the run, 0–2)",
    "run.opinion.final_bimodality": "Final bimodality coefficient (0–1)",
}


def metric_label(key: str) -> str:
    """The axis title "label (unit)" of a metric key; the key itself if unknown."""
    return METRIC_LABELS.get(key, key)


def arm_colors(arms: Iterable[str]) -> list[str]:
    """One colour per arm, in order: feeds from FEED_COLORS, others from EXTRA_COLORS."""
    arms = list(dict.fromkeys(str(arm) for arm in arms))
    used = {FEED_COLORS[arm] for arm in arms if arm in FEED_COLORS}
    colors = []
    for arm in arms:
        color = FEED_COLORS.get(arm)
        if color is None:
            start = zlib.crc32(arm.encode()) % len(EXTRA_COLORS)
            ring = EXTRA_COLORS[start:] + EXTRA_COLORS[:start]
            color = next((c for c in ring if c not in used), ring[0])
        used.add(color)
        colors.append(color)
    return colors


def color_scale(arms: Iterable[str]) -> alt.Scale:
    """An ordinal colour scale with ``domain=arms`` (in order) and their fixed colours."""
    arms = list(dict.fromkeys(str(arm) for arm in arms))
    return alt.Scale(domain=arms, range=arm_colors(arms))


@alt.theme.register(THEME, enable=True)
def theme() -> alt.theme.ThemeConfig:
    """The simlab look: 600 px wide panels, readable sizes, the feed palette first."""
    return {
        "config": {
            "font": "Helvetica, Arial, 'DejaVu Sans', sans-serif",
            "view": {"continuousWidth": WIDTH, "continuousHeight": 300, "stroke": None},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 12, "titleFontSize": 13},
            "header": {"labelFontSize": 13, "titleFontSize": 13},
            "title": {"fontSize": 16, "subtitleFontSize": 12, "anchor": "start"},
            "line": {"strokeWidth": 2},
            "range": {"category": list(FEED_COLORS.values()) + list(EXTRA_COLORS)},
        }
    }


def metric_over_turns(
    bands: pd.DataFrame,
    key: str | None = None,
    *,
    title: str | None = None,
    y_title: str | None = None,
) -> alt.LayerChart:
    """One metric over turns: a line per arm (mean over replicates) on its 95% CI band.

    Args:
        bands: columns arm, turn, mean, ci_low, ci_high (n is shown if present); one
            row per arm × turn of one metric, as ``analytics.metric_bands`` returns.
        key: the metric key, for the y-axis title; default: the frame's single
            ``key`` column value or ``bands.attrs["key"]``.
        title: chart title.
        y_title: y-axis title; default: ``metric_label(key)``.

    Raises:
        ValueError: missing columns, an empty frame, or more than one metric key.
    """
    _require(bands, ("arm", "turn", "mean", "ci_low", "ci_high"), "metric_over_turns")
    keys = list(pd.unique(bands["key"])) if "key" in bands.columns else []
    if len(keys) > 1:
        raise ValueError(f"metric_over_turns: one metric expected, got keys {keys}")
    key = key or (keys[0] if keys else bands.attrs.get("key"))
    arms = _arms(bands)
    data, note = _thin(_with_str_arm(bands))
    tooltip = ["arm:N", "turn:Q", _num("mean"), _num("ci_low"), _num("ci_high")]
    tooltip += ["n:Q"] if "n" in data.columns else []
    base = alt.Chart(data).encode(x=_turn_x(), color=_arm_color(arms))
    band = base.mark_area(opacity=0.2).encode(
        y="ci_low:Q", y2="ci_high:Q", color=_arm_color(arms, legend=False)
    )
    axis_title = y_title or (metric_label(key) if key else "Mean over replicates")
    line = base.mark_line().encode(y=alt.Y("mean:Q", title=axis_title), tooltip=tooltip)
    return _titled(alt.layer(band, line), title, note)


def action_mix(frame: pd.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Grouped bars: actions per agent-turn for each action, one bar per arm.

    Args:
        frame: columns arm, action, per_agent_turn (``analytics.action_mix``);
            repeated arm × action rows are averaged.
        title: chart title.
    """
    _require(frame, ("arm", "action", "per_agent_turn"), "action_mix")
    arms, actions = _arms(frame), _actions(frame)
    data = (
        _with_str_arm(frame)
        .groupby(["arm", "action"], sort=False, as_index=False)["per_agent_turn"]
        .mean()
    )
    _check_size(data, "action_mix")
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("action:N", sort=actions, title="Action", axis=alt.Axis(labelAngle=0)),
            xOffset=alt.XOffset("arm:N", sort=arms),
            y=alt.Y("per_agent_turn:Q", title="Actions per agent-turn (count)"),
            color=_arm_color(arms),
            tooltip=["arm:N", "action:N", _num("per_agent_turn")],
        )
        .properties(width=WIDTH)
    )
    return _titled(chart, title)


def actions_over_turns(action_counts: pd.DataFrame, *, title: str | None = None) -> alt.FacetChart:
    """Actions per turn, one panel per action, a line per arm (mean over replicates).

    Args:
        action_counts: columns arm, turn, action, count, one row per run × turn ×
            action (``analytics.action_counts``; run_id and replicate are ignored).
        title: chart title.
    """
    _require(action_counts, ("arm", "turn", "action", "count"), "actions_over_turns")
    arms, actions = _arms(action_counts), _actions(action_counts)
    means = (
        _with_str_arm(action_counts)
        .groupby(["arm", "turn", "action"], sort=False, as_index=False)["count"]
        .mean()
    )
    data, note = _thin(means)
    chart = (
        alt.Chart(data)
        .mark_line()
        .encode(
            x=_turn_x(),
            y=alt.Y("count:Q", title="Actions (count per turn)"),
            color=_arm_color(arms),
            tooltip=["arm:N", "turn:Q", "action:N", _num("count")],
        )
        .properties(width=WIDTH // len(actions) - 20, height=220)
        .facet(column=alt.Column("action:N", sort=actions, title=None))
    )
    return _titled(chart, title or "Actions per turn, mean over replicates", note)


def exposure_diversity(frame: pd.DataFrame, *, title: str | None = None) -> alt.HConcatChart:
    """Two panels over turns: topic entropy per agent and cross-cutting share, per arm.

    Args:
        frame: columns arm, turn, topic_entropy_per_agent, cross_cutting_share, one row
            per replicate × turn (``analytics.exposure_diversity``); lines show
            the mean over replicates.
        title: chart title.
    """
    measures = {"topic_entropy_per_agent": ENTROPY, "cross_cutting_share": CROSS_CUTTING}
    _require(frame, ("arm", "turn", *measures), "exposure_diversity")
    arms = _arms(frame)
    means = (
        _with_str_arm(frame)
        .groupby(["arm", "turn"], sort=False, as_index=False)[list(measures)]
        .mean()
    )
    data, note = _thin(means)
    base = alt.Chart().encode(x=_turn_x(), color=_arm_color(arms))
    panels = [
        base.mark_line()
        .encode(
            y=alt.Y(f"{column}:Q", title=metric_label(key)),
            tooltip=["arm:N", "turn:Q", _num(column)],
        )
        .properties(width=PANEL_WIDTH)
        for column, key in measures.items()
    ]
    return _titled(alt.hconcat(*panels, data=data), title or "Exposure diversity", note)


def polarization(leaning_distribution: pd.DataFrame, *, title: str | None = None) -> alt.FacetChart:
    """Heatmap of the agents' leaning distribution: turn × leaning bin, one panel per arm.

    Args:
        leaning_distribution: columns arm, turn, bin_low, bin_high, share, one row per
            arm × turn × leaning bin (``analytics.leaning_distribution``).
        title: chart title.
    """
    columns = ("arm", "turn", "bin_low", "bin_high", "share")
    _require(leaning_distribution, columns, "polarization")
    arms = _arms(leaning_distribution)
    # Each cell spans the turns up to the next shown one, so thinned columns stay contiguous.
    data, note = _thin(_with_str_arm(leaning_distribution)[list(columns)], span=True)
    chart = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            x=alt.X("turn_start:Q", title="Turn", scale=alt.Scale(zero=False, nice=False)),
            x2="turn_end:Q",
            y=alt.Y("bin_low:Q", title="Leaning (scale −1 to 1)"),
            y2="bin_high:Q",
            color=alt.Color(
                "share:Q",
                title="Share of agents",
                scale=alt.Scale(scheme="viridis", zero=True),
                legend=alt.Legend(format="%"),
            ),
            tooltip=[
                "arm:N",
                "turn:Q",
                "bin_low:Q",
                "bin_high:Q",
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
        .properties(width=PANEL_WIDTH, height=200)
        .facet(facet=alt.Facet("arm:N", sort=arms, title=None), columns=2)
    )
    return _titled(chart, title or "Leaning distribution over turns", note)


def follow_growth(frame: pd.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Cumulative new follows over turns: mean over replicates per arm, replicate range shaded.

    Args:
        frame: columns arm, turn, cumulative, one row per run × turn
            (``analytics.follow_growth``; run_id, replicate, new_follows are ignored).
        title: chart title.
    """
    _require(frame, ("arm", "turn", "cumulative"), "follow_growth")
    arms = _arms(frame)
    grouped = _with_str_arm(frame).groupby(["arm", "turn"], sort=False)["cumulative"]
    stats = grouped.agg(mean="mean", low="min", high="max").reset_index()
    data, note = _thin(stats)
    base = alt.Chart(data).encode(x=_turn_x(), color=_arm_color(arms))
    band = base.mark_area(opacity=0.15).encode(
        y="low:Q", y2="high:Q", color=_arm_color(arms, legend=False)
    )
    line = base.mark_line().encode(
        y=alt.Y("mean:Q", title="Cumulative new follows (count)"),
        tooltip=["arm:N", "turn:Q", _num("mean"), "low:Q", "high:Q"],
    )
    default = "Follow growth: mean over replicates, shaded from min to max"
    return _titled(alt.layer(band, line), title or default, note)


def difference_dots(
    summary: pd.DataFrame, *, baseline: str | None = None, title: str | None = None
) -> alt.FacetChart:
    """Forest plot: each arm's difference to the baseline arm with its 95% CI, a panel per key.

    Args:
        summary: columns key, arm, diff, diff_low, diff_high (mean, ci_low, ci_high, n
            go to the tooltip if present), as ``analytics.comparison_summary`` returns.
        baseline: the arm the differences are taken to; its rows are dropped.
            Default: the first arm in the frame.
        title: chart title.

    Raises:
        ValueError: missing columns, an empty frame, or nothing but the baseline.
    """
    _require(summary, ("key", "arm", "diff", "diff_low", "diff_high"), "difference_dots")
    baseline = baseline or _arms(summary)[0]
    data = _with_str_arm(summary)
    data = data[data["arm"] != baseline].assign(metric=lambda d: d["key"].map(metric_label))
    if data.empty:
        raise ValueError(f"difference_dots: no arm besides the baseline {baseline!r}")
    _check_size(data, "difference_dots")
    arms, metrics = _arms(data), list(pd.unique(data["metric"]))
    extra = [_num(c) for c in ("mean", "ci_low", "ci_high") if c in data.columns]
    extra += ["n:Q"] if "n" in data.columns else []
    y = alt.Y("arm:N", sort=arms, title=None)
    x_title = f"Difference to {baseline} (95% CI)"
    base = alt.Chart().encode(y=y, color=_arm_color(arms))
    zero = alt.Chart().mark_rule(color="#666666", strokeDash=[4, 3]).encode(x=alt.datum(0))
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("diff_low:Q", title=x_title), x2="diff_high:Q"
    )
    dots = base.mark_circle(size=80, opacity=1).encode(
        x="diff:Q",
        tooltip=["key:N", "arm:N", _num("diff"), _num("diff_low"), _num("diff_high"), *extra],
    )
    chart = (
        alt.layer(zero, bars, dots, data=data)
        .properties(width=WIDTH - 100)
        .facet(
            facet=alt.Facet("metric:N", sort=metrics, title=None, header=_LEFT_HEADER), columns=1
        )
        .resolve_scale(x="independent")
    )
    return _titled(chart, title or f"Difference to {baseline}")


def feed_scores(agent_feed: pd.DataFrame, *, title: str | None = None) -> alt.Chart:
    """One agent's feed: score by rank, each bar coloured by the strongest thing the agent did.

    Args:
        agent_feed: columns rank, score, liked, commented, followed_author (post_id,
            topic, post_leaning, author_handle, text go to the tooltip if present),
            one row per feed item (``analytics.agent_feed``).
        title: chart title.

    Raises:
        ValueError: missing columns, an empty frame, or a rank that repeats (not one feed).
    """
    flags = ("liked", "commented", "followed_author")
    _require(agent_feed, ("rank", "score", *flags), "feed_scores")
    if agent_feed["rank"].duplicated().any():
        raise ValueError("feed_scores: ranks repeat; pass one agent's feed of one turn")
    data = agent_feed.sort_values("rank").head(MAX_ROWS).copy()
    did = data[list(flags)].fillna(False).astype(bool)
    data["action"] = np.select(
        [did["followed_author"], did["commented"], did["liked"]],
        ["followed author", "commented", "liked"],
        "no action",
    )
    if "text" in data.columns:
        data["text"] = data["text"].astype(str).str.slice(0, 120)
    optional = ("post_id", "topic", "post_leaning", "author_handle", "text")
    tooltip = ["rank:O", _num("score"), "action:N", *[c for c in optional if c in data.columns]]
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("rank:O", title="Rank in feed (1 = top)"),
            y=alt.Y("score:Q", title="Feed score (ranking units)"),
            color=alt.Color(
                "action:N",
                title="What the agent did",
                scale=alt.Scale(domain=list(FEED_ACTIONS), range=list(FEED_ACTIONS.values())),
            ),
            tooltip=tooltip,
        )
        .properties(width=WIDTH)
    )
    note = (
        f"top {MAX_ROWS:,} of {len(agent_feed):,} items shown"
        if len(data) < len(agent_feed)
        else None
    )
    return _titled(chart, title, note)


def _require(frame: pd.DataFrame, columns: Sequence[str], builder: str) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{builder}: missing column(s) {missing}; expected {list(columns)}")
    if frame.empty:
        raise ValueError(f"{builder}: the frame is empty; there is nothing to draw")


def _check_size(frame: pd.DataFrame, builder: str) -> None:
    if len(frame) > MAX_ROWS:
        raise ValueError(
            f"{builder}: {len(frame)} rows to draw, more than {MAX_ROWS}; filter the frame first"
        )


def _arms(frame: pd.DataFrame) -> list[str]:
    """Arms in order of first appearance (the order the analytics frame lists them)."""
    return list(dict.fromkeys(frame["arm"].astype(str)))


def _with_str_arm(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(arm=frame["arm"].astype(str))


def _actions(frame: pd.DataFrame) -> list[str]:
    seen = list(dict.fromkeys(frame["action"].astype(str)))
    return [a for a in ACTIONS if a in seen] + [a for a in seen if a not in ACTIONS]


def _thin(frame: pd.DataFrame, span: bool = False) -> tuple[pd.DataFrame, str | None]:
    """Keep every k-th turn (and the last) so that at most MAX_ROWS rows remain.

    Returns the kept rows and a subtitle note (None if nothing was dropped). With
    ``span``, columns turn_start/turn_end stretch each kept turn's cell to the next one.
    """
    turns, step, kept = np.sort(frame["turn"].unique()), 1, frame
    while len(kept) > MAX_ROWS:
        step = max(step + 1, math.ceil(len(frame) / MAX_ROWS))
        if step > len(turns):
            raise ValueError(f"one turn holds over {MAX_ROWS} rows; aggregate the frame first")
        kept = frame[frame["turn"].isin(set(turns[::step]) | {turns[-1]})]
    frame = kept
    if span:
        shown = np.sort(frame["turn"].unique())
        ends = dict(zip(shown, np.append(shown[1:], shown[-1] + 1), strict=True))
        frame = frame.assign(turn_start=frame["turn"] - 0.5, turn_end=frame["turn"].map(ends) - 0.5)
    note = (
        f"1 in {step} turns shown (a chart embeds at most {MAX_ROWS:,} rows)" if step > 1 else None
    )
    return frame, note


def _titled(chart, title: str | None, note: str | None = None):
    """Set the title; a note (rows were dropped) goes into the subtitle."""
    if note:
        return chart.properties(title=alt.Title(title or "", subtitle=note))
    return chart.properties(title=title) if title else chart


def _turn_x() -> alt.X:
    scale = alt.Scale(zero=False, nice=False)
    return alt.X("turn:Q", title="Turn", scale=scale, axis=alt.Axis(format="d", tickMinStep=1))


def _arm_color(arms: list[str], legend: bool = True) -> alt.Color:
    """Colour by arm; layers under a line (CI bands) pass legend=False so the legend shows lines."""
    if legend:
        return alt.Color("arm:N", scale=color_scale(arms), title="Feed")
    return alt.Color("arm:N", scale=color_scale(arms), legend=None)


def _num(field: str) -> alt.Tooltip:
    return alt.Tooltip(f"{field}:Q", format=".3f")


# --- I/O: the one exception to "no I/O" in this module ------------------------------


def save(
    chart: alt.TopLevelMixin, path: str | Path, *, scale_factor: float = 2.0
) -> tuple[Path, Path]:
    """Write ``<path>.png`` and ``<path>.svg`` offline through vl-convert.

    Args:
        chart: any Altair chart.
        path: the target without suffix; ``.png`` and ``.svg`` are appended (an
            existing dot in the name is kept). Parent directories are created.
        scale_factor: PNG pixel density (2 = sharp on high-DPI screens).

    Returns:
        The PNG and SVG paths.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    png, svg = Path(f"{path}.png"), Path(f"{path}.svg")
    chart.save(png, scale_factor=scale_factor)
    chart.save(svg)
    return png, svg
