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


def exposure_turn(leaning, served, post_leaning, agents=None) -> OpinionInput:
    """A turn where ``agents`` (default: the first len(served)) were served ``served``."""
    post_leaning = np.asarray(post_leaning, dtype=float)
    pop = make_population(leaning, post_leaning, [0] * len(post_leaning))
    served = np.asarray(served, dtype=np.int64).reshape(-1, np.shape(served)[-1])
    agents = np.arange(len(served)) if agents is None else np.asarray(agents)
    return OpinionInput(pop, SimState.initial(pop), 0, agents, served)


def contract_turn() -> OpinionInput:
    """40 agents and 60 posts spread over [-1, 1]; 25 agents served 8 posts (some padding)."""
    rng = np.random.default_rng(4)
    leaning = rng.uniform(-1, 1, 40)
    post_leaning = rng.uniform(-1, 1, 60)
    agents = np.sort(rng.choice(40, 25, replace=False))
    served = rng.integers(0, 60, (25, 8))
    served[::3, 5:] = -1
    return exposure_turn(leaning, served, post_leaning, agents)


# --- the contract every registered model keeps -------------------------------------------


@pytest.mark.parametrize("name", OPINIONS.names())
def test_every_opinion_model_keeps_the_contract(name):
    """Defaults validate; a new in-range array; the input untouched; idle agents stay; same rng, same result."""
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
    idle = np.setdiff1d(np.arange(len(before)), turn.agents)
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
