"""LLM agents: a language model reads each agent's feed and decides, the rest stay rule-based.

For every active LLM agent of a turn, one structured request
(:mod:`simlab.llm.prompts`, :mod:`simlab.llm.decision`) carries

- who the agent is: handle, bio (``agent_persona_bios``), tone / style /
  values (the newest ``agent_personas`` row, else neutral / concise / none),
  interests (its two strongest topics) and its current stance with confidence;
- its memory: its last ``memory`` own actions and stance changes in this run,
  oldest first (rebuilt from the database on resume, so prompts match);
- the first ``feed_items`` posts of its feed, with the ids ``p1 .. pN``
  (feed ranks).

The answer is validated (ids must be in the feed, numbers in range); an
invalid answer is re-asked once with the validation error, a second invalid
answer is a ``failed`` decision in ``llm_calls`` and the agent does nothing
that turn. A valid answer becomes likes, comments (the model's text) and
follows (once per author, never an author already followed), a stance update
(appended to ``agent_stances``; the agent's leaning becomes the stance's
leaning, overriding the opinion model for that agent that turn) and possibly
a post: the model's text, on the topic it names (else the agent's strongest
interest), leaning as its author after the turn (so the stated stance's
leaning when it stated one), written to ``agent_posts`` when posting is
enabled (:func:`new_posts`). LLM agents post only when the model writes a
post; rule-based agents post by the rule of :mod:`simlab.posting`.

Who uses the model: the handles in ``agents``, else the first
``round(share · n)`` agents of a permutation drawn from ``seed``; everyone
else decides with ``rule_based`` on the same policy stream. Each request's
sampling seed is derived from (run seed, turn, agent index). Every action's
``model_used`` is ``llm/<version>:<model>`` or ``rule_based/<version>`` (each
post's ``llm/<version>:<model>`` or ``rule_based_posting/<version>``), and its
``generation_metadata_json`` names the model fingerprint, the decision status
and its cache key. Prompts follow generative agents [Park2023] and LLM feed
simulations [Tornberg2023].
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from pydantic import Field

from simlab.llm.decision import Decision
from simlab.params import Params
from simlab.policies.base import ACTION_KINDS, Actions, FeedView, register
from simlab.population.topics import TOPIC_NAMES
from simlab.posting import NewPosts

VERSION = "1.0"
KIND = {kind: k for k, kind in enumerate(ACTION_KINDS)}
SHARE_STREAM = 0x5EED_11A  # SeedSequence word separating the LLM-agent draw from the turn streams


class LLMParams(Params):
    """Who decides with the model and how much each prompt shows."""

    share: float = Field(1.0, ge=0, le=1, description="share of agents deciding with the LLM")
    agents: list[str] | None = Field(
        None, description="handles deciding with the LLM (overrides share)"
    )
    feed_items: int = Field(5, ge=1, le=50, description="feed posts shown in each prompt")
    memory: int = Field(5, ge=0, le=50, description="own recent actions remembered in prompts")


def item_id(slot: int) -> str:
    """The prompt id of feed position ``slot`` (0-based): ``p1`` is the top of the feed."""
    return f"p{slot + 1}"


def slot_of(item: str) -> int:
    """The feed position named by a prompt id (the inverse of :func:`item_id`)."""
    return int(item[1:]) - 1


@dataclass(frozen=True)
class LLMPosts:
    """Posts the LLM agents wrote in one turn, as columns, in agent order."""

    agent: np.ndarray  # (m,) int: agent index
    text: list[str]  # (m,) the model's text
    topic: np.ndarray  # (m,) int topic index (the named topic, else the agent's top interest)
    named: list[bool]  # (m,) the model named a known topic
    status: list[str]  # (m,) decision status (ok / retried)
    cache_key: list[str | None]  # (m,) cache key of the answer that wrote the post

    @classmethod
    def empty(cls) -> LLMPosts:
        """No posts."""
        none = np.zeros(0, dtype=np.int64)
        return cls(none, [], none, [], [], [])

    def __len__(self) -> int:
        return len(self.agent)


@dataclass(frozen=True)
class DecisionOutcome:
    """One LLM agent's decision as the policy uses it."""

    row: int
    value: Decision | None
    status: str  # ok / retried / failed / budget_blocked
    cache_key: str | None


def llm_mask(handles: np.ndarray, params: LLMParams, seed: int) -> np.ndarray:
    """(n_agents,) bool: which agents decide with the LLM (module docstring).

    Raises:
        ValueError: ``agents`` names a handle that is not in the population.
    """
    n = len(handles)
    if params.agents is not None:
        known = set(handles.tolist())
        unknown = [h for h in params.agents if h not in known]
        if unknown:
            raise ValueError(f"agents: {unknown[0]!r} is not an agent of this population")
        return np.isin(handles, params.agents)
    order = np.random.default_rng(np.random.SeedSequence([seed, SHARE_STREAM])).permutation(n)
    mask = np.zeros(n, dtype=bool)
    mask[order[: int(round(params.share * n))]] = True
    return mask


def request_seed(seed: int, turn: int, agent: int) -> int:
    """The sampling seed of agent ``agent``'s request at ``turn`` (31 bits)."""
    return int(np.random.SeedSequence([seed, turn, agent]).generate_state(1)[0] >> 1)


def top_topic(interests: np.ndarray) -> int:
    """The agent's strongest topic (ties to the lower index)."""
    return int(np.argmax(interests))


def topic_index(name: str, fallback: int) -> int:
    """The index of a topic named by the model (case-insensitive), else ``fallback``."""
    lowered = [t.lower() for t in TOPIC_NAMES]
    return lowered.index(name.strip().lower()) if name.strip().lower() in lowered else fallback


def chosen_actions(view: FeedView, outcome: DecisionOutcome) -> list[tuple[int, int, str | None]]:
    """(kind, slot, text) of a valid decision, in (slot, kind) order; follows once per new author."""
    decision, row = outcome.value, outcome.row
    agent = int(view.agents[row])
    chosen, followed = [], set()
    for action in sorted(decision.actions, key=lambda a: slot_of(a.item_id)):
        slot = slot_of(action.item_id)
        post = int(view.feeds[row, slot])
        author = int(view.pop.post_author[post])
        if action.like:
            chosen.append((KIND["like"], slot, None))
        if action.comment is not None:
            chosen.append((KIND["comment"], slot, action.comment))
        fresh = author not in followed and not view.state.follows.contains(agent, author)
        if action.follow_author and fresh and author != agent:
            followed.add(author)
            chosen.append((KIND["follow"], slot, None))
    return chosen


def llm_actions(
    view: FeedView, outcomes: list[DecisionOutcome], model: str, fingerprint: str
) -> tuple[dict[str, list], list[str]]:
    """The columns of the LLM agents' actions and one memory line per action, in outcome order."""
    columns = {name: [] for name in ("kind", "row", "slot", "text", "explanation", "metadata")}
    lines = []
    for outcome in outcomes:
        if outcome.value is None:
            continue
        for kind, slot, text in chosen_actions(view, outcome):
            name = ACTION_KINDS[kind]
            metadata = {
                "policy": f"llm/{VERSION}",
                "model": model,
                "model_fingerprint": fingerprint,
                "decision_status": outcome.status,
                "cache_key": outcome.cache_key,
                "item_id": item_id(slot),
                "rank": slot + 1,
            }
            columns["kind"].append(kind)
            columns["row"].append(outcome.row)
            columns["slot"].append(slot)
            columns["text"].append(text)
            columns["explanation"].append(
                f"{name}: {model} chose feed item {item_id(slot)} (rank {slot + 1})"
            )
            columns["metadata"].append(json.dumps(metadata, sort_keys=True))
            lines.append(memory_line(view.pop, name, int(view.feeds[outcome.row, slot]), text))
    return columns, lines


def snippet(text: str) -> str:
    """A text as a memory quotes it: whitespace folded, at most 80 characters."""
    return " ".join(text.split())[:80]


def memory_line(pop, kind: str, post: int, text: str | None) -> str:
    """How an agent remembers one of its actions (the same words when rebuilt on resume)."""
    author = pop.accounts[pop.post_author[post]]
    if kind == "like":
        return f"liked {pop.post_ids[post]} by @{author}"
    if kind == "comment":
        return f'commented on {pop.post_ids[post]} by @{author}: "{snippet(text)}"'
    return f"followed @{author}"


def stance_line(topic: str, stance: str) -> str:
    """How an agent remembers a stance it stated."""
    return f'said on {topic}: "{snippet(stance)}"'


def merge_actions(
    view: FeedView,
    rule: Actions | None,
    rule_rows: np.ndarray,
    llm: dict,
    models: tuple[str, str],
) -> Actions:
    """Rule-based and LLM actions as one record in (row, slot, kind) order.

    Args:
        view: the whole turn's feeds.
        rule: the rule-based actions of the sub-view ``rule_rows`` (or None).
        rule_rows: (r,) rows of ``view`` the rule-based policy decided.
        llm: the LLM actions' columns (:func:`llm_actions`).
        models: ``model_used`` of the rule-based and of the LLM actions.
    """
    parts = []
    if rule is not None and len(rule):
        parts.append(
            (rule.kind, rule_rows[rule.row], rule.slot, rule.text, rule.explanation,
             rule.metadata_json, [models[0]] * len(rule))
        )  # fmt: skip
    if llm["kind"]:
        parts.append(
            (np.array(llm["kind"]), np.array(llm["row"]), np.array(llm["slot"]), llm["text"],
             llm["explanation"], llm["metadata"], [models[1]] * len(llm["kind"]))
        )  # fmt: skip
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Actions.from_choices(view, empty, empty, empty, [], [], [])
    kind, row, slot = (np.concatenate([p[i] for p in parts]).astype(np.int64) for i in range(3))
    lists = [sum((list(p[i]) for p in parts), []) for i in range(3, 7)]
    order = np.lexsort((kind, slot, row))
    text, explanation, metadata, models = ([column[i] for i in order] for column in lists)
    actions = Actions.from_choices(
        view, kind[order], row[order], slot[order], text, explanation, metadata
    )
    return Actions(**{**actions.__dict__, "model_used": models})


def posts_of(view: FeedView, outcomes: list[DecisionOutcome]) -> LLMPosts:
    """The posts the LLM agents wrote this turn (outcomes come in row, hence agent, order)."""
    agents, texts, topics, named, status, keys = [], [], [], [], [], []
    for outcome in outcomes:
        decision = outcome.value
        if decision is None or decision.post is None:
            continue
        agent = int(view.agents[outcome.row])
        topic = topic_index(decision.post.topic, -1)
        agents.append(agent)
        texts.append(decision.post.text)
        topics.append(topic if topic >= 0 else top_topic(view.pop.interests[agent]))
        named.append(topic >= 0)
        status.append(outcome.status)
        keys.append(outcome.cache_key)
    if not agents:
        return LLMPosts.empty()
    return LLMPosts(np.array(agents, dtype=np.int64), texts, np.array(topics, dtype=np.int64),
                    named, status, keys)  # fmt: skip


def new_posts(
    posts: LLMPosts, leaning: np.ndarray, model_used: str, model: str, fingerprint: str
) -> NewPosts:
    """The model-written posts as :class:`~simlab.posting.NewPosts` with per-post metadata.

    Args:
        posts: the turn's model-written posts.
        leaning: (n_agents,) leanings after the turn (stated stances settled).
        model_used: the LLM agents' ``model_used``.
        model: the model name sent to the endpoint.
        fingerprint: the model fingerprint (GGUF sha256 or served model id).
    """
    post_leaning = np.clip(leaning[posts.agent], -1.0, 1.0)
    rounded = np.round(post_leaning, 6).tolist()
    explanations, metadata = [], []
    for k, x, named, status, key in zip(posts.topic.tolist(), rounded, posts.named,
                                        posts.status, posts.cache_key, strict=True):  # fmt: skip
        source = "named by the model" if named else "its top interest"
        explanations.append(
            f"post: {model} wrote it on {TOPIC_NAMES[k]} ({source}), leaning {x:+.2f}"
        )
        metadata.append(
            json.dumps(
                {
                    "policy": f"llm/{VERSION}",
                    "model": model,
                    "model_fingerprint": fingerprint,
                    "decision_status": status,
                    "cache_key": key,
                    "topic_named": named,
                },
                sort_keys=True,
            )
        )
    return NewPosts(
        posts.agent, posts.topic, post_leaning, list(posts.text), explanations, metadata,
        [model_used] * len(posts),
    )  # fmt: skip


def posted_line(topic: str, text: str) -> str:
    """How an agent remembers a post it wrote."""
    return f'posted on {topic}: "{snippet(text)}"'


def _open(config, engine, run_id, pop, resumed_after):
    from simlab.policies.llm_session import LLMSession

    return LLMSession(config, engine, run_id, pop, resumed_after)


@register(
    "llm",
    VERSION,
    LLMParams,
    stochastic=True,
    uses_llm=True,
    citations=("Park2023", "Tornberg2023"),
    context=_open,
)
def decide(view: FeedView, params: LLMParams, rng: np.random.Generator) -> Actions:
    """Only inside a run: the engine calls the run's :class:`LLMSession` instead."""
    raise RuntimeError("the llm policy decides inside a run (simlab.engine opens its session)")
