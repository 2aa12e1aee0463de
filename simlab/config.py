"""Run configuration: one validated, fully resolved object stored whole with every run.

A :class:`RunConfig` can come from keyword arguments, a TOML file, or CLI
flags layered over a TOML file (:func:`load`). Validation resolves names and
parameters against the registries, so the stored config names every
parameter value the run used, defaults included.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simlab import feeds, metrics, opinion, policies
from simlab.engagement import EngagementConfig
from simlab.errors import InputError
from simlab.limits import MAX_SEED
from simlab.llm.settings import LLMSettings
from simlab.params import validate, wrapped_input_error
from simlab.population.draws import PopulationDraw
from simlab.posting import PostingConfig


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FeedConfig(_Strict):
    """Which feed algorithm ranks, with what parameters, and how long the feed is."""

    name: str = Field("chronological", description="a registered feed algorithm")
    params: dict[str, Any] = Field(default_factory=dict, description="the algorithm's parameters")
    size: int = Field(20, ge=1, le=1000, description="items per feed")
    candidate_pool: int | None = Field(
        1000,
        ge=1,
        le=100_000_000,
        description="rank within the N most recent visible posts (candidate generation); "
        "None = every visible post",
    )

    @model_validator(mode="after")
    def _resolve(self) -> FeedConfig:
        algorithm = feeds.FEEDS.get(self.name)
        resolved = validate(algorithm.params, self.params, f"feed {self.name!r}")
        self.params = resolved.model_dump()
        return self


class PolicyConfig(_Strict):
    """How agents decide, with what parameters."""

    name: str = Field("rule_based", description="a registered policy")
    params: dict[str, Any] = Field(default_factory=dict, description="the policy's parameters")

    @model_validator(mode="after")
    def _resolve(self) -> PolicyConfig:
        policy = policies.POLICIES.get(self.name)
        self.params = validate(policy.params, self.params, f"policy {self.name!r}").model_dump()
        return self


class OpinionConfig(_Strict):
    """Which opinion model moves leanings, with what parameters.

    The default, ``assimilation`` with its default parameters, is the model every
    run used before opinion models became a registry. The older flat form
    ``[opinion] enabled = ..., epsilon = ..., mu = ..., backfire = ..., rejection = ...``
    still parses: ``enabled = false`` means ``name = "none"``; the other keys
    become ``assimilation``'s parameters.
    """

    name: str = Field("assimilation", description="a registered opinion model")
    params: dict[str, Any] = Field(default_factory=dict, description="the model's parameters")

    @model_validator(mode="before")
    @classmethod
    def _read_flat_form(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not LEGACY_OPINION_KEYS & set(data):
            return data
        data = dict(data)
        flat = {key: data.pop(key) for key in LEGACY_OPINION_KEYS & set(data)}
        enabled = flat.pop("enabled", True)
        data.setdefault("name", "assimilation" if enabled else "none")
        if data["name"] != "none":
            data["params"] = {**flat, **data.get("params", {})}
        return data

    @model_validator(mode="after")
    def _resolve(self) -> OpinionConfig:
        model = opinion.OPINIONS.get(self.name)
        self.params = validate(
            model.params, self.params, f"opinion model {self.name!r}"
        ).model_dump()
        return self


LEGACY_OPINION_KEYS = {"enabled", "epsilon", "mu", "backfire", "rejection"}


class RunConfig(_Strict):
    """Everything that determines a run's rows (ids and wall-clock timestamps aside)."""

    seed: int = Field(0, ge=0, le=MAX_SEED, description="root of every random stream of the run")
    turns: int = Field(10, ge=1, le=100_000, description="number of turns")
    agents: int | None = Field(None, ge=2, description="first N agents by handle; None = all")
    population: PopulationDraw | None = Field(
        None, description="a drawn population (simlab.population.draws); None = the stored one"
    )
    feed: FeedConfig = Field(default_factory=FeedConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    opinion: OpinionConfig = Field(default_factory=OpinionConfig)
    posting: PostingConfig = Field(default_factory=PostingConfig)
    engagement: EngagementConfig = Field(default_factory=EngagementConfig)
    metrics: list[str] | None = Field(None, description="metric keys or groups; None = all")
    turn_hours: float = Field(1.0, gt=0, le=8760, description="simulated hours per turn")
    history_share: float = Field(
        0.5, ge=0, le=1, description="share of posts (by time) already visible at turn 0"
    )
    block_size: int = Field(
        1024, ge=1, le=1_000_000, description="agents ranked per vectorised block"
    )
    llm: LLMSettings | None = Field(
        None, description="endpoint, cache, budget of LLM policies (the key's variable name only)"
    )

    @model_validator(mode="after")
    def _resolve_metrics(self) -> RunConfig:
        self.metrics = metrics.resolve_keys(self.metrics)
        if self.llm is None and policies.POLICIES.get(self.policy.name).uses_llm:
            self.llm = LLMSettings()
        return self


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"]) or "config"
    if error["type"] == "extra_forbidden":
        return f"unknown setting {where!r}; allowed: {', '.join(RunConfig.model_fields)}"
    return f"{where}: {error['msg']}"


def build(values: dict[str, Any]) -> RunConfig:
    """Validate a nested dict into a RunConfig.

    Raises:
        InputError: the first invalid setting, named with its path and what is allowed.
    """
    try:
        return RunConfig.model_validate(values)
    except ValidationError as exc:
        if (cause := wrapped_input_error(exc)) is not None:
            raise cause from None
        raise InputError(f"config: {_first_error(exc)}") from None


# What a stored config without these sections ran with: runs recorded before agents
# posted and engagement became causal (issue 10) had neither.
PREDATING_SECTIONS: dict[str, dict[str, Any]] = {
    "posting": {"enabled": False},
    "engagement": {
        "history": "lifetime",
        "background_likes_per_hour": 0,
        "background_comments_per_hour": 0,
    },
}


def stored(values: dict[str, Any]) -> RunConfig:
    """A run's stored config as it ran: a section the stored config predates keeps its old behaviour.

    New runs store every section (the full resolved config), so a missing section
    means the run was recorded before it existed; resuming it must not switch on
    behaviour it never had (:data:`PREDATING_SECTIONS`).
    """
    missing = {key: value for key, value in PREDATING_SECTIONS.items() if key not in values}
    return build({**missing, **values})


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a TOML run config into a dict.

    Raises:
        InputError: the file is missing, unreadable or not valid TOML.
    """
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"--config: {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--config: cannot read {path} ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"--config: {path} is not valid TOML ({exc})") from None


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into a copy of ``base`` (nested dicts merge, values replace)."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
