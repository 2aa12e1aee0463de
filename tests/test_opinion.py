"""Opinion models: the contract every registered model keeps, each model's formula, the config."""

from __future__ import annotations

import re

import numpy as np
import pytest

from simlab.config import RunConfig, build
from simlab.errors import InputError
from simlab.opinion import OPINIONS, OpinionInput
from simlab.params import validate
from simlab.world import SimState

from .conftest import REPO
from .factories import make_population

REFERENCES = (REPO / "docs" / "references.md").read_text()


def exposure_turn(leaning, served, post_leaning, agents=None, post_author=None) -> OpinionInput:
    """A turn where ``agents`` (default: the first len(served)) were served ``served``."""
    post_leaning = np.asarray(post_leaning, dtype=float)
    pop = make_population(leaning, post_leaning, [0] * len(post_leaning), post_author=post_author)
    served = np.asarray(served, dtype=np.int64).reshape(-1, np.shape(served)[-1])
    agents = np.arange(len(served)) if agents is None else np.asarray(agents)
    return OpinionInput(pop, SimState.initial(pop), 0, agents, served)


def contract_turn() -> OpinionInput:
    """40 agents and 60 posts spread over [-1, 1]; 25 agents served 8 posts (some padding).

    Posts 0-29 are by agents 0-14, the rest by an outside account (40).
    """
    rng = np.random.default_rng(4)
    leaning = rng.uniform(-1, 1, 40)
    post_leaning = rng.uniform(-1, 1, 60)
    agents = np.sort(rng.choice(40, 25, replace=False))
    served = rng.integers(0, 60, (25, 8))
    served[::3, 5:] = -1
    authors = np.concatenate([np.arange(30) // 2, np.full(30, 40)])
    return exposure_turn(leaning, served, post_leaning, agents, post_author=authors)


def untouched(turn: OpinionInput) -> np.ndarray:
    """Agents neither served a feed nor the author of a served item this turn."""
    shown = turn.served[turn.served >= 0]
    authors = turn.pop.post_author[shown]
    involved = np.union1d(turn.agents, authors[authors < turn.pop.n_agents])
    return np.setdiff1d(np.arange(turn.pop.n_agents), involved)


# --- the contract every registered model keeps -------------------------------------------


@pytest.mark.parametrize("name", OPINIONS.names())
def test_every_opinion_model_keeps_the_contract(name):
    """Defaults validate; a new in-range array; the input untouched; uninvolved agents stay; same rng, same result."""
    model = OPINIONS.get(name)
    params = validate(model.params, {}, f"opinion model {name!r}")
    assert params == model.params()
    turn = contract_turn()
    before = turn.state.leaning.copy()
    new = model.update(turn, params, np.random.default_rng(3))
    assert new.shape == before.shape and new.dtype.kind == "f"
    assert new is not turn.state.leaning
    np.testing.assert_array_equal(turn.state.leaning, before)
    assert np.all((new >= -1) & (new <= 1))
    idle = untouched(turn)
    assert len(idle)
    np.testing.assert_array_equal(new[idle], before[idle])
    again = model.update(turn, params, np.random.default_rng(3))
    np.testing.assert_array_equal(again, new)
    nobody = OpinionInput(turn.pop, turn.state, 0, turn.agents[:0], turn.served[:0])
    np.testing.assert_array_equal(model.update(nobody, params, np.random.default_rng(3)), before)


@pytest.mark.parametrize("name", [m.name for m in OPINIONS if not m.stochastic])
def test_deterministic_opinion_models_ignore_the_rng(name):
    model = OPINIONS.get(name)
    turn = contract_turn()
    first = model.update(turn, model.params(), np.random.default_rng(1))
    np.testing.assert_array_equal(
        first, model.update(turn, model.params(), np.random.default_rng(2))
    )


@pytest.mark.parametrize("name", OPINIONS.names())
def test_every_opinion_model_documents_formula_citations_and_parameters(name):
    model = OPINIONS.get(name)
    keys = re.findall(r"\[([A-Z][A-Za-z]+\d{4})\]", model.doc)
    assert all(f"[{key}]" in REFERENCES for key in keys)
    assert set(model.citations) == set(keys)
    assert model.label and "=" in model.doc
    assert all(field.description for field in model.params.model_fields.values())


@pytest.mark.parametrize("name", OPINIONS.names())
def test_unknown_opinion_parameter_lists_the_allowed_ones(name):
    with pytest.raises(InputError, match=r"unknown parameter 'bogus'; allowed: "):
        build({"opinion": {"name": name, "params": {"bogus": 1}}})


# --- assimilation ---------------------------------------------------------------------------


def assimilate(leaning, served, post_leaning, **params):
    model = OPINIONS.get("assimilation")
    turn = exposure_turn(leaning, served, post_leaning)
    return model.update(turn, model.params(**params), np.random.default_rng(0))


def test_assimilation_hand_worked():
    # agent 0 sees posts 0.2, 0.4, -0.8 (and a padded slot); agent 1 sees 0.9 and 0.1.
    posts = [0.2, 0.4, -0.8, 0.9, 0.1]
    new = assimilate([0.0, 0.5, -0.9], [[0, 1, 2, -1], [3, 4, -1, -1]], posts, epsilon=0.5, mu=0.5)
    # agent 0: posts within 0.5 are 0.2 and 0.4 -> mean diff 0.3 -> +0.15
    # agent 1: 0.9 (diff 0.4) and 0.1 (diff -0.4) -> mean 0 -> unchanged; agent 2 idle
    assert new == pytest.approx([0.15, 0.5, -0.9])


def test_assimilation_backfire_pushes_away():
    pushed = assimilate([0.5], [[0, 1]], [-0.9, -0.9], mu=0.2, backfire=1.0, rejection=1.0)
    # push = mean sign(-1.4) = -1 -> delta = -0.2 * 1 * (-1) * (1 - 0.5) = +0.1
    assert pushed == pytest.approx([0.6])


def test_assimilation_matches_a_loop_over_agents_and_posts():
    turn = contract_turn()
    model = OPINIONS.get("assimilation")
    params = model.params(epsilon=0.6, mu=0.3, backfire=0.4, rejection=1.1)
    new = model.update(turn, params, np.random.default_rng(0))
    expected = turn.state.leaning.copy()
    for row, agent in enumerate(turn.agents.tolist()):
        x = turn.state.leaning[agent]
        seen = [turn.pop.post_leaning[p] for p in turn.served[row].tolist() if p >= 0]
        close = [p - x for p in seen if abs(p - x) < params.epsilon]
        far = [np.sign(p - x) for p in seen if abs(p - x) > params.rejection]
        pull = sum(close) / len(close) if close else 0.0
        push = sum(far) / len(far) if far else 0.0
        delta = params.mu * pull - params.mu * params.backfire * push * (1 - abs(x))
        expected[agent] = min(1.0, max(-1.0, x + delta))
    np.testing.assert_allclose(new, expected, rtol=0, atol=1e-12)


def test_leanings_stay_in_range():
    new = assimilate(
        [0.99, -0.99], [[0, 1, 2], [3, 4, 5]], [1.0] * 3 + [-1.0] * 3, mu=1.0, epsilon=2.0
    )
    assert np.all(np.abs(new) <= 1.0)


def test_none_keeps_every_leaning():
    turn = contract_turn()
    model = OPINIONS.get("none")
    np.testing.assert_array_equal(
        model.update(turn, model.params(), np.random.default_rng(0)), turn.state.leaning
    )


# --- per_item assimilation ------------------------------------------------------------------


def test_per_item_assimilation_hand_worked():
    # x = 0, items 0.2 then 0.4 (both within 0.5), mu = 0.5: 0 -> 0.1 -> 0.25; item -0.8 is out of range
    new = assimilate([0.0], [[0, 1, 2]], [0.2, 0.4, -0.8], mu=0.5, aggregation="per_item")
    assert new == pytest.approx([0.25])


def test_per_item_assimilation_weighs_exposure_and_default_does_not():
    one, twenty = [[0] + [-1] * 19], [[0] * 20]  # one in-range item of 0.3, or twenty
    per_one, per_twenty = (
        assimilate([0.0], served, [0.3], aggregation="per_item")[0] for served in (one, twenty)
    )
    assert per_one == pytest.approx(0.05 * 0.3)
    assert per_twenty == pytest.approx(0.3 * (1 - 0.95**20))  # the gap shrinks by 5% per item
    mean_one, mean_twenty = (assimilate([0.0], served, [0.3])[0] for served in (one, twenty))
    assert mean_one == pytest.approx(0.05 * 0.3) and mean_twenty == pytest.approx(0.05 * 0.3)


def test_per_item_assimilation_matches_a_loop():
    turn = contract_turn()
    model = OPINIONS.get("assimilation")
    params = model.params(epsilon=0.7, mu=0.2, backfire=0.5, rejection=1.0, aggregation="per_item")
    new = model.update(turn, params, np.random.default_rng(0))
    expected = turn.state.leaning.copy()
    for row, agent in enumerate(turn.agents.tolist()):
        x = float(expected[agent])
        for p in turn.served[row].tolist():
            if p < 0:
                continue
            d = turn.pop.post_leaning[p] - x
            if abs(d) < params.epsilon:
                x += params.mu * d
            elif abs(d) > params.rejection:
                x -= params.mu * params.backfire * np.sign(d) * (1 - abs(x))
            x = min(1.0, max(-1.0, x))
        expected[agent] = x
    np.testing.assert_allclose(new, expected, rtol=0, atol=1e-12)


# --- deffuant --------------------------------------------------------------------------------


def test_deffuant_hand_worked_meeting_moves_both_sides():
    model = OPINIONS.get("deffuant")
    params = model.params(epsilon=0.5, mu=0.25)
    # agent 0 (x = 0) sees post 0 by agent 1 (x = 0.4) and post 1 by an outsider
    turn = exposure_turn([0.0, 0.4, -0.9], [[0, 1]], [0.9, 0.9], post_author=[1, 3])
    new = model.update(turn, params, np.random.default_rng(0))
    assert new == pytest.approx([0.1, 0.3, -0.9])
    far = exposure_turn([0.0, 0.6], [[0]], [0.0], post_author=[1])
    assert model.update(far, params, np.random.default_rng(0)) == pytest.approx([0.0, 0.6])


def test_deffuant_matches_a_loop_over_meetings_in_the_drawn_order():
    turn = contract_turn()
    model = OPINIONS.get("deffuant")
    params = model.params(epsilon=0.8, mu=0.4)
    new = model.update(turn, params, np.random.default_rng(12))
    pairs = [
        (agent, int(turn.pop.post_author[p]))
        for row, agent in enumerate(turn.agents.tolist())
        for p in turn.served[row].tolist()
        if p >= 0 and turn.pop.post_author[p] < turn.pop.n_agents
    ]
    x = turn.state.leaning.tolist()
    for i in np.random.default_rng(12).permutation(len(pairs)).tolist():
        a, b = pairs[i]
        if abs(x[a] - x[b]) < params.epsilon:
            x[a], x[b] = x[a] + params.mu * (x[b] - x[a]), x[b] + params.mu * (x[a] - x[b])
    np.testing.assert_allclose(new, x, rtol=0, atol=1e-12)


def major_clusters(x: np.ndarray, gap: float = 0.1, share: float = 0.05) -> int:
    """Groups of sorted leanings split at gaps > ``gap``, counting those with >= ``share`` of agents."""
    x = np.sort(x)
    cuts = np.flatnonzero(np.diff(x) > gap)
    sizes = np.diff(np.concatenate([[0], cuts + 1, [len(x)]]))
    return int((sizes >= share * len(x)).sum())


def deffuant_random_pairs(epsilon_paper: float, seed: int, n: int = 300, turns: int = 150) -> int:
    """Deffuant 2000's setting: uniform opinions, random pairwise meetings, μ = 0.5."""
    rng = np.random.default_rng(seed)
    turn = exposure_turn(
        rng.uniform(-1, 1, n), np.zeros((n, 1)), np.zeros(n), post_author=np.arange(n)
    )
    model = OPINIONS.get("deffuant")
    params = model.params(epsilon=2 * epsilon_paper, mu=0.5)  # [0, 1] -> [-1, 1]
    state = turn.state
    for t in range(turns):
        partner = (np.arange(n) + rng.integers(1, n, n)) % n  # each agent meets another agent
        state.leaning = model.update(
            OpinionInput(turn.pop, state, t, np.arange(n), partner[:, None]), params, rng
        )
    return major_clusters(state.leaning)


def test_deffuant_reproduces_the_published_cluster_counts():
    # [Deffuant2000]: about 1 / (2 ε) clusters; ε = 0.5 -> consensus, ε = 0.15 -> 3
    assert [deffuant_random_pairs(0.5, seed) for seed in range(3)] == [1, 1, 1]
    assert [deffuant_random_pairs(0.15, seed) for seed in range(3)] == [3, 3, 3]
    assert sorted(deffuant_random_pairs(0.25, seed) for seed in range(5))[2] == 2  # median


# --- hegselmann_krause -----------------------------------------------------------------------


def test_hegselmann_krause_hand_worked():
    model = OPINIONS.get("hegselmann_krause")
    # agent 0 (x = 0) sees 0.2, 0.3 (within 0.4) and -0.9; agent 1 (x = 0.5) sees nothing in reach
    turn = exposure_turn([0.0, 0.5], [[0, 1, 2], [2, -1, -1]], [0.2, 0.3, -0.9])
    new = model.update(turn, model.params(epsilon=0.4), np.random.default_rng(0))
    assert new == pytest.approx([(0.0 + 0.2 + 0.3) / 3, 0.5])


def test_hegselmann_krause_matches_a_loop():
    turn = contract_turn()
    model = OPINIONS.get("hegselmann_krause")
    params = model.params(epsilon=0.5)
    new = model.update(turn, params, np.random.default_rng(0))
    expected = turn.state.leaning.copy()
    for row, agent in enumerate(turn.agents.tolist()):
        x = turn.state.leaning[agent]
        reach = [turn.pop.post_leaning[p] for p in turn.served[row].tolist() if p >= 0]
        reach = [v for v in reach if abs(v - x) <= params.epsilon]
        expected[agent] = (x + sum(reach)) / (1 + len(reach))
    np.testing.assert_allclose(new, expected, rtol=0, atol=1e-12)


# --- repulsive ---------------------------------------------------------------------------------


def test_repulsive_hand_worked():
    model = OPINIONS.get("repulsive")
    params = model.params(acceptance=0.4, rejection=1.0, mu=0.5)
    # x = 0: item 0.2 attracts (0 -> 0.1); item -0.5 is non-committal; item -1.0 (d = -1.1) repels
    turn = exposure_turn([0.0], [[0, 1, 2]], [0.2, -0.5, -1.0])
    assert model.update(turn, params, np.random.default_rng(0)) == pytest.approx([0.1 + 0.55])


def test_repulsive_matches_a_loop():
    turn = contract_turn()
    model = OPINIONS.get("repulsive")
    params = model.params(acceptance=0.3, rejection=0.9, mu=0.2)
    new = model.update(turn, params, np.random.default_rng(0))
    expected = turn.state.leaning.copy()
    for row, agent in enumerate(turn.agents.tolist()):
        x = float(expected[agent])
        for p in turn.served[row].tolist():
            if p < 0:
                continue
            d = turn.pop.post_leaning[p] - x
            if abs(d) < params.acceptance:
                x += params.mu * d
            elif abs(d) > params.rejection:
                x -= params.mu * d
            x = min(1.0, max(-1.0, x))
        expected[agent] = x
    np.testing.assert_allclose(new, expected, rtol=0, atol=1e-12)


def test_repulsive_refuses_acceptance_beyond_rejection():
    with pytest.raises(InputError, match="acceptance must not exceed rejection"):
        build({"opinion": {"name": "repulsive", "params": {"acceptance": 1.5, "rejection": 1.0}}})


# --- configuration ----------------------------------------------------------------------


def test_default_opinion_config_is_assimilation_with_its_defaults():
    config = RunConfig()
    assert config.opinion.name == "assimilation"
    assert config.opinion.params == OPINIONS.get("assimilation").params().model_dump()


def test_flat_opinion_settings_still_parse():
    assert build({"opinion": {"enabled": False}}).opinion.model_dump() == {
        "name": "none",
        "params": {},
    }
    flat = build({"opinion": {"enabled": True, "mu": 0.3, "epsilon": 0.4}}).opinion
    assert (
        flat.name == "assimilation" and flat.params["mu"] == 0.3 and flat.params["epsilon"] == 0.4
    )
    stored = build({"opinion": {"epsilon": 0.5, "mu": 0.05, "backfire": 0.0, "rejection": 1.2}})
    assert stored.opinion == RunConfig().opinion  # a config stored before the registry


def test_opinion_config_names_model_and_params():
    config = build({"opinion": {"name": "assimilation", "params": {"mu": "0.2"}}})
    assert config.opinion.params["mu"] == 0.2
    assert build(config.model_dump()).opinion == config.opinion  # round trip as stored
    with pytest.raises(InputError, match=r"unknown opinion model 'bogus'; allowed: assimilation"):
        build({"opinion": {"name": "bogus"}})
    with pytest.raises(InputError, match=r"opinion model 'assimilation': parameter 'mu'"):
        build({"opinion": {"params": {"mu": 5}}})
