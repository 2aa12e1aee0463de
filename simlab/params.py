"""Typed parameters for feeds and policies: parse ``KEY=VALUE`` strings with clear errors."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from simlab.errors import InputError
from simlab.limits import MAX_PARAM


class Params(BaseModel):
    """Base class for algorithm parameters: unknown keys are errors, values are validated.

    Every number is finite and within ``±MAX_PARAM`` (1e6, :mod:`simlab.limits`)
    unless its field declares narrower bounds, so scores stay finite and stored
    JSON never holds NaN or Infinity.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*")
    @classmethod
    def _within_limits(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if abs(value) > MAX_PARAM:
                raise ValueError(f"must be within ±{MAX_PARAM:g} (simlab's range for parameters)")
        return value


def parameter_rows(model: type[BaseModel]) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, description) for each field of a Params model."""
    rows = []
    for name, field in model.model_fields.items():
        annotation = getattr(field.annotation, "__name__", str(field.annotation))
        rows.append((name, annotation, field.default, field.description or ""))
    return rows


def wrapped_input_error(exc: ValidationError) -> InputError | None:
    """The InputError a validator raised inside a model, if that is what failed first."""
    cause = exc.errors()[0].get("ctx", {}).get("error")
    return cause if isinstance(cause, InputError) else None


def validate(model: type[BaseModel], values: dict[str, Any], owner: str) -> BaseModel:
    """Build ``model`` from ``values``; a bad key or value becomes a one-line InputError.

    Args:
        model: the Params class.
        values: raw values (strings from the command line are coerced by pydantic).
        owner: what the parameters belong to, for the message (e.g. "feed 'popularity'").
    """
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        if (cause := wrapped_input_error(exc)) is not None:
            raise cause from None
        error = exc.errors()[0]
        key = ".".join(str(p) for p in error["loc"]) or "?"
        allowed = (
            ", ".join(f"{n} ({t}, default {d})" for n, t, d, _ in parameter_rows(model)) or "none"
        )
        if error["type"] == "extra_forbidden":
            raise InputError(f"{owner}: unknown parameter {key!r}; allowed: {allowed}") from None
        raise InputError(
            f"{owner}: parameter {key!r}: {error['msg']}; allowed: {allowed}"
        ) from None


def parse_assignments(pairs: list[str], flag: str) -> dict[str, str]:
    """Turn ``["a=1", "b=x"]`` into ``{"a": "1", "b": "x"}``.

    Raises:
        InputError: an item has no ``=``.
    """
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{flag}: expected KEY=VALUE, got {pair!r}")
        values[key.strip()] = value.strip()
    return values
