"""Calibration sweep of the personalized feed's weights against the field checks of `simlab validate`.

Usage: uv run python benchmarks/calibrate_field.py [--seeds 1] [--turns 20]
       [--leaning 0.4,0.55,0.7] [--popularity 0,0.25,0.5] [--interest 1.0] [--recency 0.1]

For every combination of ``interest_weight``, ``recency_weight``,
``leaning_weight`` and ``popularity_weight`` it runs the personalized feed on the field populations of
:data:`simlab.validate.targets.FIELD_POPULATIONS` (every other setting at its
default, agent posting on) and prints one Markdown row: the Bakshy cut per side,
the Guess engagement change and the Huszár amplification ratio
(:mod:`simlab.validate.field`). The chronological control does not depend on
the swept weights, so it runs once.
"""

from __future__ import annotations

import argparse
import itertools
import time

from simlab.validate import field, targets
from simlab.validate.population import synthetic_population


def _floats(text: str) -> list[float]:
    return [float(word) for word in text.split(",")]


def main() -> None:
    """Run the sweep and print its table, row by row."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--leaning", type=_floats, default=[0.4, 0.55, 0.7])
    parser.add_argument("--popularity", type=_floats, default=[0.0, 0.25, 0.5])
    parser.add_argument("--interest", type=_floats, default=[1.0])
    parser.add_argument("--recency", type=_floats, default=[0.1])
    args = parser.parse_args()
    settings = targets.FIELD_POPULATIONS
    pops = [
        synthetic_population(settings["agents"], settings["posts"], seed)
        for seed in range(settings["population_seeds"])
    ]
    start = time.perf_counter()
    control = field.tally(pops, args.seeds, args.turns, "chronological")
    print(f"populations 0-{len(pops) - 1}, {args.seeds} seed(s), {args.turns} turns")
    print("\n| interest | recency | leaning | popularity | cut, conservatives | cut, liberals "
          "| engagement change | amplification ratio |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|", flush=True)
    for interest, recency, leaning, popularity in itertools.product(
        args.interest, args.recency, args.leaning, args.popularity
    ):
        params = {"interest_weight": interest, "recency_weight": recency,
                  "leaning_weight": leaning, "popularity_weight": popularity}  # fmt: skip
        result = field.results(field.tally(pops, args.seeds, args.turns, "personalized", params),
                               control)  # fmt: skip
        print(f"| {interest:g} | {recency:g} | {leaning:g} | {popularity:g} "
              f"| {result.cut['conservatives']:.1%} | {result.cut['liberals']:.1%} "
              f"| {result.engagement_change:+.1%} | {result.amplification_ratio:.3f} |",
              flush=True)  # fmt: skip
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
