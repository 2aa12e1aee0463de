"""The synthetic generator and the text labeller, on real migrated SQLite files."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pydantic import ValidationError
from sqlalchemy import text

from simlab.db import make_engine, migrate
from simlab.errors import InputError
from simlab.population import SyntheticConfig, create_synthetic, label_text
from simlab.population.labels import FALLBACK_TOPIC
from simlab.population.persona import topic_label
from simlab.population.synthetic import generate
from simlab.population.topics import TOPIC_NAMES, TOPICS
from simlab.world import load_population

TABLES = (
    "agent",
    "agent_persona_bios",
    "user_agent_profile_metadata",
    "agent_traits",
    "feed_posts",
    "post_annotations",
    "initial_follows",
    "populations",
    "bluesky_profiles",
    "agent_bios",
)
SMALL = {"agents": 200, "posts": 1000}


def _new_engine(tmp_path, name):
    path = tmp_path / name
    migrate(path)
    return make_engine(path)


def _dump(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1, 2")).all() for t in TABLES}


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.fixture(scope="module")
def population(tmp_path_factory):
    """A default-sized synthetic population (1000 agents, 5000 posts) and its database."""
    engine = _new_engine(tmp_path_factory.mktemp("pop"), "pop.db")
    summary = create_synthetic(engine, SyntheticConfig())
    with engine.connect() as conn:
        pop = load_population(conn)
    yield engine, summary, pop
    engine.dispose()


def test_population_loads_and_is_consistent(population):
    engine, summary, pop = population
    assert (summary.agents, summary.posts, summary.profiles) == (1000, 5000, 0)
    assert summary.follows == _count(engine, "initial_follows") == len(pop.follow_pairs)
    assert pop.n_agents == 1000 and pop.n_posts == 5000
    assert pop.n_accounts > pop.n_agents  # outside authors follow the agents
    assert np.allclose(pop.interests.sum(axis=1), 1.0)
    assert (pop.interests[:, 8:] == 0).all() and (pop.post_topic < 8).all()  # K = 8
    assert (pop.follow_pairs[:, 0] != pop.follow_pairs[:, 1]).all()
    assert len(np.unique(pop.follow_pairs, axis=0)) == len(pop.follow_pairs)
    with engine.connect() as conn:
        meta = conn.execute(
            text(
                "SELECT a.handle, m.followers_count, m.follows_count, m.posts_count FROM agent a "
                "JOIN user_agent_profile_metadata m USING (agent_id) ORDER BY a.handle"
            )
        ).all()
        population_row = conn.execute(text("SELECT source, config_json FROM populations")).one()
    followers = np.bincount(pop.follow_pairs[:, 1], minlength=pop.n_accounts)[: pop.n_agents]
    follows = np.bincount(pop.follow_pairs[:, 0], minlength=pop.n_agents)
    posts = np.bincount(pop.post_author, minlength=pop.n_accounts)[: pop.n_agents]
    assert [m.followers_count for m in meta] == followers.tolist()
    assert [m.follows_count for m in meta] == follows.tolist()
    assert [m.posts_count for m in meta] == posts.tolist()
    assert population_row.source == "synthetic"
    assert (
        SyntheticConfig.model_validate(json.loads(population_row.config_json)) == SyntheticConfig()
    )


def test_names_ids_and_timestamps(population):
    engine, _, pop = population
    assert pop.handles[0] == "agent0001.sim.bsky.social" and pop.handles[-1].startswith(
        "agent1000."
    )
    assert pop.post_ids[0] == "synthetic:00001"
    start = datetime(2026, 1, 5, tzinfo=UTC)
    with engine.connect() as conn:
        posts = conn.execute(
            text("SELECT post_id, uri, author_handle, source, created_at FROM feed_posts")
        ).all()
        sources = conn.execute(
            text(
                "SELECT DISTINCT persona_source FROM agent UNION SELECT label_source FROM post_annotations"
            )
        ).scalars()
        assert set(sources) == {"synthetic"}
    for post in posts:
        moment = datetime.fromisoformat(post.created_at)
        assert post.created_at.endswith("+00:00")
        assert start <= moment < start + timedelta(hours=168)
        key = post.author_handle.split(".")[0]
        assert post.uri == f"at://did:plc:sim{key}/app.bsky.feed.post/{post.post_id.split(':')[1]}"
        assert post.source == "synthetic"
    assert np.all(np.diff(pop.post_created) >= 0)  # post ids follow time order


def test_same_seed_same_rows_and_other_seed_differs(tmp_path):
    dumps = []
    for name, seed in (("a.db", 7), ("b.db", 7), ("c.db", 8)):
        engine = _new_engine(tmp_path, name)
        create_synthetic(engine, SyntheticConfig(**SMALL, seed=seed))
        dumps.append(_dump(engine))
        engine.dispose()
    assert dumps[0] == dumps[1]
    assert all(dumps[0][t] for t in TABLES[:8])
    for table in ("agent_traits", "feed_posts", "initial_follows", "agent_persona_bios"):
        assert dumps[0][table] != dumps[2][table]


def test_changing_post_count_keeps_the_agents():
    few = generate(SyntheticConfig(**SMALL))
    many = generate(SyntheticConfig(agents=200, posts=1500))
    assert few["agent_traits"] == many["agent_traits"]
    assert few["agent"] == many["agent"]


def test_bimodal_leanings_populate_both_sides(population):
    _, _, pop = population
    left, right = (pop.leaning < -0.2).mean(), (pop.leaning > 0.2).mean()
    assert left > 0.3 and right > 0.3
    assert (np.abs(pop.leaning) < 0.1).mean() < 0.15  # a dip in the middle
    assert np.corrcoef(pop.leaning[pop.post_author[pop.post_author < 1000]],
                       pop.post_leaning[pop.post_author < 1000])[0, 1] > 0.8  # fmt: skip


@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_other_leaning_distributions(kind):
    rows = generate(SyntheticConfig(agents=2000, posts=10, leaning_distribution=kind))
    leaning = np.array([r["leaning"] for r in rows["agent_traits"]])
    assert leaning.min() >= -1 and leaning.max() <= 1
    centre = (np.abs(leaning) < 0.1).mean()
    assert 0.07 < centre < 0.13 if kind == "uniform" else centre > 0.13


def test_engagement_is_heavy_tailed(population):
    engine, _, _ = population
    with engine.connect() as conn:
        counts = np.array(
            conn.execute(
                text(
                    "SELECT like_count, repost_count, reply_count, quote_count, bookmark_count FROM feed_posts"
                )
            ).all()
        )
    likes = counts[:, 0]
    assert likes.max() > 20 * max(np.median(likes), 1)
    assert likes.mean() > counts[:, 1].mean() > counts[:, 2].mean()
    assert (counts >= 0).all()


def _same_sign_share(homophily: float, seed: int = 3) -> float:
    rows = generate(SyntheticConfig(agents=600, posts=600, homophily=homophily, seed=seed))
    leaning = {
        r["agent_id"].removeprefix("did:plc:sim"): r["leaning"] for r in rows["agent_traits"]
    }
    pairs = [
        (leaning[f["agent_handle"].split(".")[0]], leaning[f["followed_handle"].split(".")[0]])
        for f in rows["initial_follows"]
        if f["followed_handle"].startswith("agent")
    ]
    return float(np.mean([np.sign(a) == np.sign(b) for a, b in pairs]))


def test_homophily_makes_follows_more_similar():
    none, strong = _same_sign_share(0.0), _same_sign_share(0.9)
    assert 0.4 < none < 0.6
    assert strong > none + 0.2


def test_follow_density_and_outside_share():
    config = SyntheticConfig(agents=500, posts=2000, follow_density=12, outside_follow_share=0.25)
    follows = generate(config)["initial_follows"]
    assert len(follows) == pytest.approx(500 * 12, rel=0.1)
    outside = np.mean([f["followed_handle"].startswith("outside") for f in follows])
    assert outside == pytest.approx(0.25, abs=0.05)
    assert all(f["agent_handle"] != f["followed_handle"] for f in follows)
    assert len({(f["agent_handle"], f["followed_handle"]) for f in follows}) == len(follows)


def test_traits_within_ranges(population):
    _, _, pop = population
    assert pop.leaning.min() >= -1 and pop.leaning.max() <= 1
    for values in (
        pop.activity_rate,
        pop.like_propensity,
        pop.comment_propensity,
        pop.follow_propensity,
    ):
        assert values.min() >= 0 and values.max() <= 1
    assert pop.like_propensity.mean() > pop.comment_propensity.mean() > pop.follow_propensity.mean()
    assert pop.post_leaning.min() >= -1 and pop.post_leaning.max() <= 1


def test_persona_bios_mention_top_interest_and_side(population):
    engine, _, _ = population
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT b.persona_bio, t.interests, t.leaning FROM agent_persona_bios b "
                "JOIN agent_traits t USING (agent_id)"
            )
        ).all()
    assert len(rows) == 1000
    for row in rows:
        interests = json.loads(row.interests)
        top = max(interests, key=interests.get)
        assert topic_label(top) in row.persona_bio
        if abs(row.leaning) >= 0.15:
            assert ("left" if row.leaning < 0 else "right") in row.persona_bio


def test_posts_follow_their_authors_interests(population):
    _, _, pop = population
    agents = pop.post_author < pop.n_agents
    weight = pop.interests[pop.post_author[agents], pop.post_topic[agents]]
    assert weight.mean() > 2 * (1 / 8)  # authors write about what interests them


def test_create_synthetic_refuses_a_populated_database(tmp_path):
    engine = _new_engine(tmp_path, "x.db")
    create_synthetic(engine, SyntheticConfig(**SMALL))
    before = _dump(engine)
    with pytest.raises(InputError, match="database already has 200 agents; use a new --db"):
        create_synthetic(engine, SyntheticConfig(**SMALL, seed=5))
    assert _dump(engine) == before


@pytest.mark.parametrize(
    "bad",
    [
        {"agents": 1},
        {"posts": 0},
        {"topics": 13},
        {"topics": 0},
        {"homophily": 1.5},
        {"leaning_distribution": "trimodal"},
        {"colour": "blue"},
        {"outside_accounts": 0},
        {"start": "2026-01-05T00:00:00"},
    ],
)
def test_config_rejects_bad_values(bad):
    with pytest.raises(ValidationError):
        SyntheticConfig(**bad)


def test_config_start_moves_every_timestamp():
    rows = generate(SyntheticConfig(agents=10, posts=20, start="2030-06-01T12:00:00+02:00"))
    assert rows["agent"][0]["created_at"] == "2030-06-01T10:00:00+00:00"
    assert all(p["created_at"] >= "2030-06-01T10:00:00+00:00" for p in rows["feed_posts"])


def test_no_outside_accounts():
    rows = generate(
        SyntheticConfig(agents=20, posts=50, outside_accounts=0, outside_author_share=0)
    )
    assert all(p["author_handle"].startswith("agent") for p in rows["feed_posts"])
    assert all(f["followed_handle"].startswith("agent") for f in rows["initial_follows"])


# --- the labeller -------------------------------------------------------------------------


@pytest.mark.parametrize("topics", [8, 12])
def test_labeller_recovers_synthetic_labels(topics):
    rows = generate(SyntheticConfig(agents=300, posts=2000, topics=topics, seed=11))
    truth = {a["post_id"]: a for a in rows["post_annotations"]}
    labels = [(label_text(p["text"]), truth[p["post_id"]]) for p in rows["feed_posts"]]
    topic_accuracy = np.mean([got.topic == want["topic"] for got, want in labels])
    sided = [(got, want) for got, want in labels if abs(want["leaning"]) >= 0.1]
    sign_agreement = np.mean(
        [np.sign(got.leaning) == np.sign(want["leaning"]) for got, want in sided]
    )
    neutral = [got.leaning for got, want in labels if abs(want["leaning"]) < 0.1]
    assert topic_accuracy >= 0.8
    assert sign_agreement >= 0.8
    assert np.mean(np.array(neutral) == 0) >= 0.8


@pytest.mark.parametrize(
    ("post", "topic", "sign"),
    [
        ("We need a carbon tax and more renewables to slow warming", "climate", -1),
        (
            "Secure the border now. Illegal crossings are out of control #immigration",
            "immigration",
            1,
        ),
        ("School choice and vouchers give parents options; charter schools work", "education", 1),
        ("Back the blue. Law and order keeps our streets safe from crime", "crime", 1),
        ("Medicare for all would fix hospital bills", "health", -1),
        ("What a match! The team played a great season", "sports", 0),
        ("Rent control and tenant rights for every neighborhood", "housing", -1),
        ("A new study of space discovery data", "science", 0),
        # a known error of lexicon-nb-v3: this neutral headline reads weakly right (0.19)
        ("MIGRANTS at the Border: asylum claims rise", "immigration", 1),
    ],
)
def test_labeller_on_hand_written_posts(post, topic, sign):
    label = label_text(post)
    assert label.topic == topic
    assert np.sign(label.leaning) == sign
    assert 0 < label.confidence < 1
    assert -1 <= label.leaning <= 1


def test_labeller_fallback_ties_and_limits():
    # lexicon-nb-v3: everyday chatter is culture (a label, from the naive-Bayes model), no side
    assert label_text("Good morning, everyone!")[:2] == (FALLBACK_TOPIC, 0.0)
    assert label_text("qwzx blorp") == (FALLBACK_TOPIC, 0.0, 0.0)  # no evidence at all
    assert label_text("") == (FALLBACK_TOPIC, 0.0, 0.0)
    # one keyword each of climate and economy: the lexicon ties, the naive-Bayes model decides
    tie = label_text("climate and jobs")
    assert tie.topic in ("climate", "economy") and 0 < tie.confidence < 1
    assert TOPIC_NAMES.index("climate") < TOPIC_NAMES.index("economy")
    # words inside longer words do not count ("art" in "party", "war" in "software")
    assert label_text("party software").topic == "technology"
    # balanced stance words cancel out: only the naive-Bayes model's weak reading is left
    assert abs(label_text("carbon tax or nuclear power? climate").leaning) < 0.5
    many = label_text(" ".join(TOPICS[0].right * 5))
    assert 0.9 < many.leaning <= 1


def test_labeller_is_deterministic_and_stronger_with_more_evidence():
    one = label_text("Tax cuts help the economy")
    two = label_text("Tax cuts and deregulation help the economy")
    assert one == label_text("Tax cuts help the economy")
    assert two.leaning > one.leaning > 0
    assert two.confidence > one.confidence
