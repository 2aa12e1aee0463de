"""A/A coverage of the comparison intervals: K comparisons of a feed against itself.

Usage: uv run python benchmarks/bench_aa_coverage.py [--repetitions 200] [--replicates 3]
       [--agents 40] [--posts 200] [--turns 3] [--jobs 2]

Prints, per metric key, how many of the K 95% intervals covered 0 with a
Clopper-Pearson interval (:func:`simlab.inference.aa_coverage`, the function the A/A
check of ``simlab validate`` runs), and the wall time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from common import print_table

from simlab.db import make_engine, migrate
from simlab.inference import aa_coverage
from simlab.population import SyntheticConfig, create_synthetic

KEYS = ("turn.exposure.cross_cutting_share", "run.engagement.rate")


def main() -> None:
    """Run the A/A comparisons and print the coverage table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=200)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--agents", type=int, default=40)
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "aa.db"
        migrate(db)
        engine = make_engine(db)
        create_synthetic(engine, SyntheticConfig(agents=args.agents, posts=args.posts, seed=1))
        engine.dispose()
        rows = []
        for seed, key in enumerate(KEYS):
            start = time.perf_counter()
            result = aa_coverage(str(db), repetitions=args.repetitions, replicates=args.replicates,
                                 key=key, turns=args.turns, seed=seed, jobs=args.jobs)  # fmt: skip
            seconds = time.perf_counter() - start
            rows.append((f"{key}: {result.covered}/{result.trials} cover 0 ({seconds:.0f} s)",
                         f"{result.share:.3f} [{result.low:.3f}, {result.high:.3f}]",
                         "0.95 inside the Clopper-Pearson interval"))  # fmt: skip
    print_table(f"A/A coverage, K = {args.repetitions}, R = {args.replicates}", rows)


if __name__ == "__main__":
    main()
