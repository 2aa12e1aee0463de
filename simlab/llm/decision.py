"""The answer an LLM agent must give: actions on its feed items, a post, a stance update.

The JSON schema sent as ``response_format`` lists the feed's item ids as an
``enum`` (constrained decoding can then only name real items), but servers do
not enforce every constraint (llama.cpp ignored numeric ``minimum`` /
``maximum`` in our tests, see ``docs/llm.md``), so :func:`parse_decision`
validates everything again: ids must be in the feed and appear once,
confidence must lie in [0, 1], leaning in [-1, 1], texts within their lengths.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

MAX_TEXT = 280


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemAction(_Answer):
    """What the agent does with one feed item."""

    item_id: str = Field(description="id of a feed item, exactly as listed")
    like: bool = False
    comment: str | None = Field(None, min_length=1, max_length=MAX_TEXT)
    follow_author: bool = False


class NewPost(_Answer):
    """A post the agent writes this turn."""

    text: str = Field(min_length=1, max_length=MAX_TEXT)
    topic: str = Field(min_length=1, max_length=64)


class StanceUpdate(_Answer):
    """The agent's stance on a topic after reading its feed, with its reason."""

    topic: str = Field(min_length=1, max_length=64)
    stance: str = Field(min_length=1, max_length=MAX_TEXT)
    confidence: float = Field(ge=0, le=1)
    leaning: float = Field(ge=-1, le=1, description="-1 (left) .. 1 (right)")
    rationale: str = Field(min_length=1, max_length=MAX_TEXT)


class Decision(_Answer):
    """One agent's decision for one turn."""

    actions: list[ItemAction] = Field(default_factory=list, max_length=100)
    post: NewPost | None = None
    stance: StanceUpdate | None = None

    @model_validator(mode="after")
    def _ids_in_feed(self, info: ValidationInfo) -> Decision:
        feed_ids = (info.context or {}).get("feed_ids")
        if feed_ids is None:
            raise ValueError("validate a Decision with context={'feed_ids': ...}")
        ids = [action.item_id for action in self.actions]
        unknown = sorted(set(ids) - set(feed_ids))
        if unknown:
            raise ValueError(f"item ids not in the feed: {', '.join(unknown)}")
        if len(ids) != len(set(ids)):
            raise ValueError("each feed item may appear at most once in actions")
        return self


def decision_schema(feed_ids: Iterable[str]) -> dict:
    """The JSON schema of :class:`Decision`: ``item_id`` in ``feed_ids``, one action per item at most.

    ``maxItems`` also stops small models from repeating actions until ``max_tokens`` runs out.
    """
    ids = list(feed_ids)
    base = _BASE_SCHEMA  # copied along the two changed paths only (a deepcopy per call is slow)
    item = base["$defs"]["ItemAction"]
    item_properties = {
        **item["properties"],
        "item_id": {**item["properties"]["item_id"], "enum": ids},
    }
    actions = {**base["properties"]["actions"], "maxItems": len(ids)}
    return {
        **base,
        "$defs": {**base["$defs"], "ItemAction": {**item, "properties": item_properties}},
        "properties": {**base["properties"], "actions": actions},
    }


def parse_decision(text: str, feed_ids: Iterable[str]) -> Decision:
    """Parse and validate an answer.

    Args:
        text: The model's message content (JSON).
        feed_ids: The ids of the items the agent was shown.

    Returns:
        The validated decision.

    Raises:
        pydantic.ValidationError: Not JSON, wrong shape, unknown or repeated ids, out-of-range values.
    """
    return Decision.model_validate_json(text, context={"feed_ids": frozenset(feed_ids)})


_BASE_SCHEMA = Decision.model_json_schema()
