"""Comments answer the post: its topic, a phrase of it, and a stance that follows agreement."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from simlab.policies.base import ACTION_KINDS, FeedView
from simlab.policies.rule_based import RuleBasedParams, decide
from simlab.population.comments import (
    AGREE,
    DISAGREE,
    SIDE_MIN,
    comment,
    comments,
    post_phrase,
)
from simlab.population.topics import TOPIC_NAMES, TOPICS
from simlab.world import SimState

from .factories import make_population

HOUSING = TOPIC_NAMES.index("housing")
POST = "Rent control now. Tenants are being priced out of every neighborhood."


def _starts(text: str, templates) -> bool:
    return any(text.startswith(t.split("{")[0]) for t in templates)


def _comments(agent_leaning: float, post_leaning: float, n_agents: int = 60) -> list[str]:
    k = 8
    pop = make_population([agent_leaning] * n_agents, [post_leaning] * k, [HOUSING] * k,
                          propensity=0.3)  # fmt: skip
    pop = replace(pop, post_text=np.array([POST] * k, dtype=object))
    feeds = np.tile(np.arange(k), (n_agents, 1))
    view = FeedView(
        pop, SimState.initial(pop), 0, np.arange(n_agents), feeds, np.zeros(feeds.shape)
    )
    actions = decide(view, RuleBasedParams(), np.random.default_rng(7))
    comment = ACTION_KINDS.index("comment")
    return [text for kind, text in zip(actions.kind, actions.text, strict=True) if kind == comment]


def test_the_phrase_comes_from_the_post():
    assert post_phrase(HOUSING, POST) == "rent control"  # the longest topic phrase in the text
    # no topic phrase in the text: its first words
    assert post_phrase(
        HOUSING, "Big news from city hall today, finally"
    ) == "Big news from city hall today,".rstrip(",")


def test_comments_on_a_disagreeing_post_disagree_and_quote_it():
    texts = _comments(agent_leaning=0.8, post_leaning=-0.8)  # a right agent, a left post
    assert texts
    assert all(_starts(t, DISAGREE) and not _starts(t, AGREE) for t in texts)
    assert all('"rent control"' in t and "housing" in t for t in texts)
    assert all("What about" in t for t in texts)  # the agent voices its own side


def test_comments_on_an_agreeing_post_agree():
    texts = _comments(agent_leaning=-0.7, post_leaning=-0.8)
    assert texts and all(_starts(t, AGREE) for t in texts)
    assert all('"rent control"' in t for t in texts)


def test_an_agent_without_a_side_takes_none():
    rng = np.random.default_rng(0)
    texts = {comment(HOUSING, POST, 0.0, True, rng) for _ in range(30)}
    assert not any("We need" in t or "What about" in t for t in texts)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert comment(HOUSING, POST, 0.5, False, rng_a) == comment(HOUSING, POST, 0.5, False, rng_b)


def test_a_batch_of_comments_draws_what_one_call_per_draw_would():
    rng = np.random.default_rng(11)
    topics = rng.integers(0, len(TOPIC_NAMES), 40).tolist()
    leanings = rng.uniform(-1, 1, 40).round(2).tolist()
    agrees = (rng.random(40) < 0.5).tolist()
    texts = [POST if n % 2 else "Nothing on topic here at all" for n in range(40)]
    batch_rng, scalar_rng = np.random.default_rng(5), np.random.default_rng(5)
    batch = comments(topics, texts, leanings, agrees, batch_rng)
    expected = []
    for topic, text, leaning, agree in zip(topics, texts, leanings, agrees, strict=True):
        spec = TOPICS[topic]
        templates = AGREE if agree else DISAGREE
        template = templates[int(scalar_rng.integers(len(templates)))]
        side_words = spec.left if leaning < 0 else spec.right
        stance = side_words[int(scalar_rng.integers(len(side_words)))]
        side = ""
        if abs(leaning) >= SIDE_MIN:
            side = (" We need {}." if agree else " What about {}?").format(stance)
        label = spec.name.replace("_", " ")
        expected.append(template.format(topic=label, phrase=post_phrase(topic, text), side=side))
    assert batch == expected
    assert batch_rng.random() == scalar_rng.random()  # the stream continues in step
    assert comments([], [], [], [], batch_rng) == []
