"""The labeller against hand-labelled samples: coverage and agreement, as written in the docs.

``tests/data/label_sample.csv`` (113 posts) and ``label_dev.csv`` (40 posts) were
seen while the lexicon was widened and the constants of ``lexicon-nb-v3`` chosen;
``label_holdout.csv`` (40 posts, written after the lexicon-v2 freeze) and
``label_holdout2.csv`` (72 posts, written after the lexicon-nb-v3 freeze) were
never used to change the method. All are public-post-style texts written for this
purpose, each with a topic, a leaning (left / neutral / right) and the reason for
the label, none of them in the training set. The figures computed here are the
ones ``docs/labels.md`` states; the test fails when the two disagree.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from simlab.population.labels import label_post
from simlab.population.topics import TOPIC_NAMES

DATA = Path(__file__).parent / "data"
DOC = Path(__file__).parent.parent / "docs" / "labels.md"
SAMPLES = {
    "sample": DATA / "label_sample.csv",
    "dev": DATA / "label_dev.csv",
    "holdout": DATA / "label_holdout.csv",
    "holdout2": DATA / "label_holdout2.csv",
}


def _side(leaning: float | None) -> str | None:
    if leaning is None:
        return None
    return "left" if leaning < 0 else ("right" if leaning > 0 else "neutral")


def agreement(path: Path) -> dict[str, float]:
    """Coverage (topic and leaning both given) and, over covered posts, agreement and Cohen's kappa."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    labels = [label_post(r["text"]) for r in rows]
    covered = [(r, lb) for r, lb in zip(rows, labels, strict=True)
               if lb.topic_confidence > 0 and lb.leaning is not None]  # fmt: skip
    n = len(covered)
    topic = sum(r["topic"] == lb.topic for r, lb in covered) / n
    pairs = [(r["leaning"], _side(lb.leaning)) for r, lb in covered]
    observed = sum(a == b for a, b in pairs) / n
    classes = ("left", "neutral", "right")
    expected = sum(
        (sum(a == c for a, _ in pairs) / n) * (sum(b == c for _, b in pairs) / n) for c in classes
    )
    return {
        "posts": len(rows),
        "coverage": n / len(rows),
        "topic": topic,
        "leaning": observed,
        "kappa": (observed - expected) / (1 - expected),
    }


CONFIDENT = 0.5
"""Confidence from which a label counts as confident in the second table."""


def confident(path: Path) -> dict[str, float]:
    """Share of posts whose topic (leaning) confidence is >= CONFIDENT, and agreement among them."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    labels = [label_post(r["text"]) for r in rows]
    topics = [
        (r, lb) for r, lb in zip(rows, labels, strict=True) if lb.topic_confidence >= CONFIDENT
    ]
    sides = [(r, lb) for r, lb in zip(rows, labels, strict=True)
             if lb.leaning is not None and lb.leaning_confidence >= CONFIDENT]  # fmt: skip
    return {
        "topic_share": len(topics) / len(rows),
        "topic": sum(r["topic"] == lb.topic for r, lb in topics) / len(topics),
        "leaning_share": len(sides) / len(rows),
        "leaning": sum(r["leaning"] == _side(lb.leaning) for r, lb in sides) / len(sides),
    }


def confident_table() -> str:
    """The Markdown table of confident labels docs/labels.md holds."""
    lines = [
        "| sample | topic conf >= 0.5 | their topic agreement | leaning conf >= 0.5 "
        "| their leaning agreement |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, path in SAMPLES.items():
        c = confident(path)
        lines.append(
            f"| {name} | {c['topic_share']:.1%} | {c['topic']:.1%} | "
            f"{c['leaning_share']:.1%} | {c['leaning']:.1%} |"
        )
    return "\n".join(lines)


def table() -> str:
    """The Markdown table docs/labels.md holds."""
    lines = [
        "| sample | posts | coverage | topic agreement | leaning agreement | leaning kappa |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, path in SAMPLES.items():
        a = agreement(path)
        lines.append(
            f"| {name} | {a['posts']} | {a['coverage']:.1%} | {a['topic']:.1%} | "
            f"{a['leaning']:.1%} | {a['kappa']:.2f} |"
        )
    return "\n".join(lines)


def test_samples_are_well_formed():
    for path in SAMPLES.values():
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        assert all(r["topic"] in TOPIC_NAMES for r in rows)
        assert all(r["leaning"] in ("left", "neutral", "right") for r in rows)
        assert all(r["reason"].strip() and r["text"].strip() for r in rows)
        assert len({r["text"] for r in rows}) == len(rows)
    assert len(list(csv.DictReader(SAMPLES["sample"].open(encoding="utf-8")))) >= 100


def test_coverage_of_english_posts_is_at_least_80_percent():
    for name in ("holdout", "holdout2"):
        assert agreement(SAMPLES[name])["coverage"] >= 0.8


def test_agreement_figures_in_the_docs_are_the_computed_ones():
    doc = DOC.read_text(encoding="utf-8")
    assert table() in doc
    assert confident_table() in doc


def test_agreement_counts_a_small_sample_by_hand(tmp_path):
    small = tmp_path / "small.csv"
    small.write_text(
        "text,topic,leaning,reason\n"
        "Rent control and tenant rights now,housing,left,r\n"  # labelled housing, left
        "Secure the border and deport them,immigration,right,r\n"  # immigration, right
        "Made sourdough this weekend with the kids,culture,left,r\n"  # culture, neutral: off
        "qwzx blorp,sports,neutral,r\n"  # no evidence at all: leaning unknown, not covered
    )
    got = agreement(small)
    # covered 3 of 4; topics 3/3; leanings 2/3; kappa from the 3x3 table of gold x labelled
    gold, labelled = ["left", "right", "left"], ["left", "right", "neutral"]
    expected = sum(gold.count(c) * labelled.count(c) for c in ("left", "neutral", "right")) / 9
    assert got == {
        "posts": 4, "coverage": 0.75, "topic": 1.0, "leaning": 2 / 3,
        "kappa": pytest.approx((2 / 3 - expected) / (1 - expected)),
    }  # fmt: skip
