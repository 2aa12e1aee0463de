"""The simlab Altair theme: importing this module registers ``"simlab"`` and enables it.

This is a process-wide switch, which is what a notebook wants. Call
``alt.theme.enable("default")`` to undo it.
"""

from __future__ import annotations

import altair as alt

from simlab.charts.palette import N_EXTRA, feed_colors, palette

THEME = "simlab"
WIDTH = 600
PANEL_WIDTH = 280  # one panel of a two-column facet or concat


@alt.theme.register(THEME, enable=True)
def theme() -> alt.theme.ThemeConfig:
    """The simlab look: 600 px wide panels, readable sizes, the feed palette first."""
    return {
        "config": {
            "font": "Helvetica, Arial, 'DejaVu Sans', sans-serif",
            "view": {"continuousWidth": WIDTH, "continuousHeight": 300, "stroke": None},
            "axis": {"labelFontSize": 12, "titleFontSize": 13, "gridColor": "#e6e6e6"},
            "legend": {"labelFontSize": 12, "titleFontSize": 13},
            "header": {"labelFontSize": 13, "titleFontSize": 13},
            "title": {"fontSize": 16, "subtitleFontSize": 12, "anchor": "start"},
            "line": {"strokeWidth": 2},
            "range": {"category": palette(len(feed_colors()) + N_EXTRA)},
        }
    }
