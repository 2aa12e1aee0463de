"""The frames behind a notebook's charts and tables, as CSV or Parquet downloads.

:func:`shown_frames` names, for one selection, a function per frame the
compare notebook shows (each the analytics call its chart draws); nothing is
computed until a download asks for it, so the buttons cost the page nothing.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

import duckdb
import pandas as pd

from simlab import analytics
from simlab.analytics.groups import group_metrics

FORMATS = ("csv", "parquet")


def shown_frames(
    con: duckdb.DuckDBPyConnection, *, keys: Iterable[str] = (), **selected
) -> dict[str, Callable[[], pd.DataFrame]]:
    """Frame name -> a function computing it, for every frame of the compare notebook.

    Args:
        con: from :func:`simlab.analytics.connect`.
        keys: the ``turn.*`` metrics drawn over turns (one frame each).
        **selected: ``run_ids`` and ``comparison_id`` as for every analytics call.
    """
    frames: dict[str, Callable[[], pd.DataFrame]] = {
        "summary": lambda: analytics.summary(con, **selected),
        "action_mix": lambda: analytics.action_mix(con, **selected),
        "actions_over_turns": lambda: analytics.action_counts(con, **selected),
        "exposure_diversity": lambda: analytics.exposure_diversity(con, **selected),
        "leaning_distribution": lambda: analytics.leaning_distribution(con, **selected),
        "follow_growth": lambda: analytics.follow_growth(con, **selected),
        "group_metrics": lambda: group_metrics(con, **selected),
    }
    for key in keys:
        frames[f"over_turns_{key}"] = lambda key=key: analytics.metric_bands(
            con, key=key, **selected
        )
    return frames


def encoded(frame: pd.DataFrame, fmt: str) -> bytes:
    """``frame`` as CSV (UTF-8, no index) or Parquet bytes.

    Raises:
        ValueError: an unknown format.
    """
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise ValueError(f"format: unknown format {fmt!r}; choose from {', '.join(FORMATS)}")


def download_buttons(frames: dict[str, Callable[[], pd.DataFrame]], prefix: str = "simlab"):
    """One ``mo.download`` per frame and format, computed when clicked, as a marimo table."""
    import marimo as mo

    def button(make: Callable[[], pd.DataFrame], name: str, fmt: str):
        return mo.download(
            data=lambda: encoded(make(), fmt), filename=f"{prefix}_{name}.{fmt}", label=fmt.upper()
        )

    rows = [
        mo.hstack(
            [mo.md(f"`{name}`"), *(button(make, name, fmt) for fmt in FORMATS)], justify="start"
        )
        for name, make in frames.items()
    ]
    return mo.vstack(rows)
