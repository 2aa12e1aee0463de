"""Evaluator throughput: texts/s for each embedded evaluator on one core, and the judge.

Usage: uv run python benchmarks/bench_evaluate.py [--texts 20000] [--judge-texts 2000]
       [--concurrency 8]

Texts are the rule-based policy's comments (what simlab agents write, with the
repeats templates produce) mixed with a few clearly offensive ones, and the same
texts made all distinct (``sentiment`` scores each distinct text of a batch once). The process is pinned to one CPU (any BLAS or
OpenMP threads share it), so the embedded numbers are single-core. The judge talks to the
scripted chat-completions server of the test suite (tests/scripted_llm.py, its judge
script) over real HTTP on 127.0.0.1 through simlab.llm's async client at the given
concurrency, without a cache: its number measures simlab's client, validation and
accounting, not a model.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import peak_rss_mb, print_table

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/ for the server

from simlab.db import make_engine, migrate  # noqa: E402
from simlab.evaluators import EVALUATORS, EvaluatorOptions  # noqa: E402
from simlab.evaluators.pipeline import build_scorers, evaluate  # noqa: E402
from simlab.evaluators.targets import TARGETS  # noqa: E402
from simlab.population.comments import comment  # noqa: E402
from simlab.population.topics import TOPICS  # noqa: E402
from tests.scripted_llm import ScriptedLLM, judge  # noqa: E402

TARGET_EMBEDDED = 5000.0
OFFENSIVE = ("You are a fucking idiot.", "Shut up, you stupid bitch.", "Go to hell, asshole.")


def texts(n: int, seed: int = 0) -> list[str]:
    """``n`` agent-style comments, one in twenty replaced by an offensive line."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if i % 20 == 0:
            out.append(OFFENSIVE[i % len(OFFENSIVE)])
            continue
        topic = int(rng.integers(len(TOPICS)))
        post = f"{TOPICS[topic].name} matters more than people think"
        out.append(comment(topic, post, float(rng.uniform(-1, 1)), bool(rng.random() < 0.5), rng))
    return out


def rate(name: str, corpus: list[str], options: EvaluatorOptions) -> tuple[float, float]:
    """(texts/s, seconds) scoring ``corpus`` in the evaluator's own batch size (warm)."""
    entry = EVALUATORS.get(name)
    scorer = entry.build(options, None)
    try:
        scorer.score(corpus[:10])  # warm-up: model load, first call
        started = time.perf_counter()
        for start in range(0, len(corpus), entry.batch_size):
            scorer.score(corpus[start : start + entry.batch_size])
        elapsed = time.perf_counter() - started
    finally:
        scorer.close()
    return len(corpus) / elapsed, elapsed


def pipeline_rate(corpus: list[str], folder: Path) -> tuple[float, float]:
    """(texts/s, seconds) of the whole pipeline on ``corpus`` stored as comments of one run.

    Both embedded evaluators: read pages, score, insert rows batch by batch, then
    compute the agent score histories (100 agents x 10 turns).
    """
    path = folder / "bench.db"
    migrate(path)
    now = "2026-01-01T00:00:00+00:00"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO runs (run_id, created_at, total_turns, total_agents, started_at, status)"
            " VALUES ('bench', ?, 10, 100, ?, 'running')",
            (now, now),
        )
        connection.executemany(
            "INSERT INTO comments (comment_id, run_id, turn_number, agent_handle, post_id, text,"
            " created_at) VALUES (?, 'bench', ?, ?, ?, ?, ?)",
            [(f"c{i:07d}", i % 10, f"a{i % 100}", f"p{i}", t, now) for i, t in enumerate(corpus)],
        )
    engine = make_engine(path)
    scorers = build_scorers(None, EvaluatorOptions())
    started = time.perf_counter()
    evaluate(engine, ["bench"], scorers, [TARGETS["comments"]])
    elapsed = time.perf_counter() - started
    engine.dispose()
    return 2 * len(corpus) / elapsed, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=20000)
    parser.add_argument("--judge-texts", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    if cores:
        os.sched_setaffinity(0, {min(cores)})
    corpus = texts(args.texts)
    distinct = [f"{t} #{i}" for i, t in enumerate(corpus)]  # no repeats: the worst case
    rows = []
    for name in ("sentiment", "offensive"):
        for label, batch in (("agent comments", corpus), ("all distinct", distinct)):
            per_s, elapsed = rate(name, batch, EvaluatorOptions())
            verdict = "ok" if per_s >= TARGET_EMBEDDED else "BELOW"
            rows.append((f"{name}: {len(batch)} {label}, 1 core",
                         f"{per_s:,.0f} texts/s ({elapsed:.2f} s)",
                         f">= {TARGET_EMBEDDED:,.0f} texts/s ({verdict})"))  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        per_s, elapsed = pipeline_rate(corpus, Path(folder))
    rows.append((f"simlab evaluate pipeline: 2 evaluators x {len(corpus)} comments, 1 core",
                 f"{per_s:,.0f} evaluations/s ({elapsed:.2f} s)", "reported"))  # fmt: skip
    if cores:
        os.sched_setaffinity(0, cores)  # the judge and its server may use every core
    with ScriptedLLM(judge) as server:
        options = EvaluatorOptions(
            llm_base_url=server.base_url, llm_model="scripted", concurrency=args.concurrency
        )
        per_s, elapsed = rate("llm_judge", corpus[: args.judge_texts], options)
    rows.append((f"llm_judge vs scripted server, concurrency {args.concurrency}",
                 f"{per_s:,.0f} texts/s ({elapsed:.2f} s for {args.judge_texts})", "reported"))  # fmt: skip
    rows.append(("peak RSS", f"{peak_rss_mb():.0f} MB", ""))
    print_table("Evaluator throughput", rows)


if __name__ == "__main__":
    main()
