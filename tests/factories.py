"""Small hand-built populations for unit tests (no database needed)."""

from __future__ import annotations

import numpy as np

from simlab.population.topics import TOPIC_NAMES
from simlab.world import Population

N_TOPICS = len(TOPIC_NAMES)


def make_population(
    leaning,
    post_leaning,
    post_topic,
    *,
    interests=None,
    post_author=None,
    post_created=None,
    post_likes=None,
    n_outsiders: int = 1,
    follow_pairs=(),
    propensity: float = 0.5,
) -> Population:
    """A Population from plain lists; unspecified arrays get simple defaults.

    Posts default to the outside account ``n_agents`` (so no agent owns them),
    hourly timestamps, no engagement; interests default to uniform.
    """
    leaning = np.asarray(leaning, dtype=float)
    n_agents, n_posts = len(leaning), len(post_leaning)
    handles = np.array([f"a{i}.test" for i in range(n_agents)], dtype=object)
    accounts = np.array(
        [*handles.tolist(), *[f"out{j}.test" for j in range(n_outsiders)]], dtype=object
    )
    if interests is None:
        interests = np.full((n_agents, N_TOPICS), 1.0 / N_TOPICS)
    if post_author is None:
        post_author = [n_agents] * n_posts
    if post_created is None:
        post_created = 1_700_000_000.0 + 3600.0 * np.arange(n_posts)
    zeros = np.zeros(n_posts, dtype=np.int64)
    author = np.asarray(post_author, dtype=np.int64)
    post_leaning = np.asarray(post_leaning, dtype=float)
    account_leaning = np.zeros(len(accounts))
    account_leaning[:n_agents] = leaning
    return Population(
        agent_ids=np.array([f"id{i}" for i in range(n_agents)], dtype=object),
        handles=handles,
        leaning=leaning,
        interests=np.asarray(interests, dtype=float),
        activity_rate=np.ones(n_agents),
        like_propensity=np.full(n_agents, propensity),
        comment_propensity=np.full(n_agents, propensity),
        follow_propensity=np.full(n_agents, propensity),
        accounts=accounts,
        account_leaning=account_leaning,
        post_ids=np.array([f"p{j:04d}" for j in range(n_posts)], dtype=object),
        post_topic=np.asarray(post_topic, dtype=np.int64),
        post_leaning=post_leaning,
        post_author=author,
        post_created=np.asarray(post_created, dtype=float),
        post_likes=zeros.copy() if post_likes is None else np.asarray(post_likes, dtype=np.int64),
        post_comments=zeros.copy(),
        post_reposts=zeros.copy(),
        follow_pairs=np.asarray(follow_pairs, dtype=np.int64).reshape(-1, 2),
    )
