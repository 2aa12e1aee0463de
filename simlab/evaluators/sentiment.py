"""VADER sentiment: lexicon and rule-based valence of short social-media texts.

Each token's valence comes from VADER's human-rated lexicon, adjusted by rules
for negation, degree boosters, capitalisation, punctuation and contrastive
"but" [Hutto2014]. With s the sum of the adjusted valences,

    compound = s / sqrt(s^2 + 15)            in [-1, 1]
    pos, neu, neg                            shares of the text's sentiment mass, in [0, 1]

(pos + neu + neg = 1 up to rounding). The package's own README reads
compound >= 0.05 as positive and <= -0.05 as negative; simlab flags an agent
``has_high_<dimension>`` when its mean is >= 0.5 (compound: clearly positive;
pos / neg / neu: the majority of the text's sentiment mass).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from functools import cache
from importlib.metadata import version

from simlab.evaluators.base import (
    Dimension,
    EvaluatorOptions,
    Score,
    StatelessScorer,
    per_text_latency,
    recorded_version,
    register,
)

VERSION = "1"
DIMENSIONS = (
    Dimension("compound", -1.0, 1.0, 0.5, "normalised sum of valences"),
    Dimension("pos", 0.0, 1.0, 0.5, "share of positive sentiment"),
    Dimension("neu", 0.0, 1.0, 0.5, "share of neutral text"),
    Dimension("neg", 0.0, 1.0, 0.5, "share of negative sentiment"),
)


@cache
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


class VaderScorer(StatelessScorer):
    """Scores texts one by one with a shared ``SentimentIntensityAnalyzer``."""

    def __init__(self) -> None:
        self.model = f"vaderSentiment-{version('vaderSentiment')}"
        self.version = recorded_version(VERSION, self.model)
        self._analyzer = _analyzer()

    def score(self, texts: Sequence[str], sources=None) -> list[Score]:
        """VADER's compound, pos, neu and neg for each text.

        VADER is a pure function of the text, so each distinct text of the batch is
        scored once (agents' template comments repeat often).
        """
        started = time.perf_counter()
        polarity = {t: self._analyzer.polarity_scores(t) for t in dict.fromkeys(texts)}
        latency = per_text_latency(started, time.perf_counter(), len(texts))
        return [
            Score(
                {d.name: float(polarity[t][d.name]) for d in DIMENSIONS}, None, self.model, latency
            )
            for t in texts
        ]


@register("sentiment", version=VERSION, dimensions=DIMENSIONS, citations=("Hutto2014",))
def build(options: EvaluatorOptions, engine=None) -> VaderScorer:
    """A VADER scorer (no options used)."""
    return VaderScorer()
