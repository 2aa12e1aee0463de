"""Helpers shared by the benchmark scripts: timing, peak memory, a printed table."""

from __future__ import annotations

import multiprocessing
import resource
import time
from contextlib import contextmanager


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_cpu() -> float:
    """CPU seconds (user + system) of this process's waited-for children so far (a run's writer)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def in_fresh_process(function, *args):
    """``function(*args)`` in a new interpreter, so peak RSS and child CPU are its own.

    The process is spawned (nothing inherited from earlier measurements) and
    not a daemon, so the run inside may start a writer process as any
    ``simlab run`` does. ``function`` must be importable (module level).
    """
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_send_result, args=(send, function, args))
    process.start()
    send.close()
    try:
        return receive.recv()
    except EOFError:
        raise RuntimeError(f"{function.__name__} failed in its process (traceback above)") from None
    finally:
        process.join()


def _send_result(pipe, function, args) -> None:
    pipe.send(function(*args))


@contextmanager
def timer(results: dict, key: str):
    """Store the wall time of the ``with`` body in ``results[key]`` (seconds)."""
    start = time.perf_counter()
    yield
    results[key] = time.perf_counter() - start


def print_table(title: str, rows: list[tuple[str, str, str]]) -> None:
    """Print (measure, value, target) rows as a Markdown table."""
    print(f"\n### {title}\n")
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    for measure, value, target in rows:
        print(f"| {measure} | {value} | {target} |")


def print_grid(title: str, header: tuple[str, ...], rows: list[tuple]) -> None:
    """Print rows under ``header`` as a Markdown table."""
    print(f"\n### {title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for row in rows:
        print("| " + " | ".join(str(value) for value in row) + " |")
