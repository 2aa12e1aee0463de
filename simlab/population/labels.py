"""Offline keyword labeller: (topic, leaning, confidence) from a post's text.

The method counts whole-word matches of the vocabulary in
:mod:`simlab.population.topics` in the lower-cased text (a final ``s`` is optional,
so ``migrants`` also matches "migrant"; punctuation and ``#`` count as spaces,
so ``#Climate`` matches ``climate``):

    hits[k]    = keyword hits of topic k + stance hits (either side) of topic k
    topic      = argmax_k hits[k]; ties go to the topic listed first in TOPICS
    confidence = (hits[top] - hits[second]) / (hits[top] + 1)      in [0, 1)
    leaning    = (R - L) / (R + L + SMOOTHING), clipped to [-1, 1]

where ``L`` and ``R`` are the left and right stance hits over *all* topics and
``SMOOTHING = 0.5`` (one right-stance phrase gives +0.67, two give +0.8). A
keyword inside a stance phrase counts twice ("rent control" is a housing
keyword hit and a left stance hit). A text without stance phrases has leaning
0; a text without any topic word gets :data:`FALLBACK_TOPIC` with confidence 0,
so unlabelled posts can be filtered with ``label_confidence = 0``.

Limits: it is a bag of phrases, not a model. It misses synonyms, sarcasm,
negation ("no carbon tax" counts as left) and quotes of the other side, knows
only the twelve topics and English, and its leaning is coarse (a few discrete
values). It recovers the labels of synthetic posts well because they are
written from the same vocabulary; on real posts treat it as a rough prior.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

from simlab.population.topics import TOPICS

FALLBACK_TOPIC = "culture"
"""Topic given to a text with no topic word (with confidence 0): the general-chatter topic."""

SMOOTHING = 0.5
"""Added to the stance-hit total in the leaning's denominator, shrinking one-phrase texts."""

_NON_WORD = re.compile(r"[^a-z0-9]+")


class Label(NamedTuple):
    """A post's inferred label."""

    topic: str
    leaning: float  # in [-1, 1]
    confidence: float  # in [0, 1)


def _stem(phrase: str) -> str:
    phrase = _normalise(phrase).strip()
    return phrase[:-1] if phrase.endswith("s") and not phrase.endswith("ss") else phrase


def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    words = sorted(map(_stem, phrases), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, words)) + r")s?(?![a-z0-9])")


def _normalise(text: str) -> str:
    return " " + _NON_WORD.sub(" ", text.lower()).strip() + " "


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]], ...]:
    return tuple((_pattern(t.keywords), _pattern(t.left), _pattern(t.right)) for t in TOPICS)


def label_text(text: str) -> Label:
    """Infer (topic, leaning, confidence) from ``text`` (method and limits: module docstring).

    >>> label_text("Rent control and tenant rights now: housing is a human need")
    Label(topic='housing', leaning=-0.8, confidence=0.8)
    >>> label_text("Good morning!")
    Label(topic='culture', leaning=0.0, confidence=0.0)
    """
    normalised = _normalise(text or "")
    hits, left, right = [], 0, 0
    for keywords, left_words, right_words in _patterns():
        n_left = len(left_words.findall(normalised))
        n_right = len(right_words.findall(normalised))
        hits.append(len(keywords.findall(normalised)) + n_left + n_right)
        left += n_left
        right += n_right
    ranked = sorted(range(len(hits)), key=lambda k: (-hits[k], k))
    top, second = hits[ranked[0]], (hits[ranked[1]] if len(hits) > 1 else 0)
    if top == 0:
        return Label(FALLBACK_TOPIC, 0.0, 0.0)
    leaning = (right - left) / (right + left + SMOOTHING) if right + left else 0.0
    return Label(
        TOPICS[ranked[0]].name,
        round(min(1.0, max(-1.0, leaning)), 6),
        round((top - second) / (top + 1), 6),
    )
