"""Persona bios written from an agent's traits (synthetic agents, imported agents without a bio).

A bio names the agent's top interests, its side of the leaning divide (with
two of that side's stance phrases) and how often it posts, for example::

    Posts often about climate and housing. Leans left: cares about renewables
    and rent control.
"""

from __future__ import annotations

from collections.abc import Sequence

from simlab.population.topics import TOPICS

_BY_NAME = {t.name: t for t in TOPICS}
CENTRE = 0.15
"""|leaning| below this reads as the centre."""
STRONG = 0.6
"""|leaning| at or above this reads as firmly on one side."""


def topic_label(name: str) -> str:
    """A topic's name as prose ("foreign_policy" -> "foreign policy")."""
    return name.replace("_", " ")


def activity_word(activity_rate: float) -> str:
    """How often an agent with this activity rate posts, in words."""
    if activity_rate < 0.15:
        return "rarely"
    if activity_rate < 0.35:
        return "now and then"
    if activity_rate < 0.6:
        return "often"
    return "constantly"


def side_sentence(top_topics: Sequence[str], leaning: float | None, variant: int = 0) -> str:
    """The leaning part of a bio, quoting stance phrases of the agent's top topics.

    A leaning of None (unknown, see :mod:`simlab.population.inference`) takes no side.
    """
    if leaning is None:
        return "Takes no side that its posts reveal."
    if abs(leaning) < CENTRE:
        return "Sits near the centre and listens to both sides."
    side = "left" if leaning < 0 else "right"
    strength = "Firmly on the" if abs(leaning) >= STRONG else "Leans"
    phrases = []
    for i, name in enumerate(list(top_topics)[:2] or [TOPICS[0].name]):
        words = getattr(_BY_NAME[name], side)
        phrases.append(words[(variant + i) % len(words)])
    if len(phrases) == 1 or phrases[0] == phrases[1]:
        return f"{strength} {side}: cares about {phrases[0]}."
    return f"{strength} {side}: cares about {phrases[0]} and {phrases[1]}."


def persona_bio(
    top_topics: Sequence[str], leaning: float | None, activity_rate: float, variant: int = 0
) -> str:
    """A one- or two-sentence bio from traits.

    Args:
        top_topics: topic names, most interesting first (the first two are used).
        leaning: in [-1, 1], negative is left; None when unknown.
        activity_rate: in [0, 1].
        variant: picks among the stance phrases, so bios of similar agents differ.
    """
    labels = [topic_label(name) for name in list(top_topics)[:2]]
    about = " and ".join(labels) if labels else "whatever is on their mind"
    posting = f"Posts {activity_word(activity_rate)} about {about}."
    return f"{posting} {side_sentence(top_topics, leaning, variant)}"
