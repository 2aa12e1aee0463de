"""Writing charts to files: the one place in :mod:`simlab.charts` that does I/O.

Everything renders offline through vl-convert (no browser, no network).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import altair as alt
import vl_convert

FORMATS = ("png", "svg", "pdf")


def vl_version() -> str:
    """The Vega-Lite version Altair writes specs for (``"6.1"``), as vl-convert names it."""
    major, minor = alt.SCHEMA_VERSION.removeprefix("v").split(".")[:2]
    return f"{major}.{minor}"


def render(spec: dict, fmt: str, *, scale: float = 1.0) -> bytes:
    """A Vega-Lite spec (``chart.to_dict()``) as PNG, SVG or PDF bytes.

    Raises:
        ValueError: ``fmt`` is not one of :data:`FORMATS`.
    """
    version = vl_version()
    if fmt == "svg":
        return vl_convert.vegalite_to_svg(spec, vl_version=version).encode("utf-8")
    if fmt == "png":
        return vl_convert.vegalite_to_png(spec, vl_version=version, scale=scale)
    if fmt == "pdf":
        return vl_convert.vegalite_to_pdf(spec, vl_version=version, scale=scale)
    raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")


def save(
    chart: alt.TopLevelMixin | dict,
    path: str | Path,
    *,
    formats: Sequence[str] = FORMATS,
    scale_factor: float = 2.0,
) -> tuple[Path, ...]:
    """Write ``<path>.png``, ``<path>.svg`` and ``<path>.pdf`` (or ``formats``) offline.

    Args:
        chart: any Altair chart, or its Vega-Lite spec.
        path: the target without suffix; the format is appended (an existing dot
            in the name is kept). Parent directories are created.
        formats: which of :data:`FORMATS` to write, in this order.
        scale_factor: PNG pixel density (2 = sharp on high-DPI screens); SVG and
            PDF are vector and keep the chart's size.

    Returns:
        The written paths, in the order of ``formats``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ValueError(f"format: {unknown[0]!r} is not one of {', '.join(FORMATS)}")
    # Vega renders once, to SVG; PNG and PDF are converted from it (what vegalite_to_png
    # and vegalite_to_pdf do inside, so the bytes are the same, at a third of the cost).
    svg = vl_convert.vegalite_to_svg(spec, vl_version=vl_version())
    convert = {
        "svg": lambda: svg.encode("utf-8"),
        "png": lambda: vl_convert.svg_to_png(svg, scale=scale_factor),
        "pdf": lambda: vl_convert.svg_to_pdf(svg),
    }
    written = []
    for fmt in formats:
        target = Path(f"{path}.{fmt}")
        target.write_bytes(convert[fmt]())
        written.append(target)
    return tuple(written)
