"""One run's LLM session: endpoint, client, cache, ledger, personas, memory and stances.

Opened by the engine around a run of the ``llm`` policy (before the run row is
written, so a bad endpoint, key variable or agent list writes nothing). With
no ``base_url`` it starts the embedded model and stops it at the end; in cache
mode ``replay`` it starts nothing and sends nothing. The turn's ``llm_calls``,
``budget_events`` and ``agent_stances`` rows are handed to the turn's own
transaction (:meth:`LLMSession.turn_writer`); calls of a turn that never
commits (budget block, error) are written on their own when the session
closes, so spent tokens are always accounted. A ``block`` budget raises
:class:`~simlab.policies.base.RunStopped` after the turn's in-flight requests.
The posts the model wrote reach the engine through
:meth:`LLMSession.write_posts`, merged with the rule-based agents' posts.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from contextlib import ExitStack
from dataclasses import replace

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from simlab import posting
from simlab.errors import InputError
from simlab.llm.accounting import Ledger, write_calls
from simlab.llm.cache import ResponseCache
from simlab.llm.client import LLMClient
from simlab.llm.decision import decision_schema, parse_decision
from simlab.llm.prompts import FeedItem, Persona, Stance, build_messages
from simlab.llm.server import EmbeddedServer, gguf_path, model_fingerprint
from simlab.llm.settings import LLMSettings
from simlab.llm.stances import append_stance
from simlab.policies import llm as policy
from simlab.policies.base import POLICIES, Actions, FeedView, RunStopped
from simlab.population.topics import TOPIC_NAMES
from simlab.posting import NewPosts, PostingView
from simlab.world import Population

UNUSED_URL = "http://127.0.0.1:9/v1"  # replay: the client is built but never sends


def load_personas(connection: Connection, pop: Population) -> list[Persona]:
    """Each agent's persona: bio, newest ``agent_personas`` row (or defaults), two top interests."""
    bios = dict(
        connection.execute(
            text("SELECT agent_id, persona_bio FROM agent_persona_bios ORDER BY created_at, id")
        ).all()
    )
    styles = {
        row.agent_id: row
        for row in connection.execute(
            text(
                "SELECT agent_id, tone, style, values_json FROM agent_personas "
                "ORDER BY created_at, persona_id"
            )
        )
    }
    personas = []
    for a, (agent_id, handle) in enumerate(zip(pop.agent_ids, pop.handles, strict=True)):
        style = styles.get(agent_id)
        top = np.argsort(-pop.interests[a], kind="stable")[:2]
        values = tuple(json.loads(style.values_json)) if style else ()
        personas.append(
            Persona(
                handle=handle,
                bio=bios.get(agent_id) or "",
                tone=style.tone if style else "neutral",
                style=style.style if style else "concise",
                values=values,
                interests=tuple(TOPIC_NAMES[t] for t in top.tolist()),
            )
        )
    return personas


def rebuild_memory(
    connection: Connection, run_id: str, pop: Population, last_turn: int, size: int
) -> tuple[dict[int, deque], dict[int, Stance]]:
    """Memories and current stances after ``last_turn``, read back from the run's rows.

    A turn's lines come in the order :meth:`LLMSession.decide` remembered them:
    actions by (feed slot, kind), then a stated stance, then a post.
    """
    index = {h: a for a, h in enumerate(pop.handles.tolist())}
    post_index = {p: i for i, p in enumerate(pop.post_ids.tolist())}
    events = []
    for kind, target, has_text in (("like", "post_id", False), ("comment", "post_id", True),
                                   ("follow", "user_id", False)):  # fmt: skip
        rows = connection.execute(
            text(
                f"SELECT turn_number, agent_handle, {target} AS target, "
                f"{'text' if has_text else 'NULL'} AS body, generation_metadata_json AS meta "
                f"FROM {kind}s WHERE run_id = :r AND turn_number <= :t AND model_used LIKE 'llm/%'"
            ),
            {"r": run_id, "t": last_turn},
        )
        for row in rows:
            meta = json.loads(row.meta)
            slot = meta["rank"] - 1
            post = post_index.get(row.target)
            line = (
                f"followed @{row.target}"
                if kind == "follow"
                else policy.memory_line(pop, kind, post, row.body)
            )
            key = (row.turn_number, 0, slot, policy.KIND[kind])
            events.append((index[row.agent_handle], key, line))
    stances: dict[int, Stance] = {}
    for row in connection.execute(
        text(
            "SELECT turn_number, agent_handle, topic, stance, confidence FROM agent_stances "
            "WHERE run_id = :r AND turn_number <= :t ORDER BY turn_number, stance_id"
        ),
        {"r": run_id, "t": last_turn},
    ):
        agent = index[row.agent_handle]
        stances[agent] = Stance(row.topic, row.stance, row.confidence)
        events.append(
            (agent, (row.turn_number, 1, 0, 0), policy.stance_line(row.topic, row.stance))
        )
    for row in connection.execute(
        text(
            "SELECT turn_number, agent_handle, topic, text FROM agent_posts WHERE run_id = :r "
            "AND turn_number <= :t AND model_used LIKE 'llm/%'"
        ),
        {"r": run_id, "t": last_turn},
    ):
        line = policy.posted_line(row.topic, row.text)
        events.append((index[row.agent_handle], (row.turn_number, 2, 0, 0), line))
    memory: dict[int, deque] = {}
    for agent, _, line in sorted(events, key=lambda e: (e[0], e[1])):
        memory.setdefault(agent, deque(maxlen=size)).append(line)
    return memory, stances


def spent_before(engine: Engine, run_id: str) -> dict[str, float]:
    """Tokens and cost a run's committed ``llm_calls`` spent (cache hits are free)."""
    with engine.connect() as connection:
        tokens, cost = connection.execute(
            text(
                "SELECT coalesce(sum(prompt_tokens + completion_tokens), 0), "
                "coalesce(sum(cost_usd), 0) FROM llm_calls WHERE run_id = :r AND cache_hit = 0"
            ),
            {"r": run_id},
        ).one()
    return {"tokens": float(tokens), "cost": float(cost)}


class LLMSession:
    """The :class:`~simlab.policies.base.PolicyContext` of the ``llm`` policy (module docstring)."""

    def __init__(self, config, engine: Engine, run_id: str, pop: Population, resumed_after):
        self.config = config
        self.engine = engine
        self.run_id = run_id
        self.pop = pop
        self.settings: LLMSettings = config.llm or LLMSettings()
        self.params = policy.LLMParams.model_validate(config.policy.params)
        try:
            self.is_llm = policy.llm_mask(pop.handles, self.params, config.seed)
        except ValueError as exc:
            raise InputError(f"policy 'llm': {exc}") from None
        self.fallback = POLICIES.get("rule_based")
        self.fallback_params = self.fallback.params()
        self.model_used = f"llm/{policy.VERSION}:{self.settings.model}"
        with engine.connect() as connection:
            self.personas = load_personas(connection, pop)
            if resumed_after is not None and resumed_after >= 0:
                self.memory, self.stances = rebuild_memory(
                    connection, run_id, pop, resumed_after, self.params.memory
                )
            else:
                self.memory, self.stances = {}, {}
        self._posts: dict[int, policy.LLMPosts] = {}
        self.resumed_after = resumed_after
        self._pending: dict[int, tuple] = {}
        self._leanings: dict[int, dict[int, float]] = {}
        self._stack = ExitStack()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.client: LLMClient | None = None

    # -- lifetime ---------------------------------------------------------------------

    def __enter__(self) -> LLMSession:
        try:
            self._open()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _open(self) -> None:
        settings = self.settings
        if settings.base_url is not None:
            base_url, fingerprint = settings.base_url, f"served:{settings.model}"
        elif settings.cache == "replay":
            base_url, fingerprint = UNUSED_URL, model_fingerprint(gguf_path())
        else:
            server = self._stack.enter_context(EmbeddedServer(threads=1))
            base_url, fingerprint = server.base_url, server.fingerprint
        self.fingerprint = fingerprint
        self.loop = asyncio.new_event_loop()
        self.ledger = Ledger(settings, self.run_id, policy="llm", base_url=base_url)
        if self.resumed_after is not None:  # the budget counts what the run spent before
            self.ledger.budget.used.update(spent_before(self.engine, self.run_id))
        cache = ResponseCache(self.engine, settings.cache)
        self.client = LLMClient(settings, base_url, fingerprint, self.ledger, cache)

    def __exit__(self, *exc_info) -> None:
        if self.client is not None:
            self.loop.run_until_complete(self.client.close())
            self.client = None
            calls, events = self.ledger.drain()
            if calls or events:  # a turn that never committed: its spending still counts
                with self.engine.begin() as connection:
                    write_calls(connection, calls, events)
        if self.loop is not None:
            self.loop.close()
            self.loop = None
        self._stack.close()

    # -- one turn ---------------------------------------------------------------------

    def decide(self, view: FeedView, params, rng: np.random.Generator) -> Actions:
        """Rule-based rows on ``rng``, LLM rows through the client; raises RunStopped on a block."""
        mask = self.is_llm[view.agents]
        llm_rows, rule_rows = np.flatnonzero(mask), np.flatnonzero(~mask)
        rule = None
        if len(rule_rows):
            sub = FeedView(view.pop, view.state, view.turn, view.agents[rule_rows],
                           view.feeds[rule_rows], view.scores[rule_rows])  # fmt: skip
            rule = self.fallback.decide(sub, self.fallback_params, rng)
        outcomes = self.loop.run_until_complete(self._decide_all(view, llm_rows.tolist()))
        if any(o.status == "budget_blocked" for o in outcomes):
            raise RunStopped(self.ledger.budget.blocked_reason or "LLM budget exhausted")
        columns, lines = policy.llm_actions(view, outcomes, self.settings.model, self.fingerprint)
        posts = policy.posts_of(view, outcomes) if self.config.posting.enabled else None
        self._remember(view, outcomes, columns, lines, posts)
        if posts is not None:
            self._posts[view.turn] = posts
        calls, events = self.ledger.drain()
        stances = [
            (self.pop.handles[view.agents[o.row]], o.value.stance)
            for o in outcomes
            if o.value is not None and o.value.stance is not None
        ]
        self._pending[view.turn] = (calls, events, stances)
        models = (self.fallback.model_used, self.model_used)
        return policy.merge_actions(view, rule, rule_rows, columns, models)

    async def _decide_all(self, view: FeedView, rows: list[int]) -> list[policy.DecisionOutcome]:
        return list(await asyncio.gather(*(self._decide_one(view, row) for row in rows)))

    async def _decide_one(self, view: FeedView, row: int) -> policy.DecisionOutcome:
        agent = int(view.agents[row])
        pop = view.pop
        slots = [s for s in range(min(self.params.feed_items, view.feeds.shape[1]))
                 if view.feeds[row, s] >= 0]  # fmt: skip
        if not slots:
            return policy.DecisionOutcome(row, None, "empty_feed", None)
        items = []
        for s in slots:
            post = int(view.feeds[row, s])
            body = pop.post_text[post] if pop.post_text is not None else ""
            items.append(FeedItem(policy.item_id(s), pop.accounts[pop.post_author[post]], body))
        ids = [item.item_id for item in items]
        messages = build_messages(
            self.personas[agent], items, self.stances.get(agent), list(self.memory.get(agent, ()))
        )
        result = await self.client.complete(
            messages,
            schema=decision_schema(ids),
            validate=lambda answer: parse_decision(answer, ids),
            agent=pop.handles[agent],
            turn=view.turn,
            seed=policy.request_seed(self.config.seed, view.turn, agent),
        )
        key = result.calls[-1].cache_key if result.calls else None
        return policy.DecisionOutcome(row, result.value, result.status, key)

    def _remember(self, view: FeedView, outcomes, columns: dict, lines: list[str], posts) -> None:
        """Extend memories (actions, a stated stance, a post) and stances; note stance leanings."""
        by_row: dict[int, list[str]] = {}
        for row, line in zip(columns["row"], lines, strict=True):
            by_row.setdefault(row, []).append(line)
        wrote = {}
        if posts is not None:
            wrote = {int(a): policy.posted_line(TOPIC_NAMES[k], t)
                     for a, k, t in zip(posts.agent, posts.topic, posts.text, strict=True)}  # fmt: skip
        leanings = {}
        for outcome in outcomes:
            agent = int(view.agents[outcome.row])
            new = by_row.get(outcome.row, [])
            stance = outcome.value.stance if outcome.value is not None else None
            if stance is not None:
                new.append(policy.stance_line(stance.topic, stance.stance))
                self.stances[agent] = Stance(stance.topic, stance.stance, stance.confidence)
                leanings[agent] = stance.leaning
            if agent in wrote:
                new.append(wrote[agent])
            if new:
                memory = self.memory.setdefault(agent, deque(maxlen=self.params.memory))
                memory.extend(new)
        self._leanings[view.turn] = leanings

    def settle_leaning(self, turn: int, leaning: np.ndarray) -> np.ndarray:
        """Agents that stated a stance take its leaning."""
        changed = self._leanings.pop(turn, {})
        if not changed:
            return leaning
        leaning = leaning.copy()
        leaning[list(changed)] = list(changed.values())
        return leaning

    def write_posts(self, view: PostingView, rng: np.random.Generator) -> NewPosts:
        """The turn's posts: the model's for LLM agents, the posting rule's for the others.

        The rule draws for the rule-based active agents only, on the posting stream;
        with no LLM agent that is exactly :func:`simlab.posting.write_posts`.
        """
        rule_agents = view.agents[~self.is_llm[view.agents]]
        rule = posting.write_posts(replace(view, agents=rule_agents), rng)
        written = self._posts.pop(view.turn, None)
        if written is None or not len(written):
            return rule
        model = policy.new_posts(
            written, view.state.leaning, self.model_used, self.settings.model, self.fingerprint
        )
        return posting.combine(rule, model)

    def turn_writer(self, turn: int):
        """The turn's llm_calls, budget_events and agent_stances, for the turn's transaction."""
        calls, events, stances = self._pending.pop(turn, ([], [], []))
        run_id = self.run_id

        def write(connection: Connection) -> None:
            write_calls(connection, calls, events)
            for handle, stance in stances:
                append_stance(connection, run_id, turn, handle, stance)

        return write
