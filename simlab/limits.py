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
1.1 KiB per post on top of ~110 MiB of imports (100,000 agents x 5,000 posts,
1.0 M follows: 830 MiB).

A run holds nothing of size agents x posts or agents x accounts: the follow
graph and the "agent acted on post" marks are sparse pair sets
(:mod:`simlab.sparse_pairs`). :func:`run_memory` counts the imports, the
population's arrays, each follow edge and each expected action several times
over (keys, edge list, copies while merging, the initial graph rebuilt at the
end), up to three turns of feeds in flight (the one computed, the one queued,
the one written) and about ten ``block_size x pool`` 8-byte arrays per ranked
block. Measured peak RSS of ``simlab.run`` (population read from the
database, rule_based, personalized feed of 20, pool 1,000, posting on, 10
follows per agent; a busy 2-core machine, December 2026), against the estimate:

==============================  ==========  ==========
run                             peak RSS    estimate
==============================  ==========  ==========
10,000 agents x 20 turns        324 MiB     532 MiB
30,000 agents x 10 turns        360 MiB     752 MiB
30,000 x 10, 20,000 posts       379 MiB     782 MiB
100,000 agents x 5 turns        578 MiB     1,445 MiB
100,000 agents x 20 turns       645 MiB     2,219 MiB
==============================  ==========  ==========
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from simlab.errors import InputError

MAX_SEED = 2**63 - 1
MAX_COUNT = 10**15
MAX_PARAM = 1e6
BASE_BYTES = 256 * 2**20
AGENT_BYTES = 10 * 2**10
POST_BYTES = 2 * 2**10
FOLLOW_BYTES = 256
BLOCK_ARRAYS = 10
RUN_AGENT_BYTES = 4 * 2**10  # traits, ids, leanings, per-agent rows of a turn
ACCOUNT_BYTES = 256  # a handle and a leaning
PAIR_BYTES = 128  # a follow or acted pair: key, edge-list row, merge copies, the initial graph
ACTIONS_PER_AGENT_TURN = 4  # the default policy takes about 1
FEED_SLOT_BYTES = 160  # a served slot: index, score and their rows, three turns in flight


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


@dataclass(frozen=True)
class RunSize:
    """The sizes a run's memory depends on (:func:`run_memory`).

    Attributes:
        n_agents: agents simulated.
        n_posts: posts in the population plus those the run is expected to write.
        n_accounts: agents plus outside authors.
        n_follows: initial follow edges.
        turns: turns of the run.
        feed_size: items per feed.
        pool: the candidate pool (None: every post).
        block_size: agents ranked per block.
    """

    n_agents: int
    n_posts: int
    n_accounts: int
    n_follows: int
    turns: int
    feed_size: int
    pool: int | None
    block_size: int


def run_memory(size: RunSize) -> float:
    """Estimated peak bytes of a run of ``size`` (the model in the module docstring)."""
    width = size.n_posts if size.pool is None else min(size.pool, size.n_posts)
    population = (
        size.n_agents * RUN_AGENT_BYTES
        + size.n_posts * POST_BYTES
        + size.n_accounts * ACCOUNT_BYTES
    )
    actions = size.n_agents * size.turns * ACTIONS_PER_AGENT_TURN
    pairs = (size.n_follows + actions) * PAIR_BYTES
    feeds = size.n_agents * min(size.feed_size, width) * FEED_SLOT_BYTES
    block = BLOCK_ARRAYS * 8 * min(size.block_size, size.n_agents) * width
    return BASE_BYTES + population + pairs + feeds + block


def check_run_memory(size: RunSize) -> None:
    """Refuse a run whose :func:`run_memory` estimate exceeds the memory available.

    Raises:
        InputError: with the estimate.
    """
    what = f"a run of {size.n_agents:,} agents over {size.n_posts:,} posts"
    check_memory(run_memory(size), what)
