"""Synthetic populations: agents, outside accounts, posts and a follow graph from one seed.

Every draw comes from ``np.random.SeedSequence(seed)``, spawned into one child
generator per stage (agents, outside accounts, posts, follows), so the same
config gives byte-identical rows and changing, say, ``posts`` leaves the agents
unchanged. Timestamps derive from ``start``, never from the clock.

Agents (n of them, topics k < K):

    interests[a] ~ Dirichlet(interest_concentration * 1_K)
    leaning[a]   ~ bimodal: N(+-0.5, 0.25) with equal weight | uniform: U(-1, 1)
                   | normal: N(0, 0.5); clipped to [-1, 1]
    activity, like, comment and follow propensities ~ Beta priors of
    :data:`simlab.population.traits.TRAIT_PRIORS`

Posts: a share ``outside_author_share`` is written by outside accounts (chosen
with Zipf weights 1/rank^0.8, so a few outlets are prolific), the rest by
agents chosen in proportion to activity. A post's topic is drawn from its
author's interests, its leaning is ``clip(author leaning + N(0, post_leaning_sd))``,
its text comes from :mod:`simlab.population.templates`, its time is uniform on
``[start, start + window_hours)`` (post ids follow time order), and its starting
engagement is Poisson around a heavy-tailed virality ``v ~ LogNormal(0, 1.5)``
(three times larger for outside accounts): likes 8v, reposts 2v, replies v,
bookmarks 0.5v, quotes 0.3v. These are *lifetime* counts, what the post would
collect on the platform; a run does not show them (it would be future
information): synthetic posts are born with 0 engagement and gain it from the
run's agents and the exogenous background (:mod:`simlab.engagement`). The
follow graph is :mod:`simlab.population.graph`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from simlab.errors import InputError
from simlab.limits import MAX_SEED, check_memory, synthetic_memory
from simlab.population import graph, templates
from simlab.population.persona import persona_bio, topic_label
from simlab.population.topics import TOPICS
from simlab.population.traits import TRAIT_PRIORS
from simlab.population.writer import Rows, Summary, count_rows, records, write_population
from simlab.schema import agent, populations

DOMAIN = "sim.bsky.social"
ENGAGEMENT_RATES = {"like": 8.0, "repost": 2.0, "reply": 1.0, "bookmark": 0.5, "quote": 0.3}
OUTSIDE_REACH = 3.0


class SyntheticConfig(BaseModel):
    """Everything that shapes a synthetic population; stored whole in ``populations.config_json``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    agents: int = Field(1000, ge=2, description="number of agents")
    posts: int = Field(5000, ge=1, description="number of posts (by agents and outside accounts)")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of every random draw")
    topics: int = Field(8, ge=1, le=len(TOPICS), description="K: use the first K topics")
    leaning_distribution: Literal["bimodal", "uniform", "normal"] = Field(
        "bimodal", description="agent leanings: N(+-0.5, 0.25) mixture, U(-1, 1) or N(0, 0.5)"
    )
    outside_accounts: int = Field(100, ge=0, description="accounts that post but are not agents")
    outside_author_share: float = Field(
        0.3, ge=0, le=1, description="share of posts written by outside accounts"
    )
    start: AwareDatetime = Field(
        datetime(2026, 1, 5, tzinfo=UTC), description="earliest post time and agents' created_at"
    )
    window_hours: float = Field(
        168.0, gt=0, le=1e6, description="posts are spread over start + [0, window)"
    )
    follow_density: float = Field(
        10.0, ge=0, le=10_000, description="mean initial follows per agent"
    )
    outside_follow_share: float = Field(
        0.3, ge=0, le=1, description="share of initial follows that go to outside accounts"
    )
    homophily: float = Field(
        0.7, ge=0, le=1, description="how strongly follows prefer similar leaning and interests"
    )
    interest_concentration: float = Field(
        0.5,
        gt=0,
        le=1e6,
        description="Dirichlet alpha of interests: smaller means narrower interests",
    )
    post_leaning_sd: float = Field(
        0.15, ge=0, le=10, description="sd of a post's leaning around its author's"
    )

    @field_validator("start")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _outside_authors(self) -> SyntheticConfig:
        if self.outside_author_share > 0 and self.outside_accounts == 0:
            raise ValueError("outside_author_share > 0 needs outside_accounts >= 1")
        return self

    @model_validator(mode="after")
    def _fits_in_memory(self) -> SyntheticConfig:
        agents, posts = self.agents + self.outside_accounts, self.posts
        estimate = synthetic_memory(agents, posts, int(self.agents * self.follow_density))
        check_memory(estimate, f"init: {self.agents:,} agents and {posts:,} posts")
        return self


@dataclass(frozen=True)
class _Accounts:
    handles: list[str]
    dids: list[str]
    names: list[str]
    leaning: np.ndarray  # (n,)
    interests: np.ndarray  # (n, K)

    @classmethod
    def named(cls, keys: list[str], names: list[str], leaning, interests) -> _Accounts:
        """Accounts ``<key>.sim.bsky.social`` with DIDs ``did:plc:sim<key>``."""
        handles = [f"{key}.{DOMAIN}" for key in keys]
        return cls(handles, [f"did:plc:sim{key}" for key in keys], names, leaning, interests)


def draw_leaning(rng: np.random.Generator, n: int, kind: str) -> np.ndarray:
    """(n,) leanings in [-1, 1] from the named distribution (module docstring)."""
    if kind == "uniform":
        return rng.uniform(-1.0, 1.0, n)
    if kind == "normal":
        return np.clip(rng.normal(0.0, 0.5, n), -1.0, 1.0)
    side = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return np.clip(rng.normal(0.5 * side, 0.25), -1.0, 1.0)


def _width(n: int, minimum: int) -> int:
    return max(minimum, len(str(n)))


def _agents(rng: np.random.Generator, config: SyntheticConfig) -> tuple[_Accounts, dict]:
    n, k = config.agents, config.topics
    interests = rng.dirichlet(np.full(k, config.interest_concentration), n)
    leaning = draw_leaning(rng, n, config.leaning_distribution)
    traits = {name: rng.beta(a, b, n) for name, (a, b) in TRAIT_PRIORS.items()}
    first = rng.integers(0, len(templates.FIRST_NAMES), n)
    last = rng.integers(0, len(templates.LAST_NAMES), n)
    traits["variant"] = rng.integers(0, 4, n)
    keys = [f"agent{i + 1:0{_width(n, 4)}d}" for i in range(n)]
    names = [
        f"{templates.FIRST_NAMES[f]} {templates.LAST_NAMES[s]}"
        for f, s in zip(first.tolist(), last.tolist(), strict=True)
    ]
    return _Accounts.named(keys, names, leaning, interests), traits


def _outside(rng: np.random.Generator, config: SyntheticConfig) -> tuple[_Accounts, np.ndarray]:
    n, k = config.outside_accounts, config.topics
    interests = rng.dirichlet(np.full(k, 0.3), n)
    leaning = draw_leaning(rng, n, config.leaning_distribution)
    keys = [f"outside{j + 1:0{_width(n, 3)}d}" for j in range(n)]
    names = [
        f"{topic_label(TOPICS[int(np.argmax(row))].name).title()} Desk {j + 1}"
        for j, row in enumerate(interests)
    ]
    popularity = 1.0 / np.arange(1, n + 1) ** 0.8
    return _Accounts.named(keys, names, leaning, interests), popularity


@dataclass(frozen=True)
class _Posts:
    author: np.ndarray  # (P,) account index: agents first, then outside accounts
    topic: np.ndarray  # (P,) topic index
    leaning: np.ndarray  # (P,)
    seconds: np.ndarray  # (P,) int seconds after start, ascending
    counts: dict[str, np.ndarray]  # engagement name -> (P,) int
    choice: np.ndarray  # (P, 5) int text choices


def _posts(
    rng, config: SyntheticConfig, agents: _Accounts, activity, outside, popularity
) -> _Posts:
    n_posts, n_agents = config.posts, len(agents.handles)
    outside_share = config.outside_author_share if len(outside.handles) else 0.0
    is_outside = rng.random(n_posts) < outside_share
    author = rng.choice(n_agents, n_posts, p=activity / activity.sum())
    if is_outside.any():
        picked = rng.choice(len(popularity), n_posts, p=popularity / popularity.sum())
        author = np.where(is_outside, n_agents + picked, author)
    leaning = np.concatenate([agents.leaning, outside.leaning])
    cumulative = np.cumsum(np.vstack([agents.interests, outside.interests]), axis=1)
    topic = (cumulative[author] < rng.random(n_posts)[:, None]).sum(axis=1)
    topic = np.minimum(topic, config.topics - 1)
    post_leaning = np.clip(
        leaning[author] + rng.normal(0.0, config.post_leaning_sd, n_posts), -1, 1
    )
    seconds = np.sort(rng.integers(0, int(config.window_hours * 3600), n_posts))
    virality = rng.lognormal(0.0, 1.5, n_posts) * np.where(is_outside, OUTSIDE_REACH, 1.0)
    counts = {name: rng.poisson(virality * rate) for name, rate in ENGAGEMENT_RATES.items()}
    choice = rng.integers(0, 1 << 30, (n_posts, 5))
    return _Posts(author, topic, post_leaning, seconds, counts, choice)


def _follows(rng, config: SyntheticConfig, agents: _Accounts, outside, popularity, posts):
    n_agents = len(agents.handles)
    degree = rng.poisson(config.follow_density, n_agents)
    authors = np.flatnonzero(np.bincount(posts.author, minlength=n_agents + len(outside.handles)))
    targets = authors[authors >= n_agents] - n_agents  # outside accounts that posted
    share = config.outside_follow_share if len(targets) else 0.0
    to_outside = rng.binomial(degree, share)
    gamma = graph.HOMOPHILY_SCALE * config.homophily
    source = (agents.leaning, agents.interests)
    among = graph.sample_follows(
        rng, source, (*source, np.ones(n_agents)), degree - to_outside, gamma, same_set=True
    )
    outsiders = (outside.leaning[targets], outside.interests[targets], popularity[targets])
    out = graph.sample_follows(rng, source, outsiders, to_outside, gamma, same_set=False)
    out[:, 1] = targets[out[:, 1]] + n_agents
    return np.concatenate([among, out])


def generate(config: SyntheticConfig) -> Rows:
    """Build every row of a synthetic population (no database access)."""
    agent_rng, outside_rng, post_rng, follow_rng = (
        np.random.default_rng(child) for child in np.random.SeedSequence(config.seed).spawn(4)
    )
    agents, traits = _agents(agent_rng, config)
    outside, popularity = _outside(outside_rng, config)
    posts = _posts(post_rng, config, agents, traits["activity_rate"], outside, popularity)
    follows = _follows(follow_rng, config, agents, outside, popularity, posts)
    return _rows(config, agents, traits, outside, posts, follows)


def _agent_rows(config: SyntheticConfig, agents: _Accounts, traits: dict, counts) -> Rows:
    names = [t.name for t in TOPICS[: config.topics]]
    top = np.argsort(-agents.interests, axis=1, kind="stable")[:, :2].tolist()
    values = {key: np.round(value, 6).tolist() for key, value in traits.items()}
    leaning = np.round(agents.leaning, 6).tolist()
    bios = [
        persona_bio([names[k] for k in top[a]], leaning[a], values["activity_rate"][a], variant)
        for a, variant in enumerate(values.pop("variant"))
    ]
    interests = [json.dumps(dict(zip(names, row, strict=True))) for row in
                 np.round(agents.interests, 6).tolist()]  # fmt: skip
    ids, stamp = agents.dids, config.start.isoformat()
    followers, following, posted = (c.tolist() for c in counts)
    return {
        "agent": records(
            agent_id=ids, handle=agents.handles, persona_source="synthetic",
            display_name=agents.names, created_at=stamp, updated_at=stamp),
        "agent_persona_bios": records(
            id=[f"{i}#persona" for i in ids], agent_id=ids, persona_bio=bios,
            persona_bio_source="synthetic", created_at=stamp, updated_at=stamp),
        "user_agent_profile_metadata": records(
            id=[f"{i}#profile" for i in ids], agent_id=ids, followers_count=followers,
            follows_count=following, posts_count=posted, created_at=stamp, updated_at=stamp),
        "agent_traits": records(agent_id=ids, leaning=leaning, interests=interests, **values),
    }  # fmt: skip


def _post_rows(config: SyntheticConfig, accounts: _Accounts, posts: _Posts) -> Rows:
    width = _width(config.posts, 5)
    keys = [f"{p + 1:0{width}d}" for p in range(config.posts)]
    ids = [f"synthetic:{key}" for key in keys]
    author, topic = posts.author.tolist(), posts.topic.tolist()
    leaning = np.round(posts.leaning, 6).tolist()
    texts = [
        templates.post_text(TOPICS[k], lean, choice)
        for k, lean, choice in zip(topic, leaning, posts.choice.tolist(), strict=True)
    ]
    start = config.start
    return {
        "feed_posts": records(
            post_id=ids, source="synthetic",
            uri=[f"at://{accounts.dids[a]}/app.bsky.feed.post/{key}"
                 for a, key in zip(author, keys, strict=True)],
            author_display_name=[accounts.names[a] for a in author],
            author_handle=[accounts.handles[a] for a in author], text=texts,
            **{f"{name}_count": count.tolist() for name, count in posts.counts.items()},
            created_at=[(start + timedelta(seconds=s)).isoformat() for s in posts.seconds.tolist()]),
        "post_annotations": records(
            post_id=ids, topic=[TOPICS[k].name for k in topic], leaning=leaning,
            label_source="synthetic", label_confidence=None),
    }  # fmt: skip


def _rows(config, agents: _Accounts, traits, outside: _Accounts, posts, follows) -> Rows:
    n = len(agents.handles)
    follows = follows[np.lexsort((follows[:, 1], follows[:, 0]))]
    counts = (
        np.bincount(follows[follows[:, 1] < n, 1], minlength=n),
        np.bincount(follows[:, 0], minlength=n),
        np.bincount(posts.author, minlength=n)[:n],
    )
    accounts = _Accounts(
        agents.handles + outside.handles,
        agents.dids + outside.dids,
        agents.names + outside.names,
        np.concatenate([agents.leaning, outside.leaning]),
        agents.interests,
    )
    rows = {**_agent_rows(config, agents, traits, counts), **_post_rows(config, accounts, posts)}
    rows["initial_follows"] = records(
        agent_handle=[accounts.handles[a] for a in follows[:, 0].tolist()],
        followed_handle=[accounts.handles[u] for u in follows[:, 1].tolist()],
        created_at=config.start.isoformat(),
    )
    return rows


def create_synthetic(engine: Engine, config: SyntheticConfig) -> Summary:
    """Generate a population from ``config`` and write it in one transaction.

    A database that holds only imported populations may get one synthetic
    population next to them (pick ``config.start`` inside the imported window,
    see :func:`simlab.population.timeline.imported_start`).

    Raises:
        InputError: the database already has a synthetic population (nothing is written).
    """
    with engine.connect() as connection:
        existing = count_rows(connection, agent)
        synthetic = connection.execute(
            select(func.count()).select_from(populations).where(populations.c.source == "synthetic")
        ).scalar_one()
    if synthetic:
        raise InputError(f"init: database already has {existing} agents; use a new --db")
    rows = generate(config)
    return write_population(
        engine, rows, "synthetic", config.model_dump(mode="json"), config.start.isoformat(), "init"
    )
