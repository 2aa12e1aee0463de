"""An imported agent's leaning and interests from its own posts and bio, with confidences.

Every text (each post, and the bio as one more text) is labelled by
:func:`simlab.population.labels.label_post`. Then, over an agent's texts ``i``:

    interests[k]     = (W_k + INTEREST_SMOOTHING) / (W + K · INTEREST_SMOOTHING)
                       W_k = Σ topic_conf_i over texts with topic k, W = Σ_k W_k
    interests_conf   = W / (W + INTEREST_EVIDENCE)

    leaning          = Σ c_i · l_i / Σ c_i     over texts with a side (l_i ≠ 0, known)
    leaning_conf     = C / (C + 1)             C = Σ c_i (c_i = the text's leaning confidence)

Neutral texts carry no evidence of a side and do not pull the leaning to 0.
An agent with no sided text has an *unknown* leaning: ``agent_inferences``
stores NULL with confidence 0, and ``agent_traits.leaning`` (which must be a
number) holds 0, the centre the simulation starts it from; persona bios and
comments of such an agent take no side. Activity and propensities are not
observable from public posts and get :data:`simlab.population.traits.TRAIT_MEANS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simlab.population.labels import METHOD, PostLabel
from simlab.population.topics import TOPIC_NAMES
from simlab.population.traits import TRAIT_MEANS

INTEREST_SMOOTHING = 0.5
"""Pseudo-evidence per topic added to an agent's topic weights."""
INTEREST_EVIDENCE = 5.0
"""Topic evidence at which the interests' confidence reaches 0.5."""


def infer_agent(
    posts: Sequence[PostLabel], bio: PostLabel | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Traits (``agent_traits`` columns) and an inference record from an agent's text labels.

    Args:
        posts: labels of the agent's own posts.
        bio: label of its bio, if it has one (counted as one more text).

    Returns:
        ``(traits, inference)``: traits with ``leaning`` (0 when unknown), ``interests``
        (dict) and the prior means; inference with ``leaning`` (None when unknown),
        ``leaning_confidence``, ``interests_confidence``, ``posts_used`` and ``method``.
    """
    labels = [*posts, bio] if bio is not None else list(posts)
    weights = dict.fromkeys(TOPIC_NAMES, 0.0)
    for label in labels:
        weights[label.topic] += label.topic_confidence
    total = sum(weights.values())
    smoothed = total + len(TOPIC_NAMES) * INTEREST_SMOOTHING
    interests = {k: round((w + INTEREST_SMOOTHING) / smoothed, 6) for k, w in weights.items()}
    sided = [label for label in labels if label.leaning and label.leaning_confidence > 0]
    evidence = sum(label.leaning_confidence for label in sided)
    leaning = (
        round(sum(lb.leaning_confidence * lb.leaning for lb in sided) / evidence, 6)
        if evidence
        else None
    )
    traits = {"leaning": leaning or 0.0, "interests": interests, **TRAIT_MEANS}
    inference = {
        "leaning": leaning,
        "leaning_confidence": round(evidence / (evidence + 1), 6),
        "interests_confidence": round(total / (total + INTEREST_EVIDENCE), 6),
        "posts_used": len(posts),
        "method": METHOD,
    }
    return traits, inference
