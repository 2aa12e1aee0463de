"""What agents were shown: coverage of the visible posts, topic and leaning diversity, cross-cutting share.

Diversity is Shannon entropy H = −Σ_c p_c ln p_c (nats) of the served items
over categories [Shannon1948]; cross-cutting exposure follows [Bakshy2015].
Shapes: ``n`` active agents, ``k`` feed size, ``T`` the topics the
population uses (:attr:`~simlab.world.Population.n_topics`, e.g. 8 for a
synthetic population of 8 topics, not the 12 simlab knows), which bounds topic
entropy by ln T and normalises topic evenness.
"""

from __future__ import annotations

import math

import numpy as np

from simlab.metrics.base import TurnData, metric
from simlab.population.topics import TOPIC_NAMES

LEANING_BINS = np.linspace(-1.0, 1.0, 6)  # 5 equal-width leaning bins on [-1, 1]
NEUTRAL = 0.1  # |leaning| <= NEUTRAL counts as neither side for cross-cutting exposure


def entropy(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy in nats of category counts along the last axis [Shannon1948].

    Args:
        counts: (..., C) non-negative counts.

    Returns:
        (...) entropies H = −Σ_c p_c ln p_c with p_c = counts_c / Σ counts;
        NaN where a row has no counts.
    """
    counts = np.asarray(counts, dtype=float)
    totals = counts.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = counts / totals
        terms = np.where(counts > 0, shares * np.log(shares), 0.0)
    # 0.0 - x rather than -x, so a single category gives 0.0, not -0.0.
    return np.where(totals[..., 0] > 0, 0.0 - terms.sum(axis=-1), np.nan)


def served(data: TurnData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every served item as parallel arrays (feed row, agent index, post index)."""
    return data.served


@metric(
    "turn.feed.unique_posts",
    label="Unique posts served",
    unit="count per turn",
    value_range=(0, math.inf),
    citations=(),
)
def unique_posts(data: TurnData) -> float:
    """Distinct posts served this turn, over all feeds.

    unique_posts = |∪_a F_a| for the feeds F_a of the active agents.

    Range: 0, 1, …, n_visible.
    """
    return float(np.count_nonzero(np.bincount(served(data)[2], minlength=1)))


@metric(
    "turn.feed.coverage",
    label="Catalog coverage",
    unit="share of visible posts",
    value_range=(0, 1),
    citations=("Ge2010",),
)
def coverage(data: TurnData) -> float:
    """Share of the visible posts that reached at least one feed (catalog coverage) [Ge2010].

    coverage = |∪_a F_a| / n_visible.

    Range: [0, 1]; NaN if no post was visible.
    """
    return unique_posts(data) / data.n_visible if data.n_visible > 0 else math.nan


@metric(
    "turn.exposure.topic_entropy",
    label="Topic entropy of all feeds",
    unit="nats",
    value_range=(0, math.log(len(TOPIC_NAMES))),
    citations=("Shannon1948",),
)
def topic_entropy(data: TurnData) -> float:
    """Topic diversity of everything served this turn, pooled over agents [Shannon1948].

    H = −Σ_k p_k ln p_k, with p_k the share of served items on topic k.

    Range: [0, ln T], T the population's topics (``pop.n_topics``, at most 12);
    NaN if nothing was served.
    """
    topics = data.pop.post_topic[served(data)[2]]
    return float(entropy(np.bincount(topics, minlength=len(data.pop.topics))))


@metric(
    "turn.exposure.topic_entropy_per_agent",
    label="Topic entropy per agent",
    unit="nats",
    value_range=(0, math.log(len(TOPIC_NAMES))),
    citations=("Shannon1948",),
)
def topic_entropy_per_agent(data: TurnData) -> float:
    """Topic diversity of what one person sees, averaged over active agents [Shannon1948].

    H̄ = (1/n) Σ_a H_a with H_a = −Σ_k p_ak ln p_ak, p_ak the share of agent a's
    feed on topic k; agents served nothing are left out.

    Range: [0, ln min(T, k)], T the population's topics (``pop.n_topics``);
    NaN if nothing was served.
    """
    n_topics = len(data.pop.topics)
    rows, _, posts = served(data)
    cells = rows * n_topics + data.pop.post_topic[posts]
    counts = np.bincount(cells, minlength=len(data.feeds) * n_topics)
    per_agent = entropy(counts.reshape(len(data.feeds), n_topics))
    return float(np.nanmean(per_agent)) if np.isfinite(per_agent).any() else math.nan


@metric(
    "turn.exposure.topic_evenness",
    label="Topic evenness of all feeds",
    unit="0–1",
    value_range=(0, 1),
    citations=("Pielou1966",),
)
def topic_evenness(data: TurnData) -> float:
    """Topic entropy of all feeds relative to its maximum for the population [Pielou1966].

    J = H / ln T, with H = turn.exposure.topic_entropy and T the number of topics
    the population uses (``pop.n_topics``); 1 = every topic served equally.

    Range: [0, 1]; NaN if nothing was served or T = 1.
    """
    n_topics = data.pop.n_topics
    if n_topics < 2:
        return math.nan
    return topic_entropy(data) / math.log(n_topics)


@metric(
    "turn.exposure.leaning_entropy",
    label="Leaning entropy of feeds",
    unit="nats",
    value_range=(0, math.log(5)),
    citations=("Shannon1948",),
)
def leaning_entropy(data: TurnData) -> float:
    """Leaning diversity of everything served this turn, pooled over agents [Shannon1948].

    H = −Σ_b p_b ln p_b over 5 equal-width bins of post leaning on [-1, 1]
    (edges −1, −0.6, −0.2, 0.2, 0.6, 1; the last bin includes 1).

    Range: [0, ln 5]; NaN if nothing was served.
    """
    counts, _ = np.histogram(data.pop.post_leaning[served(data)[2]], bins=LEANING_BINS)
    return float(entropy(counts))


@metric(
    "turn.exposure.cross_cutting_share",
    label="Cross-cutting exposure",
    unit="share of items",
    value_range=(0, 1),
    citations=("Bakshy2015",),
)
def cross_cutting_share(data: TurnData) -> float:
    """Share of served items from the other side of the divide [Bakshy2015].

    share = |{(a, p) served: sign(x_a) ≠ sign(y_p)}| / |{(a, p) served}|, counting
    only items where the agent's leaning before the turn x_a and the post's
    leaning y_p are both non-neutral (|x| > 0.1).

    Range: [0, 1]; NaN if no such item was served.
    """
    _, agents, posts = served(data)
    viewer = data.leaning_before[agents]
    post = data.pop.post_leaning[posts]
    sided = (np.abs(viewer) > NEUTRAL) & (np.abs(post) > NEUTRAL)
    if not sided.any():
        return math.nan
    return float(np.mean(np.sign(viewer[sided]) != np.sign(post[sided])))
