"""Feed-ranking field results, measured on paired runs of the default simulation.

For each seed the same population runs twice with every setting at its default
(common random numbers): once under the ``personalized`` feed (the
engagement-ranked feed of the platforms studied) and once under
``chronological`` (the reverse-chronological control of [Guess2023] and
[Huszar2022]). Sides: an agent or author with leaning x is *liberal* when
x < −0.1 and *conservative* when x > 0.1 (``simlab.metrics.exposure.NEUTRAL``);
an item is cross-cutting when viewer and post are on opposite sides. Sums run
over every turn, every active agent, every seed and every population (several
synthetic populations, because the population's draw moves these shares more
than the run seed does).

- **Ranking's cut in cross-cutting exposure** [Bakshy2015], personalized run,
  per side s:

      potential_s = Σ cross-cutting in-network candidates / Σ sided in-network candidates
      exposed_s   = Σ cross-cutting in-network served items / Σ sided in-network served items
      cut_s       = 1 − exposed_s / potential_s

  "In-network candidates" are what the network offers the agent this turn: the
  candidate pool's posts by accounts the agent follows, not its own and not yet
  acted on (the paper's "shared by friends"); "in-network served" are the
  served items among them (the paper's "exposed", in the ranked News Feed).
- **Engagement** [Guess2023]: (likes + comments) / impressions, chronological
  over personalized, minus 1 (negative: the chronological feed engages less).
- **Amplification** [Huszar2022]: the reach of a group of authors is the number
  of (turn, active agent) pairs in which the agent was served at least one of
  the group's posts; its amplification ratio is reach under personalized over
  reach under chronological (same agents, same turns, so no size
  normalisation). The check reports ratio(conservative authors) /
  ratio(liberal authors).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simlab.metrics.exposure import NEUTRAL
from simlab.validate.population import simulation
from simlab.world import Population


@dataclass
class Tally:
    """Running sums over turns, agents and seeds for one feed."""

    potential: dict = field(default_factory=lambda: {"liberals": [0, 0], "conservatives": [0, 0]})
    exposed: dict = field(default_factory=lambda: {"liberals": [0, 0], "conservatives": [0, 0]})
    engaged: int = 0
    impressions: int = 0
    reach: dict = field(default_factory=lambda: {"liberals": 0, "conservatives": 0})


def side(leaning: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean masks of the two sides (|x| > NEUTRAL)."""
    return {"liberals": leaning < -NEUTRAL, "conservatives": leaning > NEUTRAL}


def _in_network_counts(sim, turn: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_agents,) cross-cutting and sided in-network candidates before ``turn``'s actions."""
    pop, state = sim.pop, sim.state
    columns = sim.candidate_pool(turn)
    author = pop.post_author[columns]
    everyone = np.arange(pop.n_agents)
    offered = state.follows.block(everyone, author) & ~state.acted.block(everyone, columns)
    offered &= author[None, :] != everyone[:, None]
    viewer, post = state.leaning[:, None], pop.post_leaning[columns][None, :]
    sided = offered & (np.abs(viewer) > NEUTRAL) & (np.abs(post) > NEUTRAL)
    cross = sided & (np.sign(viewer) != np.sign(post))
    return cross.sum(axis=1), sided.sum(axis=1)


def play(
    pop: Population, feed: str, seed: int, turns: int, tally: Tally, params: dict | None = None
) -> None:
    """Run one in-memory simulation (feed ``params`` over the defaults) and add its sums to ``tally``."""
    sim = simulation(pop, feed, seed, turns, params)
    author_side = side(pop.account_leaning)
    for turn in range(turns):
        cross_in, sided_in = _in_network_counts(sim, turn)
        follows, leaning = sim.state.follows.copy(), sim.state.leaning.copy()
        rows = sim.step(turn)
        agents, served = rows.agents, rows.feeds
        valid = served >= 0
        post = np.where(valid, served, 0)
        world = rows.pop  # the world served this turn: corpus plus agents' earlier posts
        author = world.post_author[post]
        viewer, post_leaning = leaning[agents][:, None], world.post_leaning[post]
        in_network = valid & follows.contains(agents[:, None], author)
        sided = in_network & (np.abs(viewer) > NEUTRAL) & (np.abs(post_leaning) > NEUTRAL)
        cross = sided & (np.sign(viewer) != np.sign(post_leaning))
        for name, mask in side(leaning[agents]).items():
            tally.potential[name][0] += int(cross_in[agents][mask].sum())
            tally.potential[name][1] += int(sided_in[agents][mask].sum())
            tally.exposed[name][0] += int(cross[mask].sum())
            tally.exposed[name][1] += int(sided[mask].sum())
            tally.reach[name] += int((valid & author_side[name][author]).any(axis=1).sum())
        tally.impressions += int(valid.sum())
        tally.engaged += len(rows.actions.targets("like")) + len(rows.actions.targets("comment"))


@dataclass(frozen=True)
class FieldResults:
    """The three field measurements (module docstring)."""

    cut: dict[str, float]  # side -> 1 − exposed / potential, personalized run
    potential: dict[str, float]
    exposed: dict[str, float]
    engagement_change: float  # chronological / personalized − 1
    amplification: dict[str, float]  # author side -> reach ratio personalized / chronological
    amplification_ratio: float  # conservatives' / liberals'


def _share(pair: list[int]) -> float:
    return pair[0] / pair[1] if pair[1] else float("nan")


def tally(
    pops: list[Population], seeds: int, turns: int, feed: str, params: dict | None = None
) -> Tally:
    """Sums of :func:`play` over ``seeds`` seeds (0, 1, ...) of every population, for one feed."""
    total = Tally()
    for pop in pops:
        for seed in range(seeds):
            play(pop, feed, seed, turns, total, params)
    return total


def results(ranked: Tally, control: Tally) -> FieldResults:
    """The field measurements of a personalized ``ranked`` tally against its ``control``."""
    potential = {name: _share(pair) for name, pair in ranked.potential.items()}
    exposed = {name: _share(pair) for name, pair in ranked.exposed.items()}
    cut = {name: 1 - exposed[name] / potential[name] for name in potential}
    rate_ranked = ranked.engaged / ranked.impressions
    rate_control = control.engaged / control.impressions
    amplification = {
        name: ranked.reach[name] / control.reach[name] if control.reach[name] else float("nan")
        for name in ranked.reach
    }
    return FieldResults(
        cut=cut,
        potential=potential,
        exposed=exposed,
        engagement_change=rate_control / rate_ranked - 1,
        amplification=amplification,
        amplification_ratio=amplification["conservatives"] / amplification["liberals"],
    )


def measure(
    pops: list[Population], seeds: int, turns: int, ranked_params: dict | None = None
) -> FieldResults:
    """Paired personalized and chronological runs, ``seeds`` seeds per population, pooled.

    ``ranked_params`` override the personalized feed's defaults (for calibration
    sweeps, ``benchmarks/calibrate_field.py``).
    """
    ranked = tally(pops, seeds, turns, "personalized", ranked_params)
    return results(ranked, tally(pops, seeds, turns, "chronological"))
