"""A tiny multinomial naive-Bayes text classifier, trained at import from a committed CSV.

The lexicon (:mod:`simlab.population.lexicon`) only fires on the phrases it
lists; this model scores every word a labelled training text has used. It is
the textbook multinomial naive Bayes of [McCallum1998] with Laplace smoothing,
on binary features (each feature counted once per text, which suits short
posts [Manning2008, §13.3]):

    features(x)  = distinct unigrams of x minus :data:`STOPWORDS`, plus the
                   bigrams of that word sequence (a final ``s`` dropped)
    N_c          = training texts of class c, N = Σ_c N_c
    n_fc         = training texts of class c that have feature f
    log P(c)     = log(N_c / N)
    log P(f | c) = log((n_fc + ALPHA) / (Σ_f' n_f'c + ALPHA · |V|))      V = training features
    score_c(x)   = log P(c) + Σ_{f ∈ features(x) ∩ V} log P(f | c)

:func:`NaiveBayes.log_posterior` returns ``score - logsumexp(score)``;
``evidence`` is ``|features(x) ∩ V|``, the number of known features (0 means
the model has nothing to go on and the caller must not read its prior as a
label). Training is deterministic: classes and features in sorted order, no
random draws, so the same CSV gives the same coefficients on every machine.

The training set ``simlab/population/data/label_train.csv`` holds texts
written in public-post style for this purpose (no text copied from a real
account), each with a topic, a leaning (left / neutral / right) and the reason
for the label; it shares no text with the evaluation samples of
``tests/data/label_*.csv``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from simlab.population.lexicon import TOPIC_WORDS
from simlab.population.topics import TOPICS

TRAINING_CSV = Path(__file__).parent / "data" / "label_train.csv"
"""The committed training texts (columns ``text, topic, leaning, reason``)."""

SEED_WEIGHT = 2.0
"""How many training texts one lexicon seed phrase counts as."""

ALPHA = 1.0
"""Laplace (additive) smoothing of the feature counts."""

# fmt: off
STOPWORDS: frozenset[str] = frozenset((
    "a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for",
    "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "am", "it", "its",
    "this", "that", "these", "those", "there", "here", "i", "me", "my", "we", "our", "us",
    "you", "your", "he", "him", "his", "she", "her", "they", "them", "their", "what", "which",
    "who", "whom", "so", "than", "too", "very", "just", "s", "t", "ll", "re", "ve", "m", "d",
    "do", "does", "did", "has", "have", "had", "will", "would", "can", "could", "should",
    "about", "into", "up", "out", "over", "again", "then", "once", "all", "any", "some",
    "more", "most", "such", "only", "own", "same", "also", "how", "when", "where", "why",
    "get", "got", "one", "still", "even", "really", "today", "now", "day", "week", "year",
))
# fmt: on

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lower case, accents dropped, every run of non-alphanumerics one space, padded by spaces.

    >>> normalise("#Climate: ¡Inmigración!")
    ' climate inmigracion '
    """
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c)
    )
    return " " + _NON_WORD.sub(" ", folded).strip() + " "


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def features(text: str) -> set[str]:
    """The text's binary features: content unigrams and their bigrams (module docstring).

    >>> sorted(features("Tax the rich!"))
    ['rich', 'tax', 'tax rich']
    """
    words = [_stem(w) for w in normalise(text or "").split() if w not in STOPWORDS]
    return {*words, *(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))}


class NaiveBayes:
    """Multinomial naive Bayes on binary features (formula: module docstring)."""

    def __init__(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        alpha: float = ALPHA,
        seeds: Sequence[tuple[str, str]] = (),
    ):
        """Fit the class priors and feature likelihoods.

        Args:
            texts: training texts.
            labels: one class name per text.
            alpha: additive smoothing of the feature counts.
            seeds: ``(phrase, class)`` pseudo-texts counted in the likelihoods only
                (each :data:`SEED_WEIGHT` times), not in the priors.
        """
        self.classes: tuple[str, ...] = tuple(sorted(set(labels)))
        rows = [features(t) for t in texts]
        seed_rows = [features(phrase) for phrase, _ in seeds]
        self.vocabulary: dict[str, int] = {
            f: i for i, f in enumerate(sorted(set().union(*rows, *seed_rows)))
        }
        counts = np.zeros((len(self.classes), len(self.vocabulary)))
        index = {c: k for k, c in enumerate(self.classes)}
        for row, label in zip(rows, labels, strict=True):
            counts[index[label], [self.vocabulary[f] for f in row]] += 1
        for row, (_, label) in zip(seed_rows, seeds, strict=True):
            counts[index[label], [self.vocabulary[f] for f in row]] += SEED_WEIGHT
        totals = np.array([labels.count(c) for c in self.classes], dtype=float)
        self.log_prior = np.log(totals / totals.sum())
        smoothed = counts + alpha
        self.log_likelihood = np.log(smoothed / smoothed.sum(axis=1, keepdims=True))

    def log_posterior(self, text: str) -> tuple[np.ndarray, int]:
        """``(log P(c | text) per class in self.classes order, evidence)``."""
        known = sorted(self.vocabulary[f] for f in features(text) if f in self.vocabulary)
        score = self.log_prior + self.log_likelihood[:, known].sum(axis=1)
        top = score.max()
        return score - (top + np.log(np.exp(score - top).sum())), len(known)


def training_rows(path: Path = TRAINING_CSV) -> list[dict[str, str]]:
    """The rows of the committed training CSV."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def topic_seeds() -> list[tuple[str, str]]:
    """``(phrase, topic)`` for every topic word and stance phrase of the lexicon and the topics."""
    return [
        (phrase, t.name)
        for t in TOPICS
        for phrase in (*t.keywords, *t.left, *t.right, *TOPIC_WORDS.get(t.name, ()))
    ]


@cache
def models() -> tuple[NaiveBayes, NaiveBayes]:
    """``(topic model, leaning model)`` trained on :data:`TRAINING_CSV` (once per process)."""
    rows = training_rows()
    texts = [r["text"] for r in rows]
    return (
        NaiveBayes(texts, [r["topic"] for r in rows], seeds=topic_seeds()),
        NaiveBayes(texts, [r["leaning"] for r in rows]),
    )
