"""Writing charts to files: the one place in :mod:`simlab.charts` that does I/O."""

from __future__ import annotations

from pathlib import Path

import altair as alt


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
