"""``simlab figures``: a report's charts as PNG, SVG or PDF files sized for a paper."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from simlab.cli.app import ComparisonOption, DbOption, RunsOption, app, console, run_id_list
from simlab.errors import InputError


def _number(flag: str, text: str) -> float:
    """``text`` as a finite number, or a one-line error naming ``flag``."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{flag}: expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{flag}: expected a finite number, got {text!r}")
    return value


def _whole(flag: str, text: str) -> int:
    value = _number(flag, text)
    if value != int(value):
        raise InputError(f"{flag}: expected a whole number of px, got {text!r}")
    return int(value)


@app.command("figures")
def figures(
    comparison: ComparisonOption = None,
    runs: RunsOption = None,
    fmt: Annotated[
        str, typer.Option("--format", help="png, svg or pdf [default: pdf].", show_default=False)
    ] = "pdf",
    out: Annotated[
        Path | None, typer.Option(help="Output folder [default: figures/<id>/].")
    ] = None,
    width: Annotated[
        str, typer.Option(metavar="PX", help="Figure width in px, 200-4000 [default: 700].")
    ] = "700",
    height: Annotated[
        str, typer.Option(metavar="PX", help="Figure height in px, 100-4000 [default: 420].")
    ] = "420",
    font_size: Annotated[
        str, typer.Option(metavar="PX", help="Size of every text in px, 6-32 [default: 11].")
    ] = "11",
    scale: Annotated[
        str, typer.Option(metavar="X", help="PNG pixels per px, 0.5-8 [default: 2].")
    ] = "2",
    db: DbOption = None,
) -> None:
    """Write each chart of a report as one file (with captions.md), exactly --width x --height."""
    from simlab.paper_figures import check_options, write_figures

    if comparison and runs:
        raise InputError("--comparison and --runs are alternatives; give one")
    options = check_options(
        fmt.lower(),
        _whole("--width", width),
        _whole("--height", height),
        _number("--font-size", font_size),
        _number("--scale", scale),
    )
    run_ids = run_id_list(runs) or None
    written = write_figures(db, out, options, comparison_id=comparison, run_ids=run_ids)
    console.print(
        f"wrote {len(written)} {options.fmt.upper()} figures of {options.width}x{options.height} px "
        f"to {written[0].parent}/ (captions in captions.md)",
        highlight=False,
    )
