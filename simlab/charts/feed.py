"""One agent's feed: score by rank, coloured by what the agent did with each item."""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from simlab.charts.encoding import (
    MAX_ROWS,
    num_tooltip,
    require_columns,
    titled,
)
from simlab.charts.theme import WIDTH

# What the agent did with a feed item, from weakest to strongest.
FEED_ACTIONS: dict[str, str] = {
    "no action": "#BAB0AC",
    "liked": "#E69F00",
    "commented": "#0072B2",
    "followed author": "#D55E00",
}


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
    require_columns(agent_feed, ("rank", "score", *flags), "feed_scores")
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
    tooltip = [
        alt.Tooltip("rank:O"),
        num_tooltip("score"),
        alt.Tooltip("action:N"),
        *[alt.Tooltip(c) for c in optional if c in data.columns],
    ]
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
    return titled(chart, title, note)
