"""Step lock: every output of ``Simulation.step`` over many configs, hashed, must not change.

The behaviour lock (``test_behaviour_lock.py``) digests stored rows of a few
runs; this one digests what ``step`` returns (feeds, score bits, every action
column, leanings, metrics, agent posts) for every registered feed at several
feed and pool sizes and block sizes, with posting on and off, and for every
opinion model, so an optimisation of the engine's compute that changes any
number, even in its last bit, fails here. The digests in
``tests/data/step_lock.json`` were recorded from main at aa49db0 (before the
issue-13 main-thread work) with ``python tests/test_step_lock.py --record``;
like the behaviour lock they assume the project's locked numpy build.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from simlab import engine as simulation
from simlab.config import RunConfig
from simlab.db import make_engine, migrate
from simlab.population import SyntheticConfig, create_synthetic

DIGESTS = Path(__file__).parent / "data" / "step_lock.json"
FEEDS = ("bridging", "chronological", "diverse", "in_network", "personalized", "popularity")
FEEDS += ("random",)
OPINIONS = ("assimilation", "deffuant", "hegselmann_krause", "none", "repulsive")
METRICS = [  # every turn metric registered when the digests were recorded
    "turn.actions.comments",
    "turn.actions.follows",
    "turn.actions.likes",
    "turn.actions.total",
    "turn.attention.like_gini_authors",
    "turn.attention.like_gini_posts",
    "turn.engagement.rate",
    "turn.exposure.cross_cutting_share",
    "turn.exposure.leaning_entropy",
    "turn.exposure.topic_entropy",
    "turn.exposure.topic_entropy_per_agent",
    "turn.exposure.topic_evenness",
    "turn.feed.coverage",
    "turn.feed.impressions",
    "turn.feed.mean_liked_rank",
    "turn.feed.unique_posts",
    "turn.network.ei_index",
    "turn.network.follow_edges",
    "turn.network.leaning_assortativity",
    "turn.opinion.bimodality",
    "turn.opinion.leaning_std",
    "turn.opinion.leaning_variance",
    "turn.opinion.mean_abs_shift",
    "turn.opinion.mean_leaning",
]
LIFETIME = {
    "history": "lifetime",
    "background_likes_per_hour": 0,
    "background_comments_per_hour": 0,
}
POPULATIONS = ((1, 700, 1500), (2, 400, 600))  # (seed, agents, posts)


def configs() -> dict[str, dict]:
    """Name -> RunConfig keywords of every locked case (seed and turns added per population)."""
    cases = {}
    for feed in FEEDS:
        for size, pool, block in ((20, 300, 128), (5, None, 1000), (1, 50, 37)):
            cases[f"{feed}/k{size}/pool{pool}/block{block}"] = {
                "feed": {"name": feed, "size": size, "candidate_pool": pool},
                "block_size": block,
            }
        cases[f"{feed}/no-posting"] = {
            "feed": {"name": feed, "size": 10, "candidate_pool": 200},
            "posting": {"enabled": False},
            "engagement": LIFETIME,
        }
    for name in OPINIONS:
        cases[f"opinion/{name}"] = {
            "feed": {"name": "personalized", "size": 20, "candidate_pool": 400},
            "opinion": {"name": name},
        }
    cases["personalized/agents300"] = {
        "feed": {"name": "personalized", "size": 20, "candidate_pool": 1000},
        "agents": 300,
    }
    return cases


def _update(digest, value) -> None:
    """Feed ``value`` (arrays by dtype, shape and bytes; lists, dicts, scalars by repr)."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            digest.update(repr(value.tolist()).encode())
        else:
            digest.update(f"{value.dtype}{value.shape}".encode())
            digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, list | tuple):
        for item in value:
            _update(digest, item)
        digest.update(b"]")
    elif isinstance(value, dict):
        for key in sorted(value):
            digest.update(key.encode())
            _update(digest, value[key])
    else:
        digest.update(repr(value).encode())


def _turn(digest, rows) -> None:
    """Every field of one turn's ``TurnRows`` that the recorder writes."""
    actions, posts = rows.actions, rows.posts
    for value in (
        rows.turn,
        rows.agents,
        rows.feeds,
        rows.scores,
        actions.kind,
        actions.row,
        actions.slot,
        actions.agent,
        actions.post,
        actions.target,
        actions.text,
        actions.explanation,
        actions.metadata_json,
        actions.model_used,
        rows.leaning,
        rows.metrics,
        rows.post_ids,
        rows.posted_at,
        posts.author,
        posts.topic,
        posts.leaning,
        posts.text,
    ):
        _update(digest, value)


def digests(folder: Path) -> dict[str, str]:
    """The digest of four turns of every case on every population (databases in ``folder``)."""
    out = {}
    for seed, agents, posts in POPULATIONS:
        db = folder / f"lock{seed}.db"
        migrate(db)
        engine = make_engine(db)
        create_synthetic(engine, SyntheticConfig(agents=agents, posts=posts, seed=seed))
        for i, (name, extra) in enumerate(configs().items()):
            config = RunConfig(seed=seed + i, turns=4, metrics=METRICS, **extra)
            sim = simulation.Simulation(config, simulation.population_for(config, engine))
            digest = hashlib.sha256()
            for turn in range(config.turns):
                _turn(digest, sim.step(turn))
            out[f"pop{seed}/{name}"] = digest.hexdigest()[:32]
        engine.dispose()
    return out


def test_every_step_output_is_unchanged(tmp_path):
    expected = json.loads(DIGESTS.read_text())
    actual = digests(tmp_path)
    assert set(actual) == set(expected)
    changed = sorted(name for name in expected if actual[name] != expected[name])
    assert not changed, f"{len(changed)} of {len(expected)} cases changed: {changed[:5]}"


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        DIGESTS.write_text(json.dumps(digests(Path(scratch)), indent=1, sort_keys=True) + "\n")
    print(f"recorded {DIGESTS}")
