"""The naive-Bayes text model against scikit-learn's MultinomialNB, and the labeller's unknown rule."""

from __future__ import annotations

import numpy as np
import pytest

from simlab.population import textmodel
from simlab.population.labels import label_post
from simlab.population.textmodel import NaiveBayes, features

TEXTS = [
    "Tax the rich and fund public schools",
    "Cut taxes and get government out of the way",
    "Made pancakes with the kids this morning",
    "Unions built the middle class",
    "Lower taxes for small business owners",
    "The cat is asleep on the keyboard again",
]
LABELS = ["left", "right", "neutral", "left", "right", "neutral"]
QUERIES = ["Tax cuts for business", "Fund the unions", "kids and cats", "nothing known here"]


def _sklearn_log_posterior(texts, labels, seeds, queries):
    """Independent computation: sklearn's MultinomialNB on the same binary features."""
    naive_bayes = pytest.importorskip("sklearn.naive_bayes")
    text = pytest.importorskip("sklearn.feature_extraction.text")
    vectoriser = text.CountVectorizer(analyzer=lambda t: sorted(features(t)), binary=True)
    rows = vectoriser.fit_transform([*texts, *(p for p, _ in seeds)])
    classes = sorted(set(labels))
    prior = np.array([labels.count(c) for c in classes]) / len(labels)  # priors from texts only
    weight = [1.0] * len(texts) + [textmodel.SEED_WEIGHT] * len(seeds)
    model = naive_bayes.MultinomialNB(alpha=textmodel.ALPHA, class_prior=prior)
    model.fit(rows, [*labels, *(c for _, c in seeds)], sample_weight=weight)
    assert list(model.classes_) == classes
    return model.predict_log_proba(vectoriser.transform(queries))


@pytest.mark.parametrize("seeds", [(), (("tax cuts", "right"), ("union", "left"))])
def test_log_posterior_equals_sklearn_multinomial_nb(seeds):
    ours = NaiveBayes(TEXTS, LABELS, seeds=seeds)
    expected = _sklearn_log_posterior(TEXTS, LABELS, seeds, QUERIES)
    got = np.array([ours.log_posterior(q)[0] for q in QUERIES])
    assert got == pytest.approx(expected, abs=1e-9)


def test_evidence_counts_known_features_only():
    model = NaiveBayes(TEXTS, LABELS)
    assert model.log_posterior("nothing known here")[1] == 0
    assert model.log_posterior("Tax the rich")[1] == len({"tax", "rich", "tax rich"})
    assert np.exp(model.log_posterior("Tax the rich")[0]).sum() == pytest.approx(1)


def test_training_is_deterministic():
    rows = textmodel.training_rows()
    texts, topics = [r["text"] for r in rows], [r["topic"] for r in rows]
    first, second = NaiveBayes(texts, topics), NaiveBayes(list(reversed(texts)), topics[::-1])
    assert first.vocabulary == second.vocabulary
    assert np.array_equal(first.log_likelihood, second.log_likelihood)


def test_training_set_is_well_formed_and_disjoint_from_the_samples():
    rows = textmodel.training_rows()
    assert len(rows) >= 400 and len({r["text"] for r in rows}) == len(rows)
    assert all(r["reason"].strip() for r in rows)
    assert {r["leaning"] for r in rows} == {"left", "neutral", "right"}


def test_unknown_stays_unknown_and_neutral_is_a_label():
    nothing = label_post("qwzx blorp")
    assert (nothing.topic_confidence, nothing.leaning, nothing.leaning_confidence) == (0, None, 0)
    assert label_post("").leaning is None
    everyday = label_post("Made lasagna for the whole family tonight, zero leftovers")
    assert everyday.leaning == 0 and everyday.leaning_confidence > 0
    # a political text read as neutral with no cue: not evidence of the centre
    assert label_post("The election is on Tuesday").leaning is None
    assert label_post("Tax the rich, billionaires must pay their share").leaning < 0
    assert label_post("Secure the border and deport them").leaning > 0
