"""When the posts of each source were written, and whether a run would ever serve them.

Synthetic posts start at ``SyntheticConfig.start`` (``simlab init --start``);
imported posts keep their real times. A database that mixes sources can put
them months apart, and a feed that ranks the newest visible posts then never
serves the older source. :func:`source_windows` reports each source's time
range and count (``simlab doctor``), :func:`imported_start` is the start that
puts a synthetic population inside the imported window (``simlab init``
without ``--start``), and :func:`unserved_sources` replays the engine's
candidate rule (a post is visible once created; feeds rank the
``candidate_pool`` newest visible posts, turn ``t`` at ``start + t·turn_hours``
with ``start`` the ``history_share`` quantile of post times) to name the
sources a run would never offer (``simlab run`` warns in one line; for the
chronological feed, which serves the newest ``feed.size`` candidates, it
checks that newest ``size``).
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine

from simlab.population.labels_served import SERVED_POSTS

SERVED = f"FROM feed_posts p WHERE {SERVED_POSTS}"


class SourceWindow(NamedTuple):
    """One source's posts: how many and when."""

    source: str
    posts: int
    first: str
    last: str


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def source_windows(engine: Engine) -> list[SourceWindow]:
    """Count and first/last ``created_at`` of the posts of each ``feed_posts.source``."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT source, count(*), min(created_at), max(created_at) FROM feed_posts "
                 "GROUP BY source ORDER BY source")
        ).all()  # fmt: skip
    return [SourceWindow(*row) for row in rows]


def imported_start(engine: Engine) -> datetime | None:
    """The earliest time of an imported (non-synthetic) post, or None without any."""
    with engine.connect() as connection:
        first = connection.execute(
            text("SELECT min(created_at) FROM feed_posts WHERE source != 'synthetic'")
        ).scalar()
    return datetime.fromisoformat(first) if first else None


def unserved_sources(
    engine: Engine, turns: int, turn_hours: float, history_share: float, pool: int | None
) -> list[str]:
    """Sources none of whose served posts would be a feed candidate in any turn of a run."""
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT p.post_id, p.source, p.created_at {SERVED}")).all()
    if not rows:
        return []
    rows.sort(key=lambda r: r[0])  # the engine indexes posts in post_id order
    created = np.array([_seconds(r[2]) for r in rows])
    sources = np.array([r[1] for r in rows], dtype=object)
    start = float(np.quantile(created, history_share))
    offered = np.zeros(len(rows), dtype=bool)
    for turn in range(turns):
        visible = np.nonzero(created <= start + turn * turn_hours * 3600.0)[0]
        if pool is not None and len(visible) > pool:
            visible = visible[np.lexsort((-visible, created[visible]))[-pool:]]
        offered[visible] = True
    return sorted(set(sources.tolist()) - set(sources[offered].tolist()))


def unserved_warning(sources: list[str], windows: list[SourceWindow]) -> str | None:
    """One line naming the sources a run would never serve, with their time ranges."""
    if not sources:
        return None
    spans = {w.source: f"{w.first[:10]}..{w.last[:10]}" for w in windows}
    named = ", ".join(f"{s} ({spans.get(s, '?')})" for s in sources)
    return (
        f"warning: this run would serve no posts of {named}: their times fall outside the run's "
        "window; re-create the synthetic population with `simlab init --start` inside it"
    )
