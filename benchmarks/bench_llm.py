"""LLM client throughput, simlab's own overhead, cache replay speed, and the embedded model.

Usage: uv run python benchmarks/bench_llm.py [--latency-ms 50] [--skip-embedded]

The scripted chat-completions server of the tests runs in a separate process
(so its threads do not share this process's GIL) and answers every request
after ``--latency-ms``. Overhead = (time per decision through simlab: prompt,
schema, cache key, budget, request, validation, ledger) - (time per bare
``AsyncOpenAI.post`` of a same-sized body, the call simlab makes), both
sequential against a server with no delay.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import print_table
from openai.types.chat import ChatCompletion

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simlab.db import make_engine, migrate  # noqa: E402
from simlab.llm.decision import decision_schema  # noqa: E402
from tests.llm_helpers import decide, insert_run, make_client  # noqa: E402

SERVER = """
import sys, time
sys.path.insert(0, {repo!r})
from tests.scripted_llm import ScriptedLLM, slow
with ScriptedLLM(slow({delay})) as server:
    print(server.base_url, flush=True)
    sys.stdin.read()
"""


class ServerProcess:
    """The scripted server in a child process; stops when its stdin closes."""

    def __init__(self, delay_s: float) -> None:
        code = SERVER.format(repo=str(REPO), delay=delay_s)
        self.process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.base_url = self.process.stdout.readline().strip()

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def fresh_engine(directory: Path, name: str):
    path = directory / f"{name}.db"
    migrate(path)
    engine = make_engine(path)
    insert_run(engine)
    return engine


async def decide_all(client, n: int, turn: int = 0) -> float:
    """Seconds to make ``n`` decisions (agents a0..), all submitted at once."""
    start = time.perf_counter()
    async with client:
        results = await asyncio.gather(*(decide(client, f"a{i}", turn) for i in range(n)))
    elapsed = time.perf_counter() - start
    assert all(r.status == "ok" for r in results), {r.status for r in results}
    return elapsed


def throughput(directory: Path, base_url: str, latency: float) -> list[tuple[str, str, str]]:
    rows = []
    for concurrency in (1, 8, 32):
        n = 20 * concurrency if concurrency > 1 else 40
        engine = fresh_engine(directory, f"c{concurrency}")
        client = make_client(engine, base_url, cache_mode="off", concurrency=concurrency)
        rate = n / asyncio.run(decide_all(client, n))
        ideal = concurrency / latency
        rows.append(
            (
                f"decisions/s at concurrency {concurrency} ({n} decisions)",
                f"{rate:,.1f} ({rate / ideal:.0%} of {ideal:,.0f})",
                f">= {0.8 * ideal:,.0f}",
            )
        )
    return rows


def _clocks(coroutine) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) to run ``coroutine``."""
    wall, cpu = time.perf_counter(), time.process_time()
    asyncio.run(coroutine)
    return time.perf_counter() - wall, time.process_time() - cpu


async def _sequential(client, n: int) -> None:
    async with client:
        for i in range(n):
            assert (await decide(client, f"a{i}", 0)).status == "ok"


async def _bare(client, n: int) -> None:
    body = client.body([{"role": "user", "content": "x" * 900}], decision_schema(["p1"]), "d", 1)
    async with client:
        for _ in range(n):
            await client._openai.post("/chat/completions", body=body, cast_to=ChatCompletion)


def overhead(directory: Path, base_url: str, n: int = 300) -> list[tuple[str, str, str]]:
    engine = fresh_engine(directory, "overhead")
    make = lambda mode: make_client(engine, base_url, cache_mode=mode)  # noqa: E731
    _clocks(_bare(make("off"), 20))  # warm up connections and imports
    bare = _clocks(_bare(make("off"), n))
    rows = [
        (
            "bare AsyncOpenAI.post request, no server delay (wall / CPU)",
            f"{bare[0] / n * 1000:.2f} / {bare[1] / n * 1000:.2f} ms",
            "(baseline)",
        )
    ]
    for mode in ("off", "record"):
        wall, cpu = _clocks(_sequential(make(mode), n))
        rows.append(
            (
                f"simlab overhead per decision, cache {mode} (wall / CPU)",
                f"{(wall - bare[0]) / n * 1000:.2f} / {(cpu - bare[1]) / n * 1000:.2f} ms",
                "< 2 ms",
            )
        )
    return rows


def replay(directory: Path, base_url: str, n: int = 2000) -> list[tuple[str, str, str]]:
    engine = fresh_engine(directory, "replay")
    asyncio.run(decide_all(make_client(engine, base_url, cache_mode="record", concurrency=32), n))
    wall, cpu = _clocks(decide_all(make_client(engine, base_url, cache_mode="replay"), n))
    return [
        (
            f"cache replay decisions/s ({n} decisions; per wall / per CPU second)",
            f"{n / wall:,.0f} / {n / cpu:,.0f}",
            ">= 5,000",
        )
    ]


def embedded(directory: Path, n: int = 4) -> list[tuple[str, str, str]]:
    from simlab.llm.server import EmbeddedServer

    engine = fresh_engine(directory, "embedded")
    start = time.perf_counter()
    with EmbeddedServer(threads=1) as server:
        loaded = time.perf_counter() - start
        client = make_client(engine, server.base_url, cache_mode="off", concurrency=1,
                             fingerprint=server.fingerprint)  # fmt: skip

        async def main():
            async with client:
                return [await decide(client, f"a{i}", 0) for i in range(n)]

        start = time.perf_counter()
        results = asyncio.run(main())
        seconds = time.perf_counter() - start
    valid = sum(r.ok for r in results)
    requests = sum(len(r.calls) for r in results)
    return [
        ("embedded model load (1 thread)", f"{loaded:.1f} s", ""),
        (
            f"embedded decisions/s, 1 thread ({n} decisions, {requests} requests)",
            f"{n / seconds:.2f} ({valid}/{n} valid)",
            "~1 (issue 11)",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--skip-embedded", action="store_true")
    args = parser.parse_args()
    latency = args.latency_ms / 1000
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        with ServerProcess(latency) as slow_server:
            rows += throughput(directory, slow_server.base_url, latency)
        with ServerProcess(0.0) as fast_server:
            rows += overhead(directory, fast_server.base_url)
            rows += replay(directory, fast_server.base_url)
        if not args.skip_embedded:
            rows += embedded(directory)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print_table(
        f"LLM client (scripted server latency {args.latency_ms:g} ms; load average {load}"
        f" on {os.cpu_count()} cores)",
        rows,
    )


if __name__ == "__main__":
    main()
