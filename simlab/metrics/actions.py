"""What agents did: action counts, impressions, engagement rate and the rank of liked items.

Counts are plain tallies of :class:`~simlab.metrics.base.TurnData` rows (per
turn) or :class:`~simlab.metrics.base.RunData` totals (per run). The
engagement rate is actions per served item, the quantity feed experiments
compare across arms [Guess2023].
"""

from __future__ import annotations

import math

import numpy as np

from simlab.metrics.base import RunData, TurnData, metric


def rate(actions: int, impressions: int) -> float:
    """``actions / impressions``, NaN when nothing was served."""
    return actions / impressions if impressions > 0 else math.nan


@metric(
    "turn.actions.likes",
    label="Likes",
    unit="count per turn",
    value_range=(0, math.inf),
    citations=(),
)
def likes(data: TurnData) -> float:
    """Likes given this turn.

    likes = number of (agent, post) like rows this turn.

    Range: 0, 1, 2, …
    """
    return float(len(data.likes))


@metric(
    "turn.actions.comments",
    label="Comments",
    unit="count per turn",
    value_range=(0, math.inf),
    citations=(),
)
def comments(data: TurnData) -> float:
    """Comments written this turn.

    comments = number of (agent, post) comment rows this turn.

    Range: 0, 1, 2, …
    """
    return float(len(data.comments))


@metric(
    "turn.actions.follows",
    label="Follows",
    unit="count per turn",
    value_range=(0, math.inf),
    citations=(),
)
def follows(data: TurnData) -> float:
    """New follows this turn.

    follows = number of (agent, account) follow rows this turn.

    Range: 0, 1, 2, …
    """
    return float(len(data.follows))


@metric(
    "turn.actions.total",
    label="Actions",
    unit="count per turn",
    value_range=(0, math.inf),
    citations=(),
)
def total(data: TurnData) -> float:
    """All actions this turn.

    total = likes + comments + follows.

    Range: 0, 1, 2, …
    """
    return float(len(data.likes) + len(data.comments) + len(data.follows))


@metric(
    "turn.feed.impressions",
    label="Impressions",
    unit="items served per turn",
    value_range=(0, math.inf),
    citations=(),
)
def impressions(data: TurnData) -> float:
    """Feed items served this turn.

    impressions = number of entries feeds[a, j] >= 0 (padding -1 is not served).

    Range: 0, 1, 2, …
    """
    return float(np.count_nonzero(data.feeds >= 0))


@metric(
    "turn.engagement.rate",
    label="Engagement rate",
    unit="actions per impression",
    value_range=(0, math.inf),
    citations=("Guess2023",),
)
def engagement_rate(data: TurnData) -> float:
    """Actions per served item this turn, compared across feed arms in [Guess2023].

    rate = (likes + comments + follows) / impressions.

    Range: [0, ∞) (an agent may act on several items of one feed); NaN if nothing was served.
    """
    return rate(int(total(data)), int(impressions(data)))


@metric(
    "turn.feed.mean_liked_rank",
    label="Mean rank of liked items",
    unit="rank, 1 = top",
    value_range=(1, math.inf),
    citations=("Joachims2005",),
)
def mean_liked_rank(data: TurnData) -> float:
    """Mean feed position of liked items: low values mean position bias [Joachims2005].

    mean_liked_rank = (1/L) Σ_l rank_l over the L likes this turn, rank 1-based.

    Range: [1, k] for feed size k; NaN if nobody liked anything.
    """
    return float(data.likes[:, 2].mean()) if len(data.likes) else math.nan


@metric(
    "run.actions.likes",
    label="Likes",
    unit="count per run",
    value_range=(0, math.inf),
    citations=(),
)
def run_likes(data: RunData) -> float:
    """Likes given over the run.

    likes = Σ_t turn.actions.likes.

    Range: 0, 1, 2, …
    """
    return float(data.likes)


@metric(
    "run.actions.comments",
    label="Comments",
    unit="count per run",
    value_range=(0, math.inf),
    citations=(),
)
def run_comments(data: RunData) -> float:
    """Comments written over the run.

    comments = Σ_t turn.actions.comments.

    Range: 0, 1, 2, …
    """
    return float(data.comments)


@metric(
    "run.actions.follows",
    label="Follows",
    unit="count per run",
    value_range=(0, math.inf),
    citations=(),
)
def run_follows(data: RunData) -> float:
    """Follows made over the run.

    follows = Σ_t turn.actions.follows.

    Range: 0, 1, 2, …
    """
    return float(data.follows)


@metric(
    "run.actions.total",
    label="Actions",
    unit="count per run",
    value_range=(0, math.inf),
    citations=(),
)
def run_total(data: RunData) -> float:
    """All actions over the run.

    total = likes + comments + follows, summed over turns.

    Range: 0, 1, 2, …
    """
    return float(data.likes + data.comments + data.follows)


@metric(
    "run.engagement.rate",
    label="Engagement rate",
    unit="actions per impression",
    value_range=(0, math.inf),
    citations=("Guess2023",),
)
def run_engagement_rate(data: RunData) -> float:
    """Actions per served item over the run, compared across feed arms in [Guess2023].

    rate = (likes + comments + follows) / impressions, all summed over turns.

    Range: [0, ∞); NaN if nothing was served.
    """
    return rate(data.likes + data.comments + data.follows, data.impressions)
