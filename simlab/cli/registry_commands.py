"""``simlab feeds|policies|opinions|metrics``: the registries, with formulas and metadata."""

from __future__ import annotations

from simlab.cli.app import app, console


def _metadata_line(entry) -> str:
    """The entry's registry metadata in one line: label, range, randomness, LLM use, citations."""
    parts = [getattr(entry, "axis_title", None) or getattr(entry, "label", None)]
    if (bounds := getattr(entry, "value_range", None)) is not None:
        parts.append(f"range [{bounds[0]:g}, {bounds[1]:g}]")
    if hasattr(entry, "stochastic"):
        parts.append("stochastic" if entry.stochastic else "deterministic")
    if getattr(entry, "uses_llm", False):
        parts.append("uses an LLM")
    if citations := getattr(entry, "citations", ()):
        parts.append("cites " + ", ".join(citations))
    return " · ".join(part for part in parts if part)


def _print_registry(entries, with_params: bool) -> None:
    """Each entry: its name, metadata, docstring as plain text (formulas unwrapped), parameters."""
    from rich.table import Table

    from simlab.cli.doc_text import doc_blocks
    from simlab.params import parameter_rows

    for entry in entries:
        name = getattr(entry, "name", None) or entry.key
        console.rule(f"[bold]{name}", align="left")
        if metadata := _metadata_line(entry):
            console.print(metadata, highlight=False, markup=False)
        for block in doc_blocks(entry.doc):  # a formula never wraps; prose wraps at words
            console.print(block.text, highlight=False, markup=False, soft_wrap=block.formula)
        if with_params:
            table = Table("parameter", "type", "default", "description", box=None, padding=(0, 2))
            for row in parameter_rows(entry.params):
                table.add_row(*(str(cell) for cell in row))
            console.print(table if table.row_count else "(no parameters)")
        console.print()


@app.command("feeds")
def list_feeds() -> None:
    """List the feed algorithms with their formulas and parameters."""
    from simlab.feeds import FEEDS

    _print_registry(FEEDS, with_params=True)


@app.command("policies")
def list_policies() -> None:
    """List the agent policies with their models and parameters."""
    from simlab.policies import POLICIES

    _print_registry(POLICIES, with_params=True)


@app.command("opinions")
def list_opinions() -> None:
    """List the opinion models with their formulas and parameters."""
    from simlab.opinion import OPINIONS

    _print_registry(OPINIONS, with_params=True)


@app.command("metrics")
def list_metrics() -> None:
    """List the turn.* and run.* metrics with their formulas."""
    from simlab.metrics import METRICS

    _print_registry(METRICS, with_params=False)
