"""``simlab demo``: a fresh synthetic population, a four-feed comparison and its report.

The demo is the whole workflow in one command, sized to finish in a few minutes
on a two-core laptop while leaving differences between feeds that are larger
than the replicate noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simlab import analytics
from simlab.compare import CompareConfig, ProgressEvent, compare
from simlab.db import make_engine, migrate
from simlab.population import SyntheticConfig, create_synthetic

DEMO_DB = Path("data") / "demo.db"
DEMO_REPORT = Path("reports") / "demo"
DEMO_POPULATION = SyntheticConfig(agents=600, posts=3000, seed=0)
DEMO_COMPARISON = CompareConfig(
    feeds=["chronological", "popularity", "personalized", "bridging"],
    replicates=3,
    seed=0,
    run={"turns": 40},
)

# `simlab demo --llm`: LLM agents on the embedded 135M model (mechanics, not realistic behaviour).
# Half the agents ask the model (the rest stay rule-based: a mixed population), each
# prompt shows 2 feed items. The model writes ~20 tokens/s on one thread, so a
# decision costs ~5-8 s and the demo's ~20 requests a few minutes on an idle core.
DEMO_LLM_DB = Path("data") / "demo-llm.db"
DEMO_LLM_REPORT = Path("reports") / "demo-llm"
DEMO_LLM_POPULATION = SyntheticConfig(agents=12, posts=120, seed=0)
DEMO_LLM_COMPARISON = CompareConfig(
    feeds=["chronological", "personalized"],
    replicates=1,
    seed=0,
    run={
        "turns": 3,
        "policy": {"name": "llm", "params": {"share": 0.5, "feed_items": 2, "memory": 3}},
        "llm": {"sampling": {"max_tokens": 160}, "concurrency": 1},
    },
)


@dataclass(frozen=True)
class DemoResult:
    """What the demo made."""

    db: Path
    comparison_id: str
    summary: pd.DataFrame
    report: Path


def _fresh(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def run_demo(
    db: Path = DEMO_DB,
    out: Path = DEMO_REPORT,
    jobs: int | None = None,
    on_progress: ProgressEvent | None = None,
    say: Callable[[str], None] = print,
    population: SyntheticConfig = DEMO_POPULATION,
    comparison: CompareConfig = DEMO_COMPARISON,
) -> DemoResult:
    """Rebuild ``db`` from scratch, run the demo comparison and write its report to ``out``.

    ``population`` and ``comparison`` default to the demo's; tests pass smaller ones.
    """
    from simlab.report import write_report

    db.parent.mkdir(parents=True, exist_ok=True)
    _fresh(db)
    migrate(db)
    engine = make_engine(db)
    say(f"population: {create_synthetic(engine, population)}")
    engine.dispose()
    say(f"comparing {', '.join(comparison.feeds)} ({comparison.replicates} replicates each)")
    result = compare(comparison, db, jobs=jobs, on_progress=on_progress)
    con = analytics.connect(db)
    summary = analytics.comparison_summary(con, comparison_id=result.comparison_id)
    con.close()
    report = write_report(db, out, comparison_id=result.comparison_id)
    return DemoResult(db, result.comparison_id, summary, report.html)
