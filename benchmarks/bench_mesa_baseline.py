"""simlab against the same model written idiomatically in Mesa 3, side by side in one process.

Usage: uv run python benchmarks/bench_mesa_baseline.py [--agents 10000] [--turns 10]
       [--posts 5000]

The Mesa version is what a researcher would write without simlab: one
``mesa.Agent`` per user holding its traits, ``model.agents.shuffle_do("step")``
each turn, numpy scoring over the candidate pool *per agent*, and the likes,
comments and follows kept in lists and written with ``executemany`` at the end.
It implements the same model as the simlab run it is compared with:

* the same population (read with :func:`simlab.world.load_population`), the
  same activity draw, the 1,000 newest visible posts as candidates, a clock of
  one hour per turn starting at the median post time;
* the personalized feed with its default weights (interest, leaning closeness,
  followed author, normalised popularity, recency), top 20, excluding own posts
  and posts the agent already liked or commented on;
* the rule-based logistic like / comment / follow model with its default
  coefficients, follows of authors not followed yet (once per author per feed);
* fixed-media assimilation (ε = 0.5, μ = 0.05) over the served feed;
* likes and comments applied after every agent acted (synchronous turns).

simlab runs with agent posting off and lifetime engagement without background
activity, the world the Mesa version models. Random streams differ, so action
counts agree in distribution, not row for row; the table shows the difference.
simlab writes much more (feeds, scores, leanings, metrics, comment texts).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import mesa
import numpy as np
from common import children_cpu, print_table

from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import make_engine, migrate
from simlab.feeds.personalized import PersonalizedParams
from simlab.feeds.popularity import PopularityParams
from simlab.opinion.assimilation import AssimilationParams
from simlab.policies.rule_based import RuleBasedParams
from simlab.population import SyntheticConfig, create_synthetic
from simlab.world import load_population

FEED_SIZE, POOL = 20, 1000


def _logit(p):
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class User(mesa.Agent):
    """One simulated user: traits, leaning, what it follows and acted on."""

    def __init__(self, model, index: int) -> None:
        super().__init__(model)
        pop = model.pop
        self.index = index
        self.activity = pop.activity_rate[index]
        self.leaning = float(pop.leaning[index])
        interests = pop.interests[index]
        self.interests = interests
        self.interest_share = interests / max(interests.max(), 1e-12)
        self.base = {
            "like": _logit(pop.like_propensity[index]),
            "comment": _logit(pop.comment_propensity[index]),
            "follow": _logit(pop.follow_propensity[index]),
        }
        self.follows = set(pop.follow_pairs[pop.follow_pairs[:, 0] == index, 1].tolist())
        self.acted: set[int] = set()
        self.feed = None

    def step(self) -> None:
        """If active this turn: rank the pool, read the feed, like / comment / follow."""
        model = self.model
        self.feed = None
        if model.rng.random() >= self.activity:
            return
        pop, f, r = model.pop, model.feed_params, model.policy_params
        pool = model.pool
        keep = (pop.post_author[pool] != self.index) & np.array(
            [p not in self.acted for p in pool.tolist()]
        )
        posts = pool[keep]
        authors = pop.post_author[posts]
        followed = np.array([a in self.follows for a in authors.tolist()], dtype=float)
        closeness = 1.0 - np.abs(self.leaning - pop.post_leaning[posts]) / 2.0
        score = (
            f.interest_weight * self.interest_share[pop.post_topic[posts]]
            + f.leaning_weight * closeness
            + f.follow_weight * followed
            + f.popularity_weight * model.popularity[posts]
            + f.recency_weight * model.recency[posts]
        )
        top = np.argsort(-score, kind="stable")[:FEED_SIZE]
        feed = posts[top]
        self.feed = feed
        k = len(feed)
        x_int = np.tanh(model.n_topics * self.interests[pop.post_topic[feed]] - 1.0)
        x_agree = 1.0 - np.abs(self.leaning - pop.post_leaning[feed])
        x_pop = model.engagement_cue[feed]
        x_pos = np.arange(k) / max(FEED_SIZE - 1, 1)
        draws = model.rng.random((3, k))
        p_like = _sigmoid(
            self.base["like"]
            + r.like_interest * x_int
            + r.like_agreement * x_agree
            + r.like_popularity * x_pop
            - r.like_position * x_pos
        )
        liked = draws[0] < p_like
        p_comment = _sigmoid(
            self.base["comment"]
            + r.comment_interest * x_int
            + r.comment_stance * np.abs(x_agree)
            - r.comment_position * x_pos
        )
        p_follow = _sigmoid(
            self.base["follow"]
            + r.follow_interest * x_int
            + r.follow_agreement * x_agree
            + r.follow_like * liked
            - r.follow_position * x_pos
        )
        turn = model.turn
        seen: set[int] = set()
        for slot, post in enumerate(feed.tolist()):
            if liked[slot]:
                model.likes.append((turn, self.index, post))
            if draws[1, slot] < p_comment[slot]:
                model.comments.append((turn, self.index, post))
            author = int(pop.post_author[post])
            if author not in self.follows and author not in seen:
                seen.add(author)
                if draws[2, slot] < p_follow[slot]:
                    model.follows.append((turn, self.index, author))


class FeedModel(mesa.Model):
    """The population, the clock, the candidate pool and the actions of every turn."""

    def __init__(self, pop, seed: int) -> None:
        super().__init__(rng=seed)
        self.pop = pop
        self.feed_params = PersonalizedParams()
        self.policy_params = RuleBasedParams()
        self.opinion_params = AssimilationParams()
        self.n_topics = max(int((pop.interests.sum(axis=0) > 0).sum()), 1)
        self.start = float(np.quantile(pop.post_created, 0.5))
        self.sim_likes = np.zeros(pop.n_posts)
        self.sim_comments = np.zeros(pop.n_posts)
        self.likes, self.comments, self.follows = [], [], []
        self.turn = 0
        self.users = [User(self, i) for i in range(pop.n_agents)]

    def step(self) -> None:
        """One turn: pool and popularity, every agent acts, then engagement and opinions."""
        pop, clock = self.pop, self.start + self.turn * 3600.0
        visible = np.nonzero(pop.post_created <= clock)[0]
        newest = np.argsort(pop.post_created[visible], kind="stable")[-POOL:]
        self.pool = np.sort(visible[newest])
        weights = PopularityParams()
        likes, comments = pop.post_likes + self.sim_likes, pop.post_comments + self.sim_comments
        raw = np.log1p(
            weights.like_weight * likes
            + weights.comment_weight * comments
            + weights.repost_weight * pop.post_reposts
        )
        top = raw[visible].max(initial=0.0)
        self.popularity = raw / top if top > 0 else np.zeros_like(raw)
        age = np.maximum((clock - pop.post_created) / 3600.0, 0.0)
        self.recency = 2.0 ** (-age / self.feed_params.recency_half_life_hours)
        self.engagement_cue = np.log1p(likes + comments) / np.log1p(1000.0)
        first = (len(self.likes), len(self.comments), len(self.follows))
        self.agents.shuffle_do("step")
        for _, agent, post in self.likes[first[0] :]:
            self.sim_likes[post] += 1
            self.users[agent].acted.add(post)
        for _, agent, post in self.comments[first[1] :]:
            self.sim_comments[post] += 1
            self.users[agent].acted.add(post)
        for _, agent, author in self.follows[first[2] :]:
            self.users[agent].follows.add(author)
        eps, mu = self.opinion_params.epsilon, self.opinion_params.mu
        for user in self.users:
            if user.feed is not None and len(user.feed):
                diff = pop.post_leaning[user.feed] - user.leaning
                close = np.abs(diff) < eps
                if close.any():
                    user.leaning = float(np.clip(user.leaning + mu * diff[close].mean(), -1, 1))
        self.turn += 1

    def write(self, path: Path) -> None:
        """Write the actions with executemany, as a researcher would at the end."""
        with sqlite3.connect(path) as connection:
            for table in ("likes", "comments", "follows"):
                connection.execute(f"CREATE TABLE {table} (turn INT, agent INT, target INT)")
                connection.executemany(
                    f"INSERT INTO {table} VALUES (?, ?, ?)", getattr(self, table)
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=5_000)
    parser.add_argument("--turns", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        migrate(db)
        engine = make_engine(db)
        create_synthetic(engine, SyntheticConfig(agents=args.agents, posts=args.posts, seed=1))
        config = RunConfig(
            seed=1,
            turns=args.turns,
            feed={"name": "personalized", "size": FEED_SIZE, "candidate_pool": POOL},
            posting={"enabled": False},
            engagement={
                "history": "lifetime",
                "background_likes_per_hour": 0,
                "background_comments_per_hour": 0,
            },
        )
        start, cpu = time.perf_counter(), time.process_time() + children_cpu()
        run_id = simulation.run(config, engine)
        simlab_s = time.perf_counter() - start
        simlab_cpu = time.process_time() + children_cpu() - cpu  # with the writer process's
        with engine.connect() as connection:
            counts = {
                t: connection.exec_driver_sql(
                    f"SELECT count(*) FROM {t} WHERE run_id = ?", (run_id,)
                ).scalar()
                for t in ("likes", "comments", "follows")
            }
            start, cpu = time.perf_counter(), time.process_time()
            pop = load_population(connection)
        model = FeedModel(pop, seed=1)
        for _ in range(args.turns):
            model.step()
        model.write(Path(folder) / "mesa.db")
        mesa_s, mesa_cpu = time.perf_counter() - start, time.process_time() - cpu
        engine.dispose()
    rows = [
        ("simlab run (everything persisted)", f"{simlab_s:.1f} s", ""),
        ("Mesa 3 model (build, run, write actions)", f"{mesa_s:.1f} s", ""),
        ("simlab speed / Mesa speed (wall)", f"{mesa_s / simlab_s:.2f}x", ">= 5x"),
        ("CPU time simlab / Mesa", f"{simlab_cpu:.1f} s / {mesa_cpu:.1f} s", ""),
        ("simlab speed / Mesa speed (CPU)", f"{mesa_cpu / simlab_cpu:.2f}x", ">= 5x"),
    ]
    for table in ("likes", "comments", "follows"):
        ours, theirs = counts[table], len(getattr(model, table))
        rows.append(
            (f"{table}: simlab / Mesa", f"{ours:,} / {theirs:,} ({ours / theirs - 1:+.1%})", "")
        )
    print_table(
        f"bench_mesa_baseline: {args.agents:,} agents x {args.turns} turns, personalized, "
        f"feed {FEED_SIZE}, pool {POOL}, rule_based, posting off",
        rows,
    )


if __name__ == "__main__":
    main()
