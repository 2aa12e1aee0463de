"""``simlab llm serve`` and ``simlab usage``: a typer app mounted into ``simlab.cli``.

Heavy imports (xllamacpp, openai, pandas) happen inside the commands, so
``simlab --help`` stays fast.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
from typing import Annotated

import typer
from rich.console import Console

from simlab.errors import InputError
from simlab.llm.server import HOST

app = typer.Typer()
llm_app = typer.Typer(
    help="The embedded language model (SmolLM2-135M, offline).", no_args_is_help=True
)
app.add_typer(llm_app, name="llm")

console = Console()
# The same --db option as simlab.cli's (which imports this module, so it cannot be imported here).
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="SQLite path or SQLAlchemy URL [default: $SIMLAB_DB or data/simlab.db]"
    ),
]
MIN_PORT, MAX_PORT = 1024, 65535


def check_port(port: int) -> None:
    """Raise InputError unless ``port`` is in 1024..65535 and free on 127.0.0.1."""
    if not MIN_PORT <= port <= MAX_PORT:
        raise InputError(f"--port must be between {MIN_PORT} and {MAX_PORT}, got {port}")
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            raise InputError(f"--port {port} is already in use on {HOST}") from None


def check_threads(threads: int) -> None:
    """Raise InputError unless ``threads`` is in 1..the number of cores."""
    cores = os.cpu_count() or 1
    if not 1 <= threads <= cores:
        raise InputError(f"--threads must be between 1 and {cores} (the cores), got {threads}")


@llm_app.command("serve")
def serve(
    port: Annotated[
        int | None, typer.Option(help="Port on 127.0.0.1 (1024-65535) [default: a free one]")
    ] = None,
    threads: Annotated[
        int, typer.Option(help="CPU threads (1 is steadiest on a busy machine).")
    ] = 1,
    ctx: Annotated[int, typer.Option(help="Context length in tokens (256-8192).")] = 2048,
) -> None:
    """Serve the embedded model (OpenAI-compatible) until SIGINT or SIGTERM; prints its base URL."""
    if port is not None:
        check_port(port)
    check_threads(threads)
    if not 256 <= ctx <= 8192:
        raise InputError(f"--ctx must be between 256 and 8192, got {ctx}")
    from simlab.llm.server import EmbeddedServer

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with EmbeddedServer(port=port, threads=threads, n_ctx=ctx) as server:
        print(server.base_url, flush=True)
        print(f"serving {server.model_path.name} ({server.fingerprint})", file=sys.stderr)
        while not stop.wait(0.5):
            pass
    print("stopped", file=sys.stderr, flush=True)


def _fmt(value, digits: int) -> str:
    return "n/a" if value != value else f"{value:,.{digits}f}"


@app.command("usage")
def usage(
    run: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    by: Annotated[str, typer.Option(help="Group by agent, model, day or run.")] = "agent",
    db: DbOption = None,
) -> None:
    """LLM calls, success rate, latency, tokens and cost (spent and avoided by the cache)."""
    from rich.table import Table
    from sqlalchemy.exc import OperationalError

    from simlab import db as database
    from simlab.llm.usage import GROUPINGS, usage_summary

    if by not in GROUPINGS:
        raise InputError(f"--by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    engine = database.make_engine(db, must_exist=True)
    try:
        summary = usage_summary(engine, by=by, run_id=run)
    except OperationalError:
        raise InputError("the database has no llm_calls table: run `simlab db upgrade`") from None
    if summary.empty:
        console.print("no LLM calls" + (f" in run {run}" if run else ""))
        return
    table = Table(box=None, padding=(0, 1))
    headers = (
        by,
        "calls",
        "success",
        "mean ms",
        "p95 ms",
        "tokens",
        "cost $",
        "hits",
        "avoided tok",
        "avoided $",
    )
    for header in headers:
        table.add_column(header, no_wrap=True, justify="left" if header == by else "right")
    for row in summary.itertuples(index=False):
        table.add_row(
            str(getattr(row, by)), str(row.calls), f"{row.success_rate:.0%}",
            _fmt(row.mean_latency_ms, 0), _fmt(row.p95_latency_ms, 0), f"{row.tokens:,}",
            _fmt(row.cost_usd, 4), str(row.cache_hits), f"{row.avoided_tokens:,}",
            _fmt(row.avoided_cost_usd, 4),
        )  # fmt: skip
    console.print(table)
