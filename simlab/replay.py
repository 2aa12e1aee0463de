"""Reading a run back: its stored config, its agent posts and recorded turns for an exact resume."""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Engine

from simlab.config import RunConfig, stored
from simlab.errors import InputError
from simlab.population.topics import TOPIC_NAMES
from simlab.postgres import json_array_length
from simlab.posting import NewPosts, post_order
from simlab.world import Population


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
    return stored(json.loads(row.config_json)), row.status, -1 if last is None else int(last)


def load_posts(
    engine: Engine, run_id: str, pop: Population, last_turn: int
) -> list[tuple[int, NewPosts]]:
    """The agent posts ``run_id`` wrote up to ``last_turn``: (turn, posts) in turn order.

    Posts come in the order the run gave them ids, so publishing them again
    gives every post its old index.
    """
    agent_index = {h: i for i, h in enumerate(pop.handles.tolist())}
    topic_index = {name: k for k, name in enumerate(TOPIC_NAMES)}
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT turn_number, post_id, agent_handle, topic, leaning, text, explanation, "
                "generation_metadata_json, model_used FROM agent_posts "
                "WHERE run_id = :r AND turn_number <= :t"
            ),
            {"r": run_id, "t": last_turn},
        ).all()
    rows = sorted(rows, key=lambda row: (row.turn_number, post_order(row.post_id)))
    turns: list[tuple[int, NewPosts]] = []
    for turn, group in groupby(rows, key=lambda row: row.turn_number):
        of_turn = list(group)
        posts = NewPosts(
            np.array([agent_index[row.agent_handle] for row in of_turn], dtype=np.int64),
            np.array([topic_index[row.topic] for row in of_turn], dtype=np.int64),
            np.array([row.leaning for row in of_turn], dtype=float),
            [row.text for row in of_turn],
            [row.explanation for row in of_turn],
            [row.generation_metadata_json for row in of_turn],
            [row.model_used for row in of_turn],
        )
        turns.append((int(turn), posts))
    return turns


@dataclass(frozen=True)
class History:
    """What a run's turns up to ``last_turn`` recorded, as index arrays.

    :meth:`simlab.engine.Simulation.replay` applies it to a fresh simulation.
    """

    last_turn: int
    likes: np.ndarray  # (L, 2) int rows (agent, post)
    comments: np.ndarray  # (C, 2) int rows (agent, post)
    follows: np.ndarray  # (F, 2) int rows (agent, followed account)
    leaning: np.ndarray | None  # (n_agents,) leanings after last_turn; None before turn 0
    impressions: int  # feed items served up to last_turn


def load_history(engine: Engine, run_id: str, pop: Population, last_turn: int) -> History:
    """Read the actions, leanings and impressions of ``run_id`` up to ``last_turn``.

    Leanings: every agent's at turn 0, then each change up to ``last_turn``
    (``agent_leaning_changes``), the last one winning.

    Raises:
        InputError: turn 0 has no complete leaning record.
    """
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
                "SELECT agent_handle, leaning FROM agent_leaning_changes "
                "WHERE run_id = :r AND turn_number <= :t ORDER BY turn_number"
            ),
            params,
        ).all()
        first = connection.execute(
            text(
                "SELECT count(*) FROM agent_leaning_changes WHERE run_id = :r AND turn_number = 0"
            ),
            params,
        ).scalar()
        impressions = connection.execute(
            text(
                f"SELECT coalesce(sum({json_array_length(connection, 'post_ids')}), 0) "
                "FROM generated_feeds "
                "WHERE run_id = :r AND turn_number <= :t"
            ),
            params,
        ).scalar()
    leaning = None
    if last_turn >= 0:
        if first != pop.n_agents:
            raise InputError(f"run {run_id}: turn 0 has no complete leaning record")
        leaning = pop.leaning.astype(float).copy()
        for handle, value in leanings:  # in turn order: the last change up to last_turn wins
            leaning[agent_index[handle]] = value
    return History(last_turn, likes, comments, follows, leaning, int(impressions))
