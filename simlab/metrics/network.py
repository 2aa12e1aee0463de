"""The agent→agent follow graph: its size, how often ties cross the divide, leaning assortativity.

Only follows between agents count (edges whose followed account is an agent); follows of
outside authors are left out, since outsiders have no leaning of their own
that changes. A side is ``leaning >= 0`` (0 counts as the positive side).
Homophily in ties follows [McPherson2001].
"""

from __future__ import annotations

import math

import numpy as np

from simlab.metrics.base import RunData, TurnData, metric
from simlab.world import SimState


def agent_edges(state: SimState) -> tuple[np.ndarray, np.ndarray]:
    """(follower, followed) agent indices of every agent→agent follow, each edge once.

    Accounts are agents-first, so an edge is agent→agent when its account index
    is below the number of agents.
    """
    edges = state.follows.pairs_before_column(len(state.leaning))
    return edges[:, 0], edges[:, 1]


def edge_count(state: SimState) -> int:
    """Number of agent→agent follows in ``state``."""
    return len(agent_edges(state)[0])


def ei_index(state: SimState) -> float:
    """Krackhardt–Stern E-I index of agent→agent follows by side [Krackhardt1988].

    EI = (E − I) / (E + I), with E the edges whose ends are on different sides
    (sign of leaning, 0 counted as positive) and I the edges within one side.

    Sides come from ``state.leaning``.

    Returns:
        EI in [-1, 1] (-1 all ties within a side, 1 all across); NaN if no edges.
    """
    leaning = state.leaning
    follower, followed = agent_edges(state)
    if len(follower) == 0:
        return math.nan
    side = leaning >= 0
    external = np.count_nonzero(side[follower] != side[followed])
    return float((2 * external - len(follower)) / len(follower))


def assortativity(state: SimState) -> float:
    """Leaning assortativity of the directed agent→agent follow graph [Newman2003].

    r = Pearson correlation of (x_u, x_v) over the edges u → v, each edge once.

    Leanings come from ``state.leaning``.

    Returns:
        r in [-1, 1]; NaN with fewer than 2 edges or if either end's leaning is constant.
    """
    leaning = state.leaning
    follower, followed = agent_edges(state)
    x, y = leaning[follower], leaning[followed]
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(np.corrcoef(x, y)[0, 1])


@metric(
    "turn.network.follow_edges",
    label="Follow edges",
    unit="count",
    value_range=(0, math.inf),
    citations=(),
)
def follow_edges(data: TurnData) -> float:
    """Agent→agent follow edges after the turn.

    edges = Σ_a Σ_b follows[a, b] over agents a, b.

    Range: 0, 1, …, n_agents².
    """
    return float(edge_count(data.state))


@metric(
    "turn.network.ei_index",
    label="E-I index of follows",
    unit="−1 to 1",
    value_range=(-1, 1),
    citations=("Krackhardt1988",),
)
def turn_ei_index(data: TurnData) -> float:
    """E-I index of agent→agent follows by current leaning side [Krackhardt1988].

    EI = (E − I) / (E + I) over follow edges, E across sides, I within one side.

    Range: [-1, 1], -1 = every tie within a side; NaN if no edges.
    """
    return ei_index(data.state)


@metric(
    "turn.network.leaning_assortativity",
    label="Leaning assortativity",
    unit="r, −1 to 1",
    value_range=(-1, 1),
    citations=("Newman2003",),
)
def leaning_assortativity(data: TurnData) -> float:
    """Pearson correlation of leaning across agent→agent follow edges [Newman2003].

    r = corr(x_u, x_v) over directed edges u → v (follower, followed), each once.

    Range: [-1, 1], > 0 = agents follow like-minded agents; NaN if < 2 edges or constant leanings.
    """
    return assortativity(data.state)


@metric(
    "run.network.new_follow_edges",
    label="New follow edges",
    unit="count per run",
    value_range=(0, math.inf),
    citations=(),
)
def new_follow_edges(data: RunData) -> float:
    """Net agent→agent follow edges added over the run.

    new = edges(final) − edges(initial), agent→agent follows only.

    Range: 0, 1, 2, … (follows are never removed); > 0 when agents followed each other.
    """
    return float(edge_count(data.final) - edge_count(data.initial))


@metric(
    "run.network.final_ei_index",
    label="Final E-I index of follows",
    unit="−1 to 1",
    value_range=(-1, 1),
    citations=("Krackhardt1988",),
)
def final_ei_index(data: RunData) -> float:
    """E-I index of the final agent→agent follows by final leaning side [Krackhardt1988].

    EI = (E − I) / (E + I) over final follow edges, sides from final leanings.

    Range: [-1, 1]; NaN if no edges.
    """
    return ei_index(data.final)


@metric(
    "run.network.ei_index_change",
    label="Change in E-I index",
    unit="−2 to 2",
    value_range=(-2, 2),
    citations=("Krackhardt1988",),
)
def ei_index_change(data: RunData) -> float:
    """Change of the E-I index over the run: < 0 means ties closed into camps [Krackhardt1988].

    ΔEI = EI(final follows, final leaning) − EI(initial follows, initial leaning).

    Range: [-2, 2]; NaN if either graph has no agent→agent edges.
    """
    initial = ei_index(data.initial)
    return final_ei_index(data) - initial


@metric(
    "run.network.final_assortativity",
    label="Final leaning assortativity",
    unit="r, −1 to 1",
    value_range=(-1, 1),
    citations=("Newman2003",),
)
def final_assortativity(data: RunData) -> float:
    """Leaning assortativity of the final agent→agent follow graph [Newman2003].

    r = corr(x_u, x_v) over final directed edges u → v, with final leanings.

    Range: [-1, 1]; NaN if < 2 edges or constant leanings.
    """
    return assortativity(data.final)
