"""Charts at a requested size and font size, for papers (``simlab figures``).

:func:`sized_spec` returns a chart's Vega-Lite spec whose rendered figure is
exactly ``width`` × ``height`` px (SVG/PDF units; PNG pixels are that times its
scale). The figure's size is its panels plus axes, legends and titles, and only
the panels stretch, so the panel sizes are found by the secant method on the
rendered size: with every panel width multiplied by ``s`` the figure is close to
``a + b·s`` px wide (labels and legends keep their size), two renders give
``a`` and ``b``, a third checks. What is left (a few px of rounding) goes into
the spec's padding, which adds to the size exactly. Heights work the same way.
"""

from __future__ import annotations

import copy
import re

import altair as alt
import vl_convert

from simlab.charts.files import vl_version
from simlab.charts.theme import theme

MAX_RENDERS = 8
FIT_PX = 6  # the rest of the size up to this is padding; more means try again
PADDING = 5  # Vega-Lite's default padding on each side, px
_SIZE = re.compile(r'<svg[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"')
# Spec keys that hold a view whose width/height may be scaled.
_VIEWS = ("spec", "layer", "hconcat", "vconcat", "concat")


def font_config(font_size: float) -> dict:
    """The theme's config with every text at ``font_size`` (titles 3 px larger)."""
    config = copy.deepcopy(theme()["config"])
    config["axis"].update(labelFontSize=font_size, titleFontSize=font_size)
    config["legend"].update(labelFontSize=font_size, titleFontSize=font_size)
    config["header"].update(labelFontSize=font_size, titleFontSize=font_size)
    config["title"].update(fontSize=font_size + 3, subtitleFontSize=font_size)
    config["text"] = {"fontSize": font_size}
    return config


def rendered_size(spec: dict) -> tuple[float, float]:
    """Width and height (px) of ``spec`` rendered as SVG."""
    svg = vl_convert.vegalite_to_svg(spec, vl_version=vl_version())
    found = _SIZE.search(svg)
    if found is None:
        raise RuntimeError("vl-convert returned an SVG without width and height")
    return float(found.group(1)), float(found.group(2))


def _views(node: dict):
    """Every view dict in ``node`` (itself, facet specs, layers, concat members)."""
    yield node
    for key in _VIEWS:
        child = node.get(key)
        for item in child if isinstance(child, list) else [child] if child else []:
            if isinstance(item, dict):
                yield from _views(item)


def _scaled(spec: dict, sx: float, sy: float) -> dict:
    """``spec`` with every panel width multiplied by ``sx`` and height by ``sy``."""
    out = copy.deepcopy(spec)
    for view, original in zip(_views(out), _views(spec), strict=True):
        if isinstance(original.get("width"), int | float):
            view["width"] = max(10.0, round(original["width"] * sx, 2))
        if isinstance(original.get("height"), int | float):
            view["height"] = max(10.0, round(original["height"] * sy, 2))
    return out


def _with_panel_sizes(spec: dict) -> dict:
    """``spec`` with the theme's default panel size written on views that have none.

    Only the innermost views (marks, no layer or concat) or the layer on top of them
    get one, so a facet's panels and a concat's members all become scalable.
    """
    out = copy.deepcopy(spec)
    view_config = out.get("config", {}).get("view", {})
    default_w = view_config.get("continuousWidth", 300)
    default_h = view_config.get("continuousHeight", 300)
    for view in _views(out):
        if "layer" in view or "mark" in view:
            if not _inside_sized(view, out):
                view.setdefault("width", default_w)
                view.setdefault("height", default_h)
    return out


def _inside_sized(view: dict, root: dict) -> bool:
    """Whether a layer above ``view`` already carries the size (layers share one)."""
    for candidate in _views(root):
        if candidate is not view and view in (candidate.get("layer") or []):
            return True
    return False


def sized_spec(
    chart: alt.TopLevelMixin, width: int, height: int, *, font_size: float | None = None
) -> dict:
    """``chart``'s spec, rendered exactly ``width`` × ``height`` px (font size ``font_size``).

    Raises:
        ValueError: the chart's labels, legends and titles alone are larger than
            ``width`` × ``height`` (name the smallest size that fits).
    """
    spec = chart.to_dict()
    if font_size is not None:
        spec["config"] = font_config(font_size)
    spec.pop("autosize", None)
    spec = _with_panel_sizes(spec)
    targets = (width, height)
    points = [[(1.0, size)] for size in rendered_size(spec)]  # per axis: (scale, size) tried
    for _ in range(MAX_RENDERS):
        scales = [_next_scale(tried, target) for tried, target in zip(points, targets, strict=True)]
        candidate = _scaled(spec, *scales)
        got = rendered_size(candidate)
        extra = (width - got[0], height - got[1])
        if 0 <= extra[0] <= FIT_PX and 0 <= extra[1] <= FIT_PX:
            break
        for axis in (0, 1):
            points[axis].append((scales[axis], got[axis]))
    else:
        if min(extra) < 0:
            raise ValueError(
                f"--width/--height: {width}x{height} px is too small for this chart "
                f"(its labels, legend and titles need about {got[0]:.0f}x{got[1]:.0f} px)"
            )
    candidate["padding"] = {
        "left": PADDING + extra[0] / 2,
        "right": PADDING + extra[0] / 2,
        "top": PADDING + extra[1] / 2,
        "bottom": PADDING + extra[1] / 2,
    }
    return candidate


def _next_scale(tried: list[tuple[float, float]], target: float) -> float:
    """The next panel scale to try: a secant step through the last two tries, aiming 2 px low."""
    aim = target - 2
    if len(tried) == 1:
        scale, size = tried[0]
        return scale * aim / size
    (s0, size0), (s1, size1) = tried[-2], tried[-1]
    if size1 == size0 or s1 == s0:
        return s1 * aim / size1
    return max(0.01, s1 + (aim - size1) * (s1 - s0) / (size1 - size0))
