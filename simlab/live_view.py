"""What the live experiment notebook draws after each turn: progress, metrics, leanings.

Pure functions of a :class:`~simlab.live_run.LiveRun` (or of no run yet), so
the notebook's output cell is one call and tests can draw what a user sees.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt

from simlab import charts
from simlab.analytics.selection import DEFAULT_METRICS
from simlab.charts.network import leaning_histogram
from simlab.experiment_form import run_links
from simlab.figures import note
from simlab.live_run import LiveRun, LiveSession

LIVE_METRICS = DEFAULT_METRICS[:4]
PANEL = 360  # two columns side by side in a medium-width notebook


def progress_html(run: LiveRun | None) -> str:
    """An HTML progress bar of the turns played, with the run's id and status."""
    if run is None:
        return "<p>No run yet: press <b>Start</b> or <b>Step</b>.</p>"
    played, total = run.next_turn, run.config.turns
    return (
        f'<div><progress value="{played}" max="{total}" style="width: 100%"></progress>'
        f"<p>Run <code>{run.run_id}</code>: turn {played} of {total} played, {run.status}.</p></div>"
    )


def metric_charts(
    run: LiveRun | None, keys: Sequence[str] = LIVE_METRICS
) -> list[alt.TopLevelMixin]:
    """One line per ``turn.*`` metric over the turns played (a note before the first turn)."""
    if run is None or run.next_turn == 0:
        return [note("Metrics appear here after the first turn.")]
    frame = run.metric_frame()
    drawn = []
    for key in keys:
        series = frame[frame["key"] == key]
        if series.empty or series["value"].isna().all():
            drawn.append(note(f"{charts.metric_label(key)}: undefined so far."))
            continue
        bands = series.assign(
            arm=run.config.feed.name,
            mean=series["value"],
            ci_low=series["value"],
            ci_high=series["value"],
        )  # fmt: skip  (one run: no band)
        drawn.append(charts.metric_over_turns(bands, key).properties(width=PANEL, height=150))
    return drawn


def leaning_chart(run: LiveRun | None) -> alt.TopLevelMixin:
    """The agents' leanings after the last played turn (before turn 0 if none)."""
    if run is None:
        return note("The leaning distribution appears here once a run starts.")
    after = f"after turn {run.next_turn - 1}" if run.next_turn else "before turn 0"
    chart = leaning_histogram(run.leanings(), title=f"Leaning distribution {after}")
    return chart.properties(width=PANEL, height=300)


def status_markdown(session: LiveSession, db: str) -> str:
    """The session's last error, and once the run completed, how to look at it."""
    parts = [f"**Could not play:** {session.message}"] if session.message else []
    run = session.run
    if run is not None and run.status == "completed":
        parts.append(run_links(run.run_id, db))
    elif run is not None and run.done:
        parts.append(
            f"Run `{run.run_id}` {run.status}; `uv run simlab resume {run.run_id}` finishes it."
        )
    return "\n\n".join(parts)
