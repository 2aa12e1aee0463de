"""Run bundles: export a comparison, import it into fresh SQLite (and PostgreSQL), import again.

Usage: uv run python benchmarks/bench_bundle.py [--agents 1000] [--posts 5000] [--turns 10]
       [--replicates 2] [--postgres]

``--postgres`` also imports into a private PostgreSQL cluster
(:class:`simlab.pgcluster.PrivateCluster`) and exports from it again.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import peak_rss_mb, print_table, timer

from simlab.bundle import export_bundle, import_bundle
from simlab.compare import CompareConfig, compare
from simlab.db import make_engine, migrate
from simlab.pgcluster import PrivateCluster, find_bindir
from simlab.population import SyntheticConfig, create_synthetic


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--replicates", type=int, default=2)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    times: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        source = root / "source.db"
        engine = make_engine(source)
        migrate(engine)
        create_synthetic(engine, SyntheticConfig(agents=args.agents, posts=args.posts, seed=1))
        engine.dispose()
        spec = CompareConfig(
            feeds=["chronological", "popularity"],
            replicates=args.replicates,
            seed=2,
            run={"turns": args.turns},
        )
        with timer(times, "simulate"):
            comparison = compare(spec, str(source), jobs=2).comparison_id
        with timer(times, "export"):
            bundle = export_bundle(source, root / "bundle", comparison_id=comparison)
        rows = sum(bundle.rows.values())
        with timer(times, "import (fresh SQLite)"):
            import_bundle(bundle.folder, root / "target.db")
        with timer(times, "import again (no-op)"):
            import_bundle(bundle.folder, root / "target.db")
        if args.postgres:
            with PrivateCluster(find_bindir()) as cluster:
                url = cluster.create_database("bench")
                with timer(times, "import (fresh PostgreSQL)"):
                    import_bundle(bundle.folder, url)
                with timer(times, "export (from PostgreSQL)"):
                    export_bundle(url, root / "again", comparison_id=comparison)
    table = [
        (
            "runs x turns x agents",
            f"{len(bundle.selection.run_ids)} x {args.turns} x {args.agents}",
            "",
        ),
        ("rows in the bundle", f"{rows:,}", ""),
        ("bundle size", f"{bundle.bytes / 1e6:.1f} MB", ""),
    ]
    simulate = times.pop("simulate")
    table.append(("simulate the comparison (2 jobs)", f"{simulate:.1f} s", ""))
    table += [(step, f"{s:.2f} s ({rows / s:,.0f} rows/s)", "") for step, s in times.items()]
    table.append(("peak RSS", f"{peak_rss_mb():.0f} MB", ""))
    print_table("Run bundle export / import", table)


if __name__ == "__main__":
    main()
