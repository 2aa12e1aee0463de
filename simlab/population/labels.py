"""Offline labeller of a post's text: topic and leaning, each with a confidence.

Two sources of evidence, combined in log-odds (method ``lexicon-nb-v3``):

1. the lexicon: whole-word hits of each topic's words (the generator's words of
   :mod:`simlab.population.topics` and the wider vocabulary of
   :mod:`simlab.population.lexicon`), and of left / right cue phrases (the
   topics' stance phrases and the partisan cues of the lexicon). Matching is
   on the lower-cased text, a final ``s`` optional, accents dropped,
   punctuation and ``#`` as spaces (``#Climate`` matches ``climate``);
2. two naive-Bayes models (:mod:`simlab.population.textmodel`) trained at
   import from the committed training texts: one over the twelve topics (with
   the lexicon's phrases as seed pseudo-texts), one over left / neutral / right.

Then, with ``hits[k]`` the topic hits of topic ``k`` (topic words plus its
stance phrases) and ``L``, ``R`` the left / right cue hits::

    p_topic   = softmax_k(log P_nb(k | x) + TOPIC_HIT_WEIGHT · hits[k])
    topic     = argmax p_topic (ties: the topic listed first in TOPICS)
    topic_conf = p_topic[top] - p_topic[second]                        in [0, 1)

    p_side    = softmax(log P_nb(side | x) + (CUE_WEIGHT·L, NEUTRAL_BIAS, CUE_WEIGHT·R))
    side      = argmax p_side over (left, neutral, right)
    leaning   = p_side[right] - p_side[left] if side is left or right, 0 if neutral
    lean_conf = p_side[side] - p_side[second]                          in [0, 1)

The rule for *unknown*: the leaning is ``None`` (confidence 0) when there is
no evidence (no feature the leaning model knows and no cue), or when the
winner is *neutral* but the text names politics
(:data:`~simlab.population.lexicon.POLITICAL_WORDS`) with no cue: a text about
an election that takes no side the model can read is not evidence of the
centre. A text with no topic evidence (no lexicon hit, no known feature) gets
:data:`FALLBACK_TOPIC` with confidence 0, so unlabelled posts can be filtered
with ``label_confidence = 0``. A neutral leaning is a label (0 with its own
confidence), not a missing one.

The four constants were chosen by 10-fold cross-validation on the training
texts and by the lexicon-era samples ``tests/data/label_sample.csv`` and
``label_dev.csv``; the hold-outs were not looked at until the method was
frozen. ``tests/test_labels.py`` computes coverage, agreement and Cohen's kappa
on every sample and ``docs/labels.md`` states them.

Limits: bags of words and phrases. No sarcasm, negation ("no carbon tax" counts
as left) or quotation handling; twelve topics; English, plus a few Spanish topic
words (no Spanish cues, no Spanish training text). The training texts and the
samples were written by the engineers who built the method; treat labels of
real posts as a prior, and the hold-out figures as the estimate.
"""

from __future__ import annotations

import re
from functools import cache
from typing import NamedTuple

import numpy as np

from simlab.population.lexicon import LEFT_CUES, POLITICAL_WORDS, RIGHT_CUES, TOPIC_WORDS
from simlab.population.textmodel import models, normalise
from simlab.population.topics import TOPICS

FALLBACK_TOPIC = "culture"
"""Topic given to a text with no topic evidence (with confidence 0): the general-chatter topic."""

TOPIC_HIT_WEIGHT = 2.0
"""Log-odds added to a topic per lexicon hit of that topic."""

CUE_WEIGHT = 2.0
"""Log-odds added to a side per lexicon cue of that side."""

NEUTRAL_BIAS = 1.0
"""Log-odds added to the neutral class: most real posts take no side."""

MAX_CONFIDENCE = 0.999999
"""Ceiling of a confidence: a margin that rounds to 1 is stored just below it."""

SIDES = ("left", "neutral", "right")
"""The leaning classes, in the order of the cue vector."""

METHOD = "lexicon-nb-v3"
"""Name of this method, stored with every inferred label."""


class Label(NamedTuple):
    """A post's inferred label: topic, leaning (0 when neutral or unknown), topic confidence."""

    topic: str
    leaning: float  # in [-1, 1]
    confidence: float  # in [0, 1)


class PostLabel(NamedTuple):
    """A post's inferred label with both confidences; ``leaning`` is None when unknown."""

    topic: str
    topic_confidence: float  # in [0, 1); 0 = no topic evidence
    leaning: float | None  # in [-1, 1]; None = unknown
    leaning_confidence: float  # in [0, 1)

    @property
    def label(self) -> Label:
        """The short :class:`Label` (unknown leaning reads as 0)."""
        return Label(self.topic, self.leaning or 0.0, self.topic_confidence)


def _stem(phrase: str) -> str:
    phrase = normalise(phrase).strip()
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


def _softmax(score: np.ndarray) -> np.ndarray:
    weights = np.exp(score - score.max())
    return weights / weights.sum()


def _confidence(margin: float) -> float:
    """A probability margin as a confidence: rounded to 6 places, kept below 1 (never certain)."""
    return min(round(float(margin), 6), MAX_CONFIDENCE)


def _lexicon_counts(normalised: str) -> tuple[list[int], int, int, bool]:
    """Topic hits per topic (TOPICS order), left and right cue hits, and whether a political word occurs."""
    topics, (left_cues, right_cues, political) = _patterns()
    hits, left, right = [], len(left_cues.findall(normalised)), len(right_cues.findall(normalised))
    for words, left_words, right_words in topics:
        n_left, n_right = len(left_words.findall(normalised)), len(right_words.findall(normalised))
        hits.append(len(words.findall(normalised)) + n_left + n_right)
        left += n_left
        right += n_right
    return hits, left, right, bool(political.search(normalised))


def label_post(text: str) -> PostLabel:
    """Infer topic and leaning with their confidences (method and limits: module docstring).

    >>> label_post("Rent control and tenant rights now: housing is a human need")
    PostLabel(topic='housing', topic_confidence=0.999999, leaning=-0.99845, leaning_confidence=0.99845)
    >>> label_post("Made sourdough this weekend, the loaf is flat but mine")
    PostLabel(topic='culture', topic_confidence=0.983108, leaning=0.0, leaning_confidence=0.876893)
    >>> label_post("The election is on Tuesday")
    PostLabel(topic='crime', topic_confidence=0.002054, leaning=None, leaning_confidence=0.0)
    """
    normalised = normalise(text or "")
    hits, left, right, political = _lexicon_counts(normalised)
    topic_model, leaning_model = models()
    topic_log, topic_evidence = topic_model.log_posterior(text or "")
    order = [topic_model.classes.index(t.name) for t in TOPICS]
    topic_p = _softmax(topic_log[order] + TOPIC_HIT_WEIGHT * np.array(hits))
    ranked = sorted(range(len(TOPICS)), key=lambda k: (-topic_p[k], k))
    if topic_evidence == 0 and max(hits) == 0:
        topic, topic_confidence = FALLBACK_TOPIC, 0.0
    else:
        topic = TOPICS[ranked[0]].name
        topic_confidence = _confidence(topic_p[ranked[0]] - topic_p[ranked[1]])
    leaning_log, leaning_evidence = leaning_model.log_posterior(text or "")
    leaning_log = leaning_log[[leaning_model.classes.index(c) for c in SIDES]]
    side_p = _softmax(leaning_log + np.array([CUE_WEIGHT * left, NEUTRAL_BIAS, CUE_WEIGHT * right]))
    side = int(np.argmax(side_p))
    no_evidence = leaning_evidence == 0 and left + right == 0
    if no_evidence or (SIDES[side] == "neutral" and political and left + right == 0):
        return PostLabel(topic, topic_confidence, None, 0.0)
    confidence = _confidence(side_p[side] - np.sort(side_p)[-2])
    leaning = 0.0 if SIDES[side] == "neutral" else round(float(side_p[2] - side_p[0]), 6)
    return PostLabel(topic, topic_confidence, leaning, confidence)


def label_text(text: str) -> Label:
    """Infer (topic, leaning, topic confidence) from ``text``; see :func:`label_post`.

    >>> label_text("qwzx blorp")
    Label(topic='culture', leaning=0.0, confidence=0.0)
    """
    return label_post(text).label
