"""Agents post: who writes this turn, on what topic, with what leaning and text.

Each turn, active agent ``a`` writes one post with probability ``π_a``, its
*posting propensity*, a trait read from the population's own posting record:

    π_a = min(1, r · (n_a + 1) / (n̄ + 1))

with ``n_a`` the corpus posts agent ``a`` authored, ``n̄`` their mean over agents
and ``r`` = ``posting.rate`` (so the mean propensity is about ``r``; an agent
that posted twice as much in the corpus posts about twice as often, and one
that never posted still may). A post's topic is drawn from the agent's
interests, its leaning is ``clip(x_a + N(0, leaning_sd²), −1, 1)`` with ``x_a``
the agent's leaning after this turn's update (as corpus posts lean around
their author's, [McPherson2001]), and its text comes from the generator that
wrote the synthetic corpus (:func:`simlab.population.templates.post_text`).
Draws come from the turn's posting stream, in agent order.

A post written at turn ``t`` is created half-way through the turn
(``clock(t) + turn_hours / 2``), so it is a candidate for every feed from turn
``t + 1``. Whatever writes posts hands them to the engine as one
:class:`NewPosts` record: this rule (:func:`write_posts`) by default, or a
policy whose run context (an LLM session) or registry entry has a
``write_posts`` function of the same signature (``(PostingView, rng) ->
NewPosts``), e.g. the LLM policy, whose model-written posts it merges with the
rule's posts of its rule-based agents (:func:`combine`). Each post names the
model that wrote it (``model_used``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from simlab.population import templates
from simlab.population.topics import TOPICS
from simlab.world import Population, SimState

RULE_BASED_MODEL = "rule_based_posting/1.0"
"""``model_used`` of posts written by :func:`write_posts`."""


class PostingConfig(BaseModel):
    """Whether agents post, how often, and how far a post's leaning strays from its author's."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    enabled: bool = Field(True, description="agents write posts (candidates from the next turn)")
    rate: float = Field(
        0.05, ge=0, le=1, description="r: mean probability that an active agent posts in a turn"
    )
    leaning_sd: float = Field(
        0.15, ge=0, le=10, description="sd of a post's leaning around its author's"
    )


@dataclass(frozen=True)
class NewPosts:
    """Posts written in one turn, as columns (``m`` posts), in the order they get ids.

    The one way posts enter a run: the rule-based step (:func:`write_posts`) or a
    policy builds it, the engine adds the posts to the world and the recorder
    writes them to ``agent_posts``. ``model_used`` names who wrote them: one
    name for every post, or one per post (a mixed population).
    """

    author: np.ndarray  # (m,) int agent indices
    topic: np.ndarray  # (m,) int topic indices (into TOPICS)
    leaning: np.ndarray  # (m,) float in [-1, 1]
    text: list[str]
    explanation: list[str]
    metadata_json: list[str]
    model_used: str | list[str] = RULE_BASED_MODEL

    def __post_init__(self) -> None:
        m = len(self.author)
        columns = (self.topic, self.leaning, self.text, self.explanation, self.metadata_json)
        if not isinstance(self.model_used, str):
            columns = (*columns, self.model_used)
        if any(len(column) != m for column in columns):
            raise ValueError("every NewPosts column needs one entry per post")
        if m and (np.abs(self.leaning) > 1).any():
            raise ValueError("NewPosts.leaning must lie in [-1, 1]")

    @classmethod
    def empty(cls) -> NewPosts:
        """No posts."""
        none = np.zeros(0, dtype=np.int64)
        return cls(none, none, np.zeros(0), [], [], [])

    def __len__(self) -> int:
        return len(self.author)

    def models(self) -> list[str]:
        """(m,) ``model_used`` of each post."""
        if isinstance(self.model_used, str):
            return [self.model_used] * len(self)
        return list(self.model_used)


def combine(*parts: NewPosts) -> NewPosts:
    """Several writers' posts of one turn as one record, ordered by author (stable).

    Each agent posts at most once a turn, so the order (and with it the post ids)
    depends only on who posted, not on which writer wrote what.
    """
    parts = tuple(p for p in parts if len(p))
    if len(parts) <= 1:
        return parts[0] if parts else NewPosts.empty()
    order = np.argsort(np.concatenate([p.author for p in parts]), kind="stable")

    def joined(values: list[list]) -> list:
        flat = sum(values, [])
        return [flat[i] for i in order.tolist()]

    author, topic, leaning = (
        np.concatenate([getattr(p, name) for p in parts])[order]
        for name in ("author", "topic", "leaning")
    )
    return NewPosts(
        author,
        topic,
        leaning,
        joined([p.text for p in parts]),
        joined([p.explanation for p in parts]),
        joined([p.metadata_json for p in parts]),
        joined([p.models() for p in parts]),
    )


@dataclass(frozen=True)
class PostingView:
    """What a post writer sees in one turn: the world after the turn's actions."""

    pop: Population
    state: SimState  # after this turn's actions and leaning update
    turn: int
    agents: np.ndarray  # (n,) the turn's active agents, ascending: the only ones who may post
    chance: np.ndarray  # (n_agents,) posting propensities π_a
    config: PostingConfig


WritePosts = Callable[[PostingView, np.random.Generator], NewPosts]


def post_id(turn: int, n: int) -> str:
    """The id, inside its run, of the ``n``-th post written at ``turn``."""
    return f"agent-post:{turn}:{n}"


def post_order(post_id_value: str) -> int:
    """``n`` of a :func:`post_id` (its position among the posts of its turn)."""
    return int(post_id_value.rsplit(":", 1)[1])


def propensity(pop: Population, rate: float) -> np.ndarray:
    """(n_agents,) posting propensities ``π_a`` (module docstring)."""
    authored = pop.post_author[pop.post_author < pop.n_agents]
    counts = np.bincount(authored, minlength=pop.n_agents)[: pop.n_agents].astype(float)
    return np.minimum(1.0, rate * (counts + 1.0) / (counts.mean() + 1.0))


def write_posts(view: PostingView, rng: np.random.Generator) -> NewPosts:
    """Draw who of the active agents posts and what (module docstring).

    Args:
        view: the turn's world, active agents and propensities.
        rng: the turn's posting stream.
    """
    pop, agents, chance, config = view.pop, view.agents, view.chance, view.config
    leaning = view.state.leaning
    draws = rng.random(len(agents))
    authors = agents[draws < chance[agents]]
    m = len(authors)
    cumulative = np.cumsum(pop.interests[authors], axis=1)
    topic = (cumulative < rng.random(m)[:, None]).sum(axis=1)
    topic = np.minimum(topic, pop.interests.shape[1] - 1).astype(np.int64)
    noise = rng.normal(0.0, config.leaning_sd, m)
    post_leaning = np.clip(leaning[authors] + noise, -1.0, 1.0)
    choice = rng.integers(0, 1 << 30, (m, 5)).tolist()
    rounded = np.round(post_leaning, 6).tolist()
    texts = [
        templates.post_text(TOPICS[k], lean, c)
        for k, lean, c in zip(topic.tolist(), rounded, choice, strict=True)
    ]
    p, d = chance[authors].tolist(), draws[draws < chance[agents]].tolist()
    explanations = [
        f"post: {TOPICS[k].name} (from interests), leaning {x:+.2f}; p={pi:.3f} > draw {u:.3f}"
        for k, x, pi, u in zip(topic.tolist(), rounded, p, d, strict=True)
    ]
    metadata = [
        json.dumps({"p": round(pi, 6), "draw": round(u, 6), "leaning_noise": round(e, 6)})
        for pi, u, e in zip(p, d, noise.tolist(), strict=True)
    ]
    return NewPosts(authors.astype(np.int64), topic, post_leaning, texts, explanations, metadata)
