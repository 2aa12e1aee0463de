"""Rule-based comment text that answers the post: its topic, a phrase of it, and a stance.

The rule-based policy decides *whether* an agent comments and whether it
agrees (``x_agree > 0``, :mod:`simlab.policies.rule_based`); this module writes
*what* it says:

1. the phrase: the longest topic word or stance phrase of the post's topic
   that occurs in the post's text (the vocabulary of
   :mod:`simlab.population.labels`), else the post's first words (up to
   :data:`PHRASE_WORDS`), so the comment quotes the post it answers;
2. the template: drawn from :data:`AGREE` or :data:`DISAGREE` by the stance;
3. the agent's own view: for an agent with ``|leaning| >= SIDE_MIN``, a stance
   phrase of its side on the topic ("what about school choice?"); an agent
   nearer the centre (or of unknown leaning, stored as 0) adds no side.

Two draws from ``rng`` (template, stance phrase) per comment, so comments are
reproducible under the run's seed. The LLM policy replaces this with model text.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from simlab.population.lexicon import TOPIC_WORDS
from simlab.population.persona import topic_label
from simlab.population.topics import TOPICS

PHRASE_WORDS = 6
"""Words of the post quoted when no topic phrase occurs in it."""
SIDE_MIN = 0.15
"""|agent leaning| from which a comment voices the agent's side."""

AGREE = (
    'Agreed on {topic}: "{phrase}" is exactly the point.{side}',
    'Yes, this. "{phrase}" is what the {topic} debate keeps missing.{side}',
    'Well said about {topic}. "{phrase}" needed saying.{side}',
    'Couldn\'t agree more on "{phrase}". That is where {topic} goes from here.{side}',
)
DISAGREE = (
    'I don\'t buy "{phrase}". On {topic} this gets it wrong.{side}',
    'Hard disagree on {topic}: "{phrase}" is not the answer.{side}',
    'Respectfully, no. "{phrase}" misreads the {topic} question.{side}',
    'This take on {topic} misses a lot. "{phrase}"? Not convinced.{side}',
)
_AGREE_SIDE = " We need {stance}."
_DISAGREE_SIDE = " What about {stance}?"
_WORD = re.compile(r"[A-Za-z0-9#@'’-]+")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=1 << 16)  # pure; agents comment on the same posts again and again
def post_phrase(topic: int, text: str) -> str:
    """The phrase of ``text`` a comment quotes (rule 1 of the module docstring)."""
    lowered = " " + _NOT_WORD.sub(" ", (text or "").lower()) + " "
    found = [word for needle, word in _needles(topic) if needle in lowered]
    if found:
        return max(found, key=lambda w: (len(w), w))
    words = _WORD.findall(text or "")[:PHRASE_WORDS]
    return " ".join(words) if words else topic_label(TOPICS[topic].name)


@functools.cache
def _needles(topic: int) -> tuple[tuple[str, str], ...]:
    """(`` word `` lowered, word) for every phrase of the topic's vocabulary, in vocabulary order."""
    spec = TOPICS[topic]
    vocabulary = (*spec.left, *spec.right, *spec.keywords, *TOPIC_WORDS.get(spec.name, ()))
    return tuple((f" {word.lower()} ", word) for word in vocabulary)


def comment(
    topic: int,
    post_text: str,
    agent_leaning: float,
    agrees: bool,
    rng: np.random.Generator,
) -> str:
    """A comment on a post that quotes it and agrees or disagrees (module docstring).

    Args:
        topic: the post's topic index (into :data:`~simlab.population.topics.TOPICS`).
        post_text: the post's text.
        agent_leaning: the commenting agent's leaning in [-1, 1].
        agrees: whether the agent agrees with the post.
        rng: the policy's generator (two draws).

    >>> comment(10, "Rent control now, tenants first", -0.6, False, np.random.default_rng(0))
    'This take on housing misses a lot. "rent control"? Not convinced. What about social housing?'
    """
    return comments([topic], [post_text], [agent_leaning], [agrees], rng)[0]


def comments(
    topics: list[int],
    post_texts: list[str],
    agent_leanings: list[float],
    agrees: list[bool],
    rng: np.random.Generator,
) -> list[str]:
    """The :func:`comment` of each (topic, post text, leaning, agrees), in order.

    All ``2 m`` draws (template, stance phrase, comment by comment) come from one
    ``rng.integers`` call with one bound per draw, which gives the numbers ``2 m``
    calls in that order would and leaves ``rng`` in the same state.
    """
    specs = [TOPICS[topic] for topic in topics]
    sides = [
        spec.left if leaning < 0 else spec.right
        for spec, leaning in zip(specs, agent_leanings, strict=True)
    ]
    bounds = np.empty(2 * len(specs), dtype=np.int64)
    bounds[0::2] = [len(AGREE if agree else DISAGREE) for agree in agrees]
    bounds[1::2] = [len(side) for side in sides]
    picks = rng.integers(bounds).tolist() if len(bounds) else []
    texts = []
    for n, (topic, spec, side_words) in enumerate(zip(topics, specs, sides, strict=True)):
        agree, leaning = agrees[n], agent_leanings[n]
        template = (AGREE if agree else DISAGREE)[picks[2 * n]]
        side = ""
        if abs(leaning) >= SIDE_MIN:
            stance = side_words[picks[2 * n + 1]]
            side = (_AGREE_SIDE if agree else _DISAGREE_SIDE).format(stance=stance)
        texts.append(
            template.format(
                topic=topic_label(spec.name),
                phrase=post_phrase(topic, post_texts[n]),
                side=side,
            )
        )
    return texts
