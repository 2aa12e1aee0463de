"""Offline lexicon labeller: topic and leaning of a post's text, each with a confidence.

Vocabulary: per topic, the generator's words (:mod:`simlab.population.topics`)
and the wider everyday vocabulary of :mod:`simlab.population.lexicon`; per
side, the topics' stance phrases and the general partisan cues of the lexicon.
Matching counts whole-word matches in the lower-cased text (a final ``s`` is
optional, accents are dropped, punctuation and ``#`` count as spaces, so
``#Climate`` matches ``climate`` and ``inmigración`` matches ``inmigracion``):

    hits[k]    = topic-word hits of topic k + stance hits (either side) of topic k
    topic      = argmax_k hits[k]; ties go to the topic listed first in TOPICS
    topic_conf = (hits[top] - hits[second]) / (hits[top] + 1)        in [0, 1)

    L, R       = left / right cue hits (stance phrases of all topics + partisan cues)
    leaning    = (R - L) / (R + L + SMOOTHING)                     if L + R > 0
    lean_conf  = |R - L| / (R + L + 1)

``SMOOTHING = 0.5`` (one right cue gives +0.67, two give +0.8). With no cue,
the leaning is *neutral* (0, ``lean_conf = NEUTRAL_CONFIDENCE · n / (n + 10)``
for ``n`` words) when the text has a topic and no political word
(:data:`~simlab.population.lexicon.POLITICAL_WORDS`), and *unknown*
(``None``, confidence 0) otherwise: a text about an election that takes no
side is not evidence of the centre. A text without any topic word gets
:data:`FALLBACK_TOPIC` with confidence 0, so unlabelled posts can be filtered
with ``label_confidence = 0``.

Agreement with hand-labelled public-post-style texts (``tests/data/label_*.csv``,
each label with its reason: a 113-post sample seen while the lexicon was
built, a 40-post development set, and a 40-post hold-out written after the
lexicon was frozen) is computed by ``tests/test_labels.py`` and reported in
``docs/labels.md``; on the hold-out, coverage and leaning agreement are much
lower than in-sample.

Limits: a bag of phrases, not a model. It misses sarcasm, negation ("no
carbon tax" counts as left) and quotes of the other side, knows only the
twelve topics, English and a few Spanish topic words (no Spanish cues), and its leaning takes a few discrete values. The
samples were written by the same engineer who widened the lexicon; treat
labels of real posts as a prior, and the hold-out figures as the estimate.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import NamedTuple

from simlab.population.lexicon import LEFT_CUES, POLITICAL_WORDS, RIGHT_CUES, TOPIC_WORDS
from simlab.population.topics import TOPICS

FALLBACK_TOPIC = "culture"
"""Topic given to a text with no topic word (with confidence 0): the general-chatter topic."""

SMOOTHING = 0.5
"""Added to the cue total in the leaning's denominator, shrinking one-cue texts."""

NEUTRAL_CONFIDENCE = 0.5
"""Ceiling of the confidence of a neutral leaning inferred from the absence of cues."""

METHOD = "lexicon-v2"
"""Name of this method, stored with every inferred label."""

_NON_WORD = re.compile(r"[^a-z0-9]+")


class Label(NamedTuple):
    """A post's inferred label: topic, leaning (0 when neutral or unknown), topic confidence."""

    topic: str
    leaning: float  # in [-1, 1]
    confidence: float  # in [0, 1)


class PostLabel(NamedTuple):
    """A post's inferred label with both confidences; ``leaning`` is None when unknown."""

    topic: str
    topic_confidence: float  # in [0, 1); 0 = no topic word
    leaning: float | None  # in [-1, 1]; None = unknown
    leaning_confidence: float  # in [0, 1)

    @property
    def label(self) -> Label:
        """The short :class:`Label` (unknown leaning reads as 0)."""
        return Label(self.topic, self.leaning or 0.0, self.topic_confidence)


def _normalise(text: str) -> str:
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c)
    )
    return " " + _NON_WORD.sub(" ", folded).strip() + " "


def _stem(phrase: str) -> str:
    phrase = _normalise(phrase).strip()
    return phrase[:-1] if phrase.endswith("s") and not phrase.endswith("ss") else phrase


def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    words = sorted(set(map(_stem, phrases)), key=len, reverse=True)
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(map(re.escape, words)) + r")s?(?![a-z0-9])")


@cache
def _patterns():
    topics = tuple(
        (_pattern(t.keywords + TOPIC_WORDS.get(t.name, ())), _pattern(t.left), _pattern(t.right))
        for t in TOPICS
    )
    cues = (_pattern(LEFT_CUES), _pattern(RIGHT_CUES), _pattern(POLITICAL_WORDS))
    return topics, cues


def label_post(text: str) -> PostLabel:
    """Infer topic and leaning with their confidences (method and limits: module docstring).

    >>> label_post("Rent control and tenant rights now: housing is a human need")
    PostLabel(topic='housing', topic_confidence=0.833333, leaning=-0.857143, leaning_confidence=0.75)
    >>> label_post("Made sourdough this weekend, the loaf is flat but mine")
    PostLabel(topic='culture', topic_confidence=0.666667, leaning=0.0, leaning_confidence=0.25)
    >>> label_post("Who will win the election?")
    PostLabel(topic='sports', topic_confidence=0.5, leaning=None, leaning_confidence=0.0)
    """
    normalised = _normalise(text or "")
    topics, (left_cues, right_cues, political) = _patterns()
    hits, left, right = [], len(left_cues.findall(normalised)), len(right_cues.findall(normalised))
    for words, left_words, right_words in topics:
        n_left, n_right = len(left_words.findall(normalised)), len(right_words.findall(normalised))
        hits.append(len(words.findall(normalised)) + n_left + n_right)
        left += n_left
        right += n_right
    ranked = sorted(range(len(hits)), key=lambda k: (-hits[k], k))
    top, second = hits[ranked[0]], (hits[ranked[1]] if len(hits) > 1 else 0)
    topic = TOPICS[ranked[0]].name if top else FALLBACK_TOPIC
    topic_confidence = round((top - second) / (top + 1), 6)
    if left + right:
        leaning = min(1.0, max(-1.0, (right - left) / (right + left + SMOOTHING)))
        return PostLabel(
            topic,
            topic_confidence,
            round(leaning, 6),
            round(abs(right - left) / (right + left + 1), 6),
        )
    words = len(normalised.split())
    if top == 0 or political.search(normalised):
        return PostLabel(topic, topic_confidence, None, 0.0)
    return PostLabel(
        topic, topic_confidence, 0.0, round(NEUTRAL_CONFIDENCE * words / (words + 10), 6)
    )


def label_text(text: str) -> Label:
    """Infer (topic, leaning, topic confidence) from ``text``; see :func:`label_post`.

    >>> label_text("Good morning!")
    Label(topic='culture', leaning=0.0, confidence=0.0)
    """
    return label_post(text).label
