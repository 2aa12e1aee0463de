"""Comment text for the rule-based policy: agreeing or disagreeing, on the post's topic."""

from __future__ import annotations

import numpy as np

from simlab.population.topics import TOPICS

AGREE = (
    "Exactly right on {kw}. {stance} is the way forward.",
    "Couldn't agree more about {kw}; {stance} matters.",
    "This is what people miss about {kw}. Yes to {stance}.",
    "Well said. On {kw}, {stance} is long overdue.",
)
DISAGREE = (
    "I don't buy this take on {kw}. {stance} makes more sense.",
    "Hard disagree on {kw}; what about {stance}?",
    "This gets {kw} wrong. Look at {stance} instead.",
    "Respectfully, no. On {kw} the answer is {stance}.",
)


def comment(topic: int, agent_leaning: float, agrees: bool, rng: np.random.Generator) -> str:
    """A short comment on ``topic`` that agrees or disagrees, voicing the agent's own side.

    The stance phrase comes from the agent's side of the divide (left if its
    leaning is negative), the keyword from the topic, the template from the
    agree or disagree list; all three choices are drawn from ``rng``.
    """
    spec = TOPICS[topic]
    side = spec.left if agent_leaning < 0 else spec.right
    templates = AGREE if agrees else DISAGREE
    template = templates[int(rng.integers(len(templates)))]
    keyword = spec.keywords[int(rng.integers(len(spec.keywords)))]
    stance = side[int(rng.integers(len(side)))]
    return template.format(kw=keyword, stance=stance)
