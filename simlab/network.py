"""Follow-network drawings: node positions from a force-directed layout, and neighbourhoods.

:func:`spring_layout` is the Fruchterman-Reingold algorithm [Fruchterman1991] on
the undirected follow graph, in numpy (dense repulsion, O(n²) per iteration without
BLAS, attraction over the edges only; about a second for 600 agents on a busy
laptop, where networkx's sparse variant takes several). With ``k = sqrt(1/n)``, distances ``d_ij`` (at least 0.01) and
adjacency ``A``, each iteration moves node ``i`` by ``t`` along

    D_i = sum_j (p_i - p_j) * (k² / d_ij² - A_ij d_ij / k)

(repulsion between every pair, attraction along edges), with the temperature
``t`` cooling linearly from a tenth of the layout's width; the result is
centred and scaled into [-1, 1]. It is the update of networkx's dense
``spring_layout``, so the same start gives the same positions (the test checks).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

MAX_NODES = 3000  # the dense layout holds n² x 2 floats


def spring_layout(
    adjacency: np.ndarray,
    *,
    seed: int = 0,
    iterations: int = 50,
    start: np.ndarray | None = None,
    threshold: float = 1e-4,
) -> np.ndarray:
    """(n, 2) Fruchterman-Reingold positions in [-1, 1] for a symmetric (n, n) adjacency.

    Args:
        adjacency: symmetric 0/1 (or weighted) matrix.
        seed: seeds the uniform start positions in the unit square.
        iterations: cooling steps.
        start: start positions instead of random ones.
        threshold: stop once the mean step falls below this.

    Raises:
        ValueError: more than :data:`MAX_NODES` nodes.
    """
    n = len(adjacency)
    if n > MAX_NODES:
        raise ValueError(f"spring_layout: {n} nodes; at most {MAX_NODES} are laid out")
    if n == 0:
        return np.zeros((0, 2))
    pos = np.random.default_rng(seed).random((n, 2)) if start is None else start.astype(float)
    k = np.sqrt(1.0 / n)
    t = float(np.ptp(pos, axis=0).max()) * 0.1
    dt = t / (iterations + 1)
    i, j = np.nonzero(adjacency)  # attraction only along edges: O(E), not O(n²)
    weight = adjacency[i, j]
    for _ in range(iterations):
        dx, dy = pos[:, 0, None] - pos[None, :, 0], pos[:, 1, None] - pos[None, :, 1]
        repulsion = k * k / np.clip(dx * dx + dy * dy, 1e-4, None)  # k² / d², d at least 0.01
        displacement = np.stack([(dx * repulsion).sum(axis=1), (dy * repulsion).sum(axis=1)], 1)
        delta = pos[i] - pos[j]
        distance = np.clip(np.sqrt((delta * delta).sum(axis=1)), 0.01, None)
        pull = delta * (weight * distance / k)[:, None]
        displacement -= np.stack([np.bincount(i, pull[:, 0], n), np.bincount(i, pull[:, 1], n)], 1)
        length = np.clip(np.linalg.norm(displacement, axis=-1), 0.01, None)
        step = displacement * (t / length)[:, None]
        pos += step
        t -= dt
        if np.linalg.norm(step) / n < threshold:
            break
    pos -= pos.mean(axis=0)
    limit = np.abs(pos).max()
    return pos / limit if limit > 0 else pos


def neighbourhood(edges: pd.DataFrame, handle: str) -> pd.DataFrame:
    """The follow edges that touch ``handle`` (its follows and its followers)."""
    return edges[(edges["source"] == handle) | (edges["target"] == handle)]


def drawing_frames(
    edges: pd.DataFrame, leaning: pd.Series, *, nodes: Sequence[str] = (), seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Positioned nodes and edges of a follow graph, for :func:`simlab.charts.network.follow_network`.

    Args:
        edges: columns source, target (duplicates are drawn once).
        leaning: leaning by handle (accounts without one get NaN).
        nodes: handles to place even without an edge (isolated agents).
        seed: the layout's seed.

    Returns:
        (nodes: handle, x, y, leaning, followers (in-degree among ``edges``);
        edges: source, target, x, y, x2, y2).
    """
    pairs = edges[["source", "target"]].drop_duplicates()
    pairs = pairs[pairs["source"] != pairs["target"]]
    handles = pd.unique(
        pd.concat([pd.Series(list(nodes), dtype=object), pairs["source"], pairs["target"]])
    )
    index = {h: i for i, h in enumerate(handles)}
    a, b = pairs["source"].map(index).to_numpy(), pairs["target"].map(index).to_numpy()
    adjacency = np.zeros((len(handles), len(handles)))
    adjacency[a, b] = adjacency[b, a] = 1.0
    pos = spring_layout(adjacency, seed=seed)
    followers = pairs["target"].value_counts()
    placed = pd.DataFrame({"handle": handles, "x": pos[:, 0], "y": pos[:, 1]})
    placed["leaning"] = placed["handle"].map(leaning).astype(float)
    placed["followers"] = placed["handle"].map(followers).fillna(0).astype(int)
    at = placed.set_index("handle")[["x", "y"]]
    drawn = pairs.join(at, on="source").join(at.add_suffix("2"), on="target")
    return placed, drawn.reset_index(drop=True)


def run_drawing(
    edges: pd.DataFrame, activity: pd.DataFrame, *, focus: str | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The frames to draw one run's follow network: all agents, or ``focus``'s neighbourhood.

    Args:
        edges: :func:`simlab.analytics.follow_edges` of the run.
        activity: :func:`simlab.analytics.agent_activity` of the run (the agents and
            their leaning after the last turn).
        focus: an agent handle: draw only the edges touching it (accounts it follows
            and its followers, agents or not); None: every edge between agents.
    """
    leaning = activity.set_index("agent_handle")["leaning_end"]
    if focus is not None:
        return drawing_frames(neighbourhood(edges, focus), leaning, nodes=[focus])
    agents = set(activity["agent_handle"])
    among = edges[edges["source"].isin(agents) & edges["target"].isin(agents)]
    return drawing_frames(among, leaning, nodes=list(activity["agent_handle"]))
