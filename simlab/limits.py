"""Documented bounds on numeric input, and memory estimates checked before any work.

Every number a user gives simlab (CLI flags, TOML settings, ``--feed-param``,
policy and opinion parameters, import files) is finite and within a range:

- seeds: integers in ``[0, 2**63)`` (:data:`MAX_SEED`), what SQLite's INTEGER
  and numpy's ``SeedSequence`` both hold;
- counts in import files (likes, followers, ...): integers in
  ``[0, 10**15]`` (:data:`MAX_COUNT`), far above any real account and far
  below where sums of them overflow 64-bit integers;
- algorithm parameters (:class:`simlab.params.Params`): finite, and within
  ``±1e6`` (:data:`MAX_PARAM`) unless the field declares narrower bounds;
- sizes (agents, posts, pools): bounded by an estimate of the memory they
  need, refused with that estimate when it exceeds the memory available
  (:func:`check_memory`).

The memory model is deliberately simple and errs high. Measured on
``simlab init`` (peak RSS of 2,000-8,000 agents x 10,000-40,000 posts):
about 9 KiB per agent (traits, interests, follows, rows in flight) and about
1.1 KiB per post on top of ~110 MiB of imports. A run holds two
agents x (posts + accounts) boolean matrices (state and the pool's copy) and,
per ranked block, about ten ``block_size x pool`` 8-byte arrays.
"""

from __future__ import annotations

import os

from simlab.errors import InputError

MAX_SEED = 2**63 - 1
MAX_COUNT = 10**15
MAX_PARAM = 1e6
BASE_BYTES = 256 * 2**20
AGENT_BYTES = 10 * 2**10
POST_BYTES = 2 * 2**10
FOLLOW_BYTES = 256
BLOCK_ARRAYS = 10


def available_memory() -> int:
    """Bytes of memory this process could still get: ``MemAvailable``, else physical RAM."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, e.g. ``"60.0 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    raise AssertionError("unreachable")


def check_memory(estimate: float, what: str) -> None:
    """Refuse work whose memory ``estimate`` (bytes) exceeds what is available.

    Raises:
        InputError: naming ``what``, the estimate and the memory available.
    """
    available = available_memory()
    if estimate > available:
        raise InputError(
            f"{what} would need about {format_bytes(estimate)} of memory; "
            f"{format_bytes(available)} is available here"
        )


def synthetic_memory(agents: int, posts: int, follows: int = 0) -> float:
    """Estimated peak bytes of making a population of that size (module docstring)."""
    return BASE_BYTES + agents * AGENT_BYTES + posts * POST_BYTES + follows * FOLLOW_BYTES


def run_memory(
    n_agents: int, n_posts: int, n_accounts: int, pool: int | None, block_size: int
) -> float:
    """Estimated peak bytes of a run over that population (module docstring).

    Args:
        n_agents: agents simulated.
        n_posts: posts in the population.
        n_accounts: agents plus outside authors.
        pool: the candidate pool (None: every post).
        block_size: agents ranked per block.
    """
    width = n_posts if pool is None else min(pool, n_posts)
    state = 2 * n_agents * (n_posts + n_accounts)
    block = BLOCK_ARRAYS * 8 * min(block_size, n_agents) * width
    return synthetic_memory(n_agents, n_posts) + state + block


def check_run_memory(
    n_agents: int, n_posts: int, n_accounts: int, pool: int | None, block_size: int
) -> None:
    """Refuse a run whose :func:`run_memory` estimate exceeds the memory available.

    Raises:
        InputError: with the estimate.
    """
    estimate = run_memory(n_agents, n_posts, n_accounts, pool, block_size)
    check_memory(estimate, f"a run of {n_agents:,} agents over {n_posts:,} posts")
