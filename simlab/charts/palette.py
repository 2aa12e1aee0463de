"""Chart colours: one palette, keyed by registration order of the feeds.

The palette is Okabe–Ito without its yellow, which is too light for lines on
white [Okabe2008]; then Paul Tol's colour-blind-safe "muted" scheme without its
pale grey [Tol2021]; then as many generated hues as needed (golden-angle steps
around the HSL colour wheel at fixed saturation and lightness), so any number
of arms gets distinct colours.

Feed ``i`` in :meth:`simlab.feeds.FEEDS.registration_order` gets palette colour
``i``: a new feed gets the next colour with no chart edit. An arm that is not a
feed name (``"popularity:half_life=3"``, ``"my_variant"``) gets one of the
:data:`N_EXTRA` colours after the feeds', picked by a CRC-32 hash of the name,
so it keeps that colour in every chart unless two such arms in one chart hash
to the same colour; the later arm then moves on to the next free colour (past
the extras, into generated hues, if all are taken).
"""

from __future__ import annotations

import colorsys
import zlib
from collections.abc import Iterable

import altair as alt

OKABE_ITO: tuple[str, ...] = (
    "#000000",
    "#E69F00",
    "#0072B2",
    "#56B4E9",
    "#009E73",
    "#CC79A7",
    "#D55E00",
)
TOL_MUTED: tuple[str, ...] = (
    "#332288",
    "#88CCEE",
    "#44AA99",
    "#117733",
    "#999933",
    "#DDCC77",
    "#CC6677",
    "#882255",
    "#AA4499",
)
N_EXTRA = 10  # colours reserved for arms that are not feed names
GOLDEN_ANGLE = 0.381966  # of a turn: consecutive generated hues stay far apart


def generated_hue(i: int) -> str:
    """The ``i``-th generated colour: hue ``(0.1 + i * golden angle) mod 1`` at S = 0.65, L = 0.45."""
    red, green, blue = colorsys.hls_to_rgb((0.1 + i * GOLDEN_ANGLE) % 1.0, 0.45, 0.65)
    return "#" + "".join(f"{round(255 * c):02X}" for c in (red, green, blue))


def palette(n: int) -> list[str]:
    """The first ``n`` colours: Okabe–Ito, then Tol muted, then generated hues."""
    fixed = [*OKABE_ITO, *TOL_MUTED]
    return fixed[:n] + [generated_hue(i) for i in range(max(0, n - len(fixed)))]


def feed_colors() -> dict[str, str]:
    """Each registered feed's colour, by registration order (read afresh, so late registrations count)."""
    from simlab.feeds import FEEDS

    order = FEEDS.registration_order()
    return dict(zip(order, palette(len(order)), strict=True))


def extra_colors() -> tuple[str, ...]:
    """The :data:`N_EXTRA` colours after the feeds', for arms that are not feed names."""
    n_feeds = len(feed_colors())
    return tuple(palette(n_feeds + N_EXTRA)[n_feeds:])


def arm_colors(arms: Iterable[str]) -> list[str]:
    """One colour per distinct arm, in order: feeds by registration order, others by hash."""
    arms = list(dict.fromkeys(str(arm) for arm in arms))
    fixed, extra = feed_colors(), extra_colors()
    used = {fixed[arm] for arm in arms if arm in fixed}
    colors = []
    for arm in arms:
        color = fixed.get(arm)
        if color is None:
            start = zlib.crc32(arm.encode()) % len(extra)
            ring = extra[start:] + extra[:start]
            color = next((c for c in ring if c not in used), None) or _next_unused(used)
        used.add(color)
        colors.append(color)
    return colors


def _next_unused(used: set[str]) -> str:
    """The first palette colour past the feeds' and the extras' that is not in ``used``."""
    n = len(feed_colors()) + N_EXTRA
    while (color := palette(n + 1)[n]) in used:
        n += 1
    return color


def color_scale(arms: Iterable[str]) -> alt.Scale:
    """An ordinal colour scale with ``domain=arms`` (in order) and their fixed colours."""
    arms = list(dict.fromkeys(str(arm) for arm in arms))
    return alt.Scale(domain=arms, range=arm_colors(arms))
