"""The persona-conditioned prompt of an LLM agent.

The system message states who the agent is: handle, bio, the persona's tone,
style and values, its interests and its current stance (with confidence).
The user message holds its memory (its own recent actions, newest last) and
the feed, one item per line with its id, and asks for the JSON answer of
:mod:`simlab.llm.decision`. Prompts are kept short because the embedded
model has a 2,048-token context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

MAX_ITEM_CHARS = 280


@dataclass(frozen=True)
class Persona:
    """Who the agent is (from ``agent``, ``agent_persona_bios``, ``agent_personas``, traits)."""

    handle: str
    bio: str
    tone: str = "neutral"
    style: str = "concise"
    values: tuple[str, ...] = ()
    interests: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stance:
    """The agent's current stance on a topic."""

    topic: str
    stance: str
    confidence: float


@dataclass(frozen=True)
class FeedItem:
    """One post in the agent's feed."""

    item_id: str
    author: str
    text: str


def _persona_lines(persona: Persona, stance: Stance | None) -> list[str]:
    lines = [
        f"You are @{persona.handle} on a social network.",
        f"Bio: {persona.bio}",
        f"Tone: {persona.tone}. Style: {persona.style}.",
    ]
    if persona.values:
        lines.append(f"You value: {', '.join(persona.values)}.")
    if persona.interests:
        lines.append(f"You are interested in: {', '.join(persona.interests)}.")
    if stance is not None:
        lines.append(
            f'Your current stance on {stance.topic}: "{stance.stance}"'
            f" (confidence {stance.confidence:.2f})."
        )
    return lines


def build_messages(
    persona: Persona,
    feed: Sequence[FeedItem],
    stance: Stance | None = None,
    memory: Sequence[str] = (),
) -> list[dict[str, str]]:
    """The chat messages for one decision.

    Args:
        persona: Who the agent is.
        feed: The items it sees, in feed order.
        stance: Its current stance, if it has one.
        memory: Short descriptions of its own recent actions, oldest first.

    Returns:
        A system and a user message.
    """
    system = " ".join(_persona_lines(persona, stance))
    system += " Decide how you react to your feed. Answer with JSON only."
    remembered = "\n".join(f"- {line}" for line in memory) or "- nothing yet"
    items = "\n".join(
        f"[{item.item_id}] @{item.author}: {' '.join(item.text.split())[:MAX_ITEM_CHARS]}"
        for item in feed
    )
    user = (
        f"Your recent actions:\n{remembered}\n\nYour feed:\n{items}\n\n"
        'Reply with {"actions": [{"item_id": id from the feed, "like": true/false, '
        '"comment": text or null, "follow_author": true/false}], '
        '"post": null or {"text": ..., "topic": ...}, '
        '"stance": null or {"topic": ..., "stance": ..., "confidence": 0..1, '
        '"leaning": -1..1, "rationale": ...}}.'
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
