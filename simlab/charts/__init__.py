"""Altair chart builders for the tidy frames of :mod:`simlab.analytics`.

Each builder is a pure function from a pandas frame to an Altair chart; none
reads a file or a database (:func:`save` is the single I/O helper). The package
is split by concept:

- :mod:`~simlab.charts.palette`: colours. A feed always gets the same colour,
  chosen by its registration order; other arm names hash into extra colours.
- :mod:`~simlab.charts.theme`: the ``"simlab"`` Altair theme, enabled on import
  (a process-wide switch; ``alt.theme.enable("default")`` undoes it).
- :mod:`~simlab.charts.encoding`: input checks, arm order, turn thinning and
  axis titles (a metric's title comes from its registry entry).
- :mod:`~simlab.charts.over_turns`, :mod:`~simlab.charts.arms`,
  :mod:`~simlab.charts.feed`: the builders.

Data size: Altair raises ``MaxRowsError`` when a chart embeds more than 5,000
rows. Each builder first reduces its input to the marks it draws (for example
one row per arm × turn, averaged over replicates). If a series over turns
still needs more than :data:`MAX_ROWS` rows, the builder keeps only every k-th
turn (the first and the last are always kept) and says so in the subtitle. Any
other frame that is still too large raises ``ValueError``. None of this enables
the vegafusion data transformer: once enabled, it makes a plain
``chart.to_dict()`` raise, and ``to_dict(format="vega")`` becomes required. A
notebook may still turn it on for its own charts.

Empty frames and missing columns raise ``ValueError`` naming the builder and the
expected columns. No empty chart is drawn.
"""

from simlab.charts.arms import action_mix, difference_dots
from simlab.charts.encoding import ACTIONS, MAX_ROWS, metric_label
from simlab.charts.feed import FEED_ACTIONS, feed_scores
from simlab.charts.files import save
from simlab.charts.over_turns import (
    actions_over_turns,
    exposure_diversity,
    follow_growth,
    metric_over_turns,
    polarization,
)
from simlab.charts.palette import arm_colors, color_scale, extra_colors, feed_colors, palette
from simlab.charts.theme import PANEL_WIDTH, THEME, WIDTH, theme

__all__ = [
    "ACTIONS",
    "FEED_ACTIONS",
    "MAX_ROWS",
    "PANEL_WIDTH",
    "THEME",
    "WIDTH",
    "action_mix",
    "actions_over_turns",
    "arm_colors",
    "color_scale",
    "difference_dots",
    "exposure_diversity",
    "extra_colors",
    "feed_colors",
    "feed_scores",
    "follow_growth",
    "metric_label",
    "metric_over_turns",
    "palette",
    "polarization",
    "save",
    "theme",
]
