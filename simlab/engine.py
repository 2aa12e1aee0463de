"""The turn loop: feeds -> decisions -> opinion update -> metrics -> one transaction.

Randomness: turn ``t`` of a run with seed ``s`` draws from
``np.random.SeedSequence([s, t])``, spawned into independent streams for
activity, feeds, the policy, the opinion model and posting (spawned children
do not depend on how many are spawned, so adding a stream leaves the others as
they were). A turn therefore depends only on the seed,
the turn number and the state left by the previous turn, which is why
:func:`resume` (rebuilding that state from the database) ends with exactly the
rows an uninterrupted run writes.

Clock: turn ``t`` happens at ``start + t · turn_hours``, where ``start`` is the
``history_share`` quantile of post times; a post is visible once created, and
feeds rank the ``feed.candidate_pool`` most recent visible posts. Engagement
from outside the run is what existed at the turn's clock
(:mod:`simlab.engagement`); posts agents write at turn ``t``
(:mod:`simlab.posting`) join the world after the turn and are candidates from
turn ``t + 1``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
from sqlalchemy.engine import Engine

from simlab import feeds, lifecycle, metrics, opinion, policies, posting, writer_process
from simlab.config import RunConfig
from simlab.db import make_engine
from simlab.engagement import Exogenous
from simlab.errors import InputError
from simlab.feeds.base import SECONDS_PER_HOUR, FeedInput, candidate_mask
from simlab.ids import new_id
from simlab.limits import RunSize, check_run_memory
from simlab.metrics.base import RunData, TurnData
from simlab.opinion.base import OpinionInput
from simlab.policies.base import ACTION_KINDS, FeedView, PolicyContext, RunStopped
from simlab.population import draws
from simlab.posting import NewPosts
from simlab.recorder import Membership, Recorder
from simlab.replay import History, load_history, load_posts, load_run
from simlab.turn_rows import TurnRows
from simlab.turn_writer import TurnWriteError, TurnWriter
from simlab.world import Population, SimState, load_population

Progress = Callable[[int, int], None]
N_STREAMS = 5  # activity, feed, policy, opinion, posting


@dataclass
class Totals:
    """Running totals a run's metrics need."""

    impressions: int = 0
    likes: int = 0
    comments: int = 0
    follows: int = 0


class Simulation:
    """One run's population, algorithms and evolving state.

    :meth:`step` plays one turn; :meth:`replay` applies turns recorded earlier
    (for resume). Both change the state through the same :meth:`_apply`, and
    both add agent posts through the same :meth:`publish`. ``self.pop`` is the
    world so far: the population's posts, then the agents' posts in order.
    """

    def __init__(self, config: RunConfig, pop: Population, state: SimState | None = None) -> None:
        self.config = config
        self.pop = pop
        self.feed = feeds.FEEDS.get(config.feed.name)
        self.feed_params = self.feed.params.model_validate(config.feed.params)
        self.policy = policies.POLICIES.get(config.policy.name)
        self.policy_params = self.policy.params.model_validate(config.policy.params)
        self.opinion = opinion.OPINIONS.get(config.opinion.name)
        self.opinion_params = self.opinion.params.model_validate(config.opinion.params)
        self.state = state if state is not None else SimState.initial(pop)
        self.totals = Totals()
        self.start = float(np.quantile(pop.post_created, config.history_share))
        self.context: PolicyContext | None = None  # set by run/resume for policies that need one
        self.exogenous = Exogenous.at_start(pop, self.start, config.engagement)
        self.posting_chance = posting.propensity(pop, config.posting.rate)

    def world(self, turn: int) -> Population:
        """The world as feeds and the policy see it at ``turn``: engagement up to its clock."""
        return self.exogenous.visible(self.pop, self.clock(turn), self.config.engagement)

    def clock(self, turn: int) -> float:
        """POSIX seconds of turn ``turn``."""
        return self.start + turn * self.config.turn_hours * SECONDS_PER_HOUR

    def streams(self, turn: int) -> list[np.random.Generator]:
        """The turn's independent generators: activity, feed, policy, opinion, posting."""
        children = np.random.SeedSequence([self.config.seed, turn]).spawn(N_STREAMS)
        return [np.random.default_rng(child) for child in children]

    def candidate_pool(self, turn: int) -> np.ndarray:
        """Sorted indices of the posts feeds rank this turn: the most recent visible ones.

        Candidate generation keeps the ``feed.candidate_pool`` newest posts created by
        this turn's clock (ties to the lower post index), or every visible post.
        """
        pop, size = self.pop, self.config.feed.candidate_pool
        visible = np.nonzero(pop.post_created <= self.clock(turn))[0]
        if size is None or len(visible) <= size:
            return visible
        newest = np.lexsort((-visible, pop.post_created[visible]))[-size:]
        return np.sort(visible[newest])

    def rank(self, turn: int, world: Population, agents: np.ndarray, rng: np.random.Generator):
        """(n, k) feeds and scores for ``agents``, ranked block by block within the pool.

        Marks the pool's posts ``eligible`` (the posts concentration metrics range over).
        """
        k = self.config.feed.size
        columns = self.candidate_pool(turn)
        self.state.eligible[columns] = True
        pop, state = world.post_subset(columns), self.state.post_subset(columns)
        post_idx = np.full((len(agents), k), -1, dtype=np.int64)
        scores = np.full((len(agents), k), np.nan)
        for lo in range(0, len(agents), self.config.block_size):
            block = agents[lo : lo + self.config.block_size]
            candidates = candidate_mask(pop, state, block)
            feed_input = FeedInput(pop, state, turn, self.clock(turn), block, candidates, k)
            ranked = self.feed.rank(feed_input, self.feed_params, rng)
            post_idx[lo : lo + len(block)] = np.where(
                ranked.post_idx >= 0, columns[ranked.post_idx], -1
            )
            scores[lo : lo + len(block)] = ranked.scores
        return post_idx, scores, len(columns)

    def step(self, turn: int) -> TurnRows:
        """Play turn ``turn``: update the state in memory and return the rows to write."""
        pop, state = self.world(turn), self.state
        activity_rng, feed_rng, policy_rng, opinion_rng, posting_rng = self.streams(turn)
        agents = np.nonzero(activity_rng.random(pop.n_agents) < pop.activity_rate)[0]
        served, scores, n_visible = self.rank(turn, pop, agents, feed_rng)
        view = FeedView(pop, state, turn, agents, served, scores)
        decide = self.policy.decide if self.context is None else self.context.decide
        actions = decide(view, self.policy_params, policy_rng)
        likes, comments, follows = (actions.targets(kind) for kind in ACTION_KINDS)
        leaning_before = state.leaning
        self._apply(likes, comments, follows)
        exposed = OpinionInput(pop, state, turn, agents, served)
        state.leaning = self.opinion.update(exposed, self.opinion_params, opinion_rng)
        extra = None
        if self.context is not None:
            state.leaning = self.context.settle_leaning(turn, state.leaning)
            extra = self.context.turn_writer(turn)
        impressions = int((served >= 0).sum())
        self._count(impressions, likes, comments, follows)
        data = TurnData(
            pop, state, turn, agents, served, likes, comments, follows, leaning_before, n_visible
        )
        values = metrics.compute_turn(self.config.metrics, data)
        posts = self.write_posts(turn, pop, agents, posting_rng)
        ids = self.publish(turn, posts)
        posted_at = self.post_created(turn)
        return TurnRows(
            turn,
            agents,
            served,
            scores,
            actions,
            state.leaning,
            values,
            pop,
            posts,
            ids,
            posted_at,
            extra,
        )

    def write_posts(
        self, turn: int, world: Population, agents: np.ndarray, rng: np.random.Generator
    ) -> NewPosts:
        """The posts this turn's active ``agents`` write in ``world``, if posting is enabled.

        The policy's ``write_posts`` writes them if its run context (an LLM
        session) or its registry entry has one, else the rule of
        :func:`simlab.posting.write_posts`.
        """
        if not self.config.posting.enabled:
            return NewPosts.empty()
        writer = (
            getattr(self.context, "write_posts", None)
            or getattr(self.policy, "write_posts", None)
            or posting.write_posts
        )
        view = posting.PostingView(
            world, self.state, turn, agents, self.posting_chance, self.config.posting
        )
        return writer(view, rng)

    def post_created(self, turn: int) -> float:
        """POSIX seconds at which posts written at ``turn`` are created: half-way through it."""
        return self.clock(turn) + 0.5 * self.config.turn_hours * SECONDS_PER_HOUR

    def publish(self, turn: int, posts: NewPosts) -> list[str]:
        """Add ``posts`` written at ``turn`` to the world (candidates from the next turn).

        Returns:
            Their post ids, in ``posts`` order (:func:`simlab.posting.post_id`).
        """
        ids = [posting.post_id(turn, n) for n in range(len(posts))]
        if not ids:
            return ids
        created = np.full(len(ids), self.post_created(turn))
        self.pop = self.pop.with_posts(
            ids, posts.author, posts.topic, posts.leaning, created, posts.text
        )
        self.exogenous = self.exogenous.extend(created)
        self.state.add_posts(len(ids))
        return ids

    def replay(self, history: History) -> None:
        """Bring a fresh simulation to the state after ``history.last_turn`` (for resume).

        Applies the recorded likes, comments and follows as :meth:`step` does, sets
        the recorded leanings, marks every recorded turn's candidate pool eligible
        and restores the running totals. The recorded agent posts must have been
        published already (:func:`resume` does that before reading the history,
        whose likes may name them).
        """
        for turn in range(history.last_turn + 1):
            self.state.eligible[self.candidate_pool(turn)] = True
        if history.leaning is not None:
            self.state.leaning = history.leaning.copy()
        self._apply(history.likes, history.comments, history.follows)
        self._count(history.impressions, history.likes, history.comments, history.follows)

    def _apply(self, likes: np.ndarray, comments: np.ndarray, follows: np.ndarray) -> None:
        """Add likes and comments (rows start agent, post) and follows (agent, account)."""
        state, n_posts = self.state, self.pop.n_posts
        state.sim_likes += np.bincount(likes[:, 1], minlength=n_posts)
        state.sim_comments += np.bincount(comments[:, 1], minlength=n_posts)
        state.acted.add(np.concatenate([likes[:, :2], comments[:, :2]]))  # one merge, not two
        state.follows.add(follows)

    def _count(self, impressions: int, likes, comments, follows) -> None:
        self.totals.impressions += impressions
        self.totals.likes += len(likes)
        self.totals.comments += len(comments)
        self.totals.follows += len(follows)

    def run_data(self) -> RunData:
        """The finished run as metrics see it."""
        t = self.totals
        return RunData(
            self.pop,
            SimState.initial(self.pop),
            self.state,
            self.config.turns,
            t.impressions,
            t.likes,
            t.comments,
            t.follows,
        )


def population_for(config: RunConfig, engine: Engine) -> Population:
    """The population a run of ``config`` simulates: the first ``config.agents`` agents.

    The memory check counts the agent posts the run is expected to write.

    Raises:
        InputError: the database has no usable population or too few agents.
    """
    with engine.connect() as connection:
        pop = draws.apply(connection, load_population(connection), config.population)
    n = config.agents if config.agents is not None else pop.n_agents
    if n < 2:
        raise InputError(
            f"--agents: a run needs at least 2 agents; the database has {pop.n_agents}"
        )
    pop = pop.head(n) if n != pop.n_agents else pop
    expected_posts = 0
    if config.posting.enabled:
        chance = posting.propensity(pop, config.posting.rate)
        expected_posts = int(config.turns * float((pop.activity_rate * chance).sum()))
    size = RunSize(
        n_agents=pop.n_agents,
        n_posts=pop.n_posts + expected_posts,
        n_accounts=len(pop.accounts),
        n_follows=len(pop.follow_pairs),
        turns=config.turns,
        feed_size=config.feed.size,
        pool=config.feed.candidate_pool,
        block_size=config.block_size,
    )
    check_run_memory(size)
    return pop


def _play(sim: Simulation, recorder: Recorder, first_turn: int, progress: Progress | None) -> None:
    """Compute turns here while a writer writes them; record a failure if any.

    The writer is a child process (:mod:`simlab.writer_process`) where it can
    be, a thread (:class:`simlab.turn_writer.TurnWriter`) otherwise; both write
    the same rows.
    """
    if writer_process.usable(recorder, writes_own_rows=sim.policy.context is not None):
        writer = writer_process.ProcessTurnWriter(recorder, progress, sim.config.turns)
    else:
        writer = TurnWriter(recorder, progress, sim.config.turns)
    turn = first_turn
    try:
        for turn in range(first_turn, sim.config.turns):
            writer.put(sim.step(turn))
        writer.close()
        recorder.complete(metrics.compute_run(sim.config.metrics, sim.run_data()))
    except TurnWriteError as failure:
        writer.abort()  # nothing after the failed turn is written; the writer stops
        error = failure.__cause__
        recorder.fail(failure.turn, f"{type(error).__name__}: {error}")
        raise error from None
    except RunStopped as stop:
        writer.close()  # the whole turns before this one are committed
        recorder.fail(turn, f"stopped: {stop}")
        raise
    except KeyboardInterrupt:
        writer.abort()
        recorder.fail(writer.last_written + 1, "interrupted (KeyboardInterrupt)")
        raise
    except Exception as exc:
        writer.abort()
        recorder.fail(turn, f"{type(exc).__name__}: {exc}")
        raise


def run(
    config: RunConfig,
    db: str | Engine | None = None,
    progress: Progress | None = None,
    run_id: str | None = None,
    membership: Membership | None = None,
) -> str:
    """Run ``config`` against the population in ``db`` and return the run id.

    Everything that can be wrong with the input is checked before the run row
    is written. ``membership`` files the run under a comparison arm and
    replicate, atomically with its run row. Each turn commits on its own; on an error the run is marked
    ``failed`` (with the error in ``run_failures``) and the error re-raised.
    """
    engine = db if isinstance(db, Engine) else make_engine(db, must_exist=True)
    pop = population_for(config, engine)
    sim = Simulation(config, pop)
    run_id = run_id or new_id()
    with _policy_context(sim, engine, run_id, None) as sim.context:
        streams = sim.policy.context is None  # an LLM policy writes rows of its own
        recorder = Recorder(engine, run_id, pop, sim.policy.model_used, stream_copy=streams)
        recorder.create_run(config, pop.n_agents, membership)
        _play(sim, recorder, 0, progress)
    return run_id


def _policy_context(
    sim: Simulation, engine: Engine, run_id: str, resumed_after: int | None
) -> AbstractContextManager[PolicyContext | None]:
    """The policy's per-run context (an LLM session), or nothing for plain policies."""
    if sim.policy.context is None:
        return nullcontext(None)
    return sim.policy.context(sim.config, engine, run_id, sim.pop, resumed_after)


def resume(run_id: str, db: str | Engine | None = None, progress: Progress | None = None) -> str:
    """Continue a failed or interrupted run from its last complete turn.

    The state after that turn is rebuilt from the database (agent posts,
    leanings, follows, likes, comments), so the finished run has exactly the rows an
    uninterrupted run would have (ids and wall-clock timestamps aside).

    Raises:
        InputError: the run does not exist, has already completed, is still being
            written (its lease is live), or its population changed since it started.
    """
    engine = db if isinstance(db, Engine) else make_engine(db, must_exist=True)
    config, status, last_turn = load_run(engine, run_id)
    if status == "completed":
        raise InputError(f"run {run_id} has already completed; nothing to resume")
    pop = population_for(config, engine)
    lifecycle.take_over(engine, run_id, pop)  # refuses a live writer or a changed population
    sim = Simulation(config, pop)
    for turn, posts in load_posts(engine, run_id, pop, last_turn):
        sim.publish(turn, posts)
    history = load_history(engine, run_id, sim.pop, last_turn)
    sim.replay(history)
    with _policy_context(sim, engine, run_id, last_turn) as sim.context:
        recorder = Recorder(engine, run_id, pop, sim.policy.model_used, history.leaning)
        recorder.reopen()
        _play(sim, recorder, last_turn + 1, progress)
    return run_id
