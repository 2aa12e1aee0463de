"""``simlab figures``: every chart of a report as one PNG, SVG or PDF file, sized for a paper.

The figures are the report's (:data:`simlab.report_sections.SECTIONS`), so a
figure in a paper equals the one in ``report.html``; each is fitted to exactly
``width`` × ``height`` px with every text at ``font_size``
(:func:`simlab.charts.paper.sized_spec`). Colours come from the feed palette
(:mod:`simlab.charts.palette`), so a feed keeps its colour in every figure.
``captions.md`` next to the files holds each figure's caption (with the design).

All flags are checked, and every figure is sized, before the first file is written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from simlab import analytics, report_sections
from simlab.charts import paper
from simlab.charts.files import FORMATS, render
from simlab.errors import InputError
from simlab.notebook_launch import database_file
from simlab.report import folder_name, safe_name

WIDTH_RANGE = (200, 4000)  # px
HEIGHT_RANGE = (100, 4000)  # px
FONT_RANGE = (6.0, 32.0)  # px
SCALE_RANGE = (0.5, 8.0)  # PNG pixels per px
CAPTIONS = "captions.md"


@dataclass(frozen=True)
class FigureOptions:
    """The checked flags of ``simlab figures``."""

    fmt: str = "pdf"
    width: int = 700
    height: int = 420
    font_size: float = 11.0
    scale: float = 2.0


def check_options(
    fmt: str, width: int, height: int, font_size: float, scale: float
) -> FigureOptions:
    """The flags as :class:`FigureOptions`.

    Raises:
        InputError: a flag is out of its range or the format unknown (one line).
    """
    if fmt not in FORMATS:
        raise InputError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    for flag, value, (low, high) in (
        ("--width", width, WIDTH_RANGE),
        ("--height", height, HEIGHT_RANGE),
        ("--font-size", font_size, FONT_RANGE),
        ("--scale", scale, SCALE_RANGE),
    ):
        if not low <= value <= high:  # also False for NaN
            raise InputError(f"{flag}: must be between {low:g} and {high:g}, got {value:g}")
    return FigureOptions(fmt, width, height, font_size, scale)


def write_figures(
    db: str | os.PathLike | None,
    out_dir: str | os.PathLike | None,
    options: FigureOptions,
    *,
    comparison_id: str | None = None,
    run_ids: list[str] | tuple[str, ...] | None = None,
) -> list[Path]:
    """Write one file per figure of the selection into ``out_dir`` and ``captions.md``.

    Args:
        db: the database; default ``$SIMLAB_DB``, else ``data/simlab.db``.
        out_dir: default ``figures/<comparison_id>/`` (``figures/runs-<digest>/``).
        options: format and size (:func:`check_options`).
        comparison_id: the comparison; default the latest.
        run_ids: these runs instead of a comparison.

    Returns:
        The figure files written, in report order.

    Raises:
        InputError: unknown selection, nothing to draw, ``out_dir`` is a file, or a
            figure does not fit the size (nothing is written then).
    """
    con = analytics.connect(database_file(db))
    try:
        chosen = analytics.initial_selection(
            con, run_ids=tuple(run_ids or ()), comparison_id=comparison_id
        )
        if not analytics.completed_turns(con, **chosen.kwargs):
            raise InputError("figures: the selection has no completed turn; nothing to draw")
        _, sections = report_sections.build_sections(con, chosen)
    finally:
        con.close()
    out = Path(out_dir) if out_dir is not None else Path("figures") / folder_name(chosen)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {out} is a file, not a folder")
    figures = report_sections.all_figures(sections)
    specs = {}
    for name, figure in figures.items():
        try:
            specs[name] = paper.sized_spec(
                figure.chart, options.width, options.height, font_size=options.font_size
            )
        except ValueError as exc:
            raise InputError(f"{exc} (figure {name})") from None
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, spec in specs.items():
        target = out / f"{safe_name(name)}.{options.fmt}"
        target.write_bytes(
            render(spec, options.fmt, scale=options.scale if options.fmt == "png" else 1.0)
        )
        written.append(target)
    lines = [f"# Figures: {chosen.title}", ""]
    lines += [
        f"- {path.name}: {figures[name].caption}" for name, path in zip(specs, written, strict=True)
    ]
    (out / CAPTIONS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return written
