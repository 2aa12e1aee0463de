"""Rebuilding a run's state from its rows, so an interrupted run can continue exactly."""

from __future__ import annotations

import json

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine

from simlab.config import RunConfig, build
from simlab.errors import InputError


def load_run(engine: Engine, run_id: str) -> tuple[RunConfig, str, int]:
    """The stored config, status and last complete turn (-1 if none) of ``run_id``.

    Raises:
        InputError: no such run.
    """
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT r.status, c.config_json FROM runs r "
                "JOIN run_configs c ON c.run_id = r.run_id WHERE r.run_id = :r"
            ),
            {"r": run_id},
        ).first()
        if row is None:
            raise InputError(f"no run {run_id!r} in this database; see `simlab runs`")
        last = connection.execute(
            text("SELECT max(turn_number) FROM turn_metadata WHERE run_id = :r"), {"r": run_id}
        ).scalar()
    return build(json.loads(row.config_json)), row.status, -1 if last is None else int(last)


def rebuild(engine: Engine, run_id: str, sim, last_turn: int) -> None:
    """Set ``sim.state`` and ``sim.totals`` to what they were after ``last_turn``."""
    pop, state = sim.pop, sim.state
    post_index = {p: i for i, p in enumerate(pop.post_ids.tolist())}
    agent_index = {h: i for i, h in enumerate(pop.handles.tolist())}
    account_index = {h: i for i, h in enumerate(pop.accounts.tolist())}
    params = {"r": run_id, "t": last_turn}
    with engine.connect() as connection:

        def pairs(sql: str, targets: dict) -> np.ndarray:
            rows = connection.execute(text(sql), params).all()
            return np.array(
                [(agent_index[a], targets[b]) for a, b in rows], dtype=np.int64
            ).reshape(-1, 2)

        likes = pairs(
            "SELECT agent_handle, post_id FROM likes WHERE run_id = :r AND turn_number <= :t",
            post_index,
        )
        comments = pairs(
            "SELECT agent_handle, post_id FROM comments WHERE run_id = :r AND turn_number <= :t",
            post_index,
        )
        follows = pairs(
            "SELECT agent_handle, user_id FROM follows WHERE run_id = :r AND turn_number <= :t",
            account_index,
        )
        leanings = connection.execute(
            text(
                "SELECT agent_handle, leaning FROM agent_leanings "
                "WHERE run_id = :r AND turn_number = :t"
            ),
            params,
        ).all()
        impressions = connection.execute(
            text(
                "SELECT coalesce(sum(json_array_length(post_ids)), 0) FROM generated_feeds "
                "WHERE run_id = :r AND turn_number <= :t"
            ),
            params,
        ).scalar()
    if last_turn >= 0 and len(leanings) != pop.n_agents:
        raise InputError(f"run {run_id}: turn {last_turn} has no complete leaning record")
    for handle, value in leanings:
        state.leaning[agent_index[handle]] = value
    state.sim_likes += np.bincount(likes[:, 1], minlength=pop.n_posts)
    state.sim_comments += np.bincount(comments[:, 1], minlength=pop.n_posts)
    state.acted[likes[:, 0], likes[:, 1]] = True
    state.acted[comments[:, 0], comments[:, 1]] = True
    state.add_follows(follows)
    sim.totals.impressions = int(impressions)
    sim.totals.likes, sim.totals.comments, sim.totals.follows = (
        len(likes),
        len(comments),
        len(follows),
    )
