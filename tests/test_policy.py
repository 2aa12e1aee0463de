"""The rule-based policy and the bounded-confidence opinion update."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simlab.policies import POLICIES
from simlab.policies.base import FeedView
from simlab.policies.opinion import OpinionParams, update
from simlab.policies.rule_based import RuleBasedParams, decide
from simlab.population.comments import AGREE, DISAGREE
from simlab.world import SimState

from .factories import make_population

ZERO = RuleBasedParams(**dict.fromkeys(RuleBasedParams.model_fields, 0.0))


def _view(pop, feeds, state=None, agents=None):
    state = state or SimState.initial(pop)
    agents = np.arange(pop.n_agents) if agents is None else np.asarray(agents)
    feeds = np.asarray(feeds, dtype=np.int64)
    return FeedView(pop, state, 0, agents, feeds, np.zeros(feeds.shape))


def _big_view(agent_leaning, post_leaning, n_agents=400, k=10, propensity=0.3):
    pop = make_population(
        [agent_leaning] * n_agents, [post_leaning] * k, [0] * k, propensity=propensity
    )
    return _view(pop, np.tile(np.arange(k), (n_agents, 1)))


def _rate(actions, kind, view):
    return sum(a.kind == kind for a in actions) / view.feeds.size


def test_registered_with_metadata():
    policy = POLICIES.get("rule_based")
    assert policy.model_used == "rule_based/1.0"
    assert policy.stochastic and not policy.uses_llm
    assert "σ" in policy.doc and "[McPherson2001]" in policy.doc


def test_zero_coefficients_reproduce_base_propensities():
    view = _big_view(0.0, 0.0, propensity=0.3)
    actions = decide(view, ZERO, np.random.default_rng(1))
    n = view.feeds.size
    for kind in ("like", "comment"):
        rate = _rate(actions, kind, view)
        assert abs(rate - 0.3) < 3 * np.sqrt(0.3 * 0.7 / n) + 0.01, (kind, rate)


def test_agreement_raises_like_rate():
    params = RuleBasedParams()
    agree = decide(_big_view(0.6, 0.6), params, np.random.default_rng(2))
    oppose = decide(_big_view(0.6, -0.8), params, np.random.default_rng(2))
    assert (
        _rate(agree, "like", _big_view(0.6, 0.6))
        > _rate(oppose, "like", _big_view(0.6, -0.8)) + 0.1
    )


def test_lower_ranks_are_liked_less():
    view = _big_view(0.0, 0.0, n_agents=2000)
    actions = decide(view, RuleBasedParams(like_position=3.0), np.random.default_rng(3))
    slots = np.array([a.slot for a in actions if a.kind == "like"])
    assert (slots == 0).sum() > 2 * (slots == 9).sum()


def test_metadata_records_probability_draw_and_terms():
    view = _big_view(0.2, 0.5, n_agents=50)
    actions = decide(view, RuleBasedParams(), np.random.default_rng(4))
    assert actions
    for action in actions:
        meta = json.loads(action.metadata_json)
        assert meta["draw"] < meta["p"]
        logit = sum(meta["logit_terms"].values())
        assert meta["p"] == pytest.approx(1 / (1 + np.exp(-logit)), abs=5e-3)
        assert meta["rank"] == action.slot + 1
        assert f"rank {action.slot + 1}" in action.explanation
        assert action.explanation.startswith(action.kind)


def test_comments_agree_or_disagree_with_the_post():
    agree = decide(_big_view(0.7, 0.6, n_agents=50), RuleBasedParams(), np.random.default_rng(5))
    oppose = decide(_big_view(0.9, -0.9, n_agents=50), RuleBasedParams(), np.random.default_rng(5))

    def _matches(text, templates):
        return any(text.startswith(t.split("{")[0]) for t in templates)

    agree_texts = [a.text for a in agree if a.kind == "comment"]
    oppose_texts = [a.text for a in oppose if a.kind == "comment"]
    assert agree_texts and oppose_texts
    assert all(_matches(t, AGREE) for t in agree_texts)
    assert all(_matches(t, DISAGREE) for t in oppose_texts)


def test_follows_each_author_once_and_never_a_followed_one():
    # every post by the same outside author (account 3); agent 1 already follows it
    pop = make_population(
        [0.1, 0.1, 0.1], [0.1] * 5, [0] * 5, propensity=0.95, follow_pairs=[(1, 3)]
    )
    view = _view(pop, np.tile(np.arange(5), (3, 1)))
    actions = decide(view, RuleBasedParams(), np.random.default_rng(6))
    follows = [a for a in actions if a.kind == "follow"]
    assert sorted(a.row for a in follows) == [0, 2]
    assert all(a.slot == 0 for a in follows)


def test_padding_slots_never_act():
    pop = make_population([0.0] * 20, [0.0] * 2, [0, 1], propensity=0.99)
    view = _view(pop, np.tile([0, 1, -1, -1], (20, 1)))
    actions = decide(view, RuleBasedParams(), np.random.default_rng(7))
    assert actions and all(a.slot < 2 for a in actions)


def test_same_seed_same_actions_different_seed_differs():
    view = _big_view(0.1, 0.3, n_agents=100)
    first = decide(view, RuleBasedParams(), np.random.default_rng(8))
    second = decide(view, RuleBasedParams(), np.random.default_rng(8))
    other = decide(view, RuleBasedParams(), np.random.default_rng(9))
    assert first == second
    assert first != other


def test_actions_are_ordered_by_row_slot_kind():
    view = _big_view(0.3, 0.3, n_agents=30, propensity=0.6)
    actions = decide(view, RuleBasedParams(), np.random.default_rng(10))
    kinds = {"like": 0, "comment": 1, "follow": 2}
    keys = [(a.row, a.slot, kinds[a.kind]) for a in actions]
    assert keys == sorted(keys)


# ---------------------------------------------------------------- opinion


def test_bounded_confidence_hand_worked():
    leaning = np.array([0.0, 0.5, -0.9])
    exposure = np.array([[0.2, 0.4, -0.8, np.nan], [0.9, 0.1, np.nan, np.nan]])
    params = OpinionParams(epsilon=0.5, mu=0.5)
    new = update(leaning, np.array([0, 1]), exposure, params)
    # agent 0: posts within 0.5 are 0.2 and 0.4 -> mean diff 0.3 -> +0.15
    # agent 1: 0.9 (diff 0.4) and 0.1 (diff -0.4) -> mean 0 -> unchanged
    assert new == pytest.approx([0.15, 0.5, -0.9])
    assert leaning[0] == 0.0  # input untouched


def test_backfire_pushes_away_and_disabled_freezes():
    leaning = np.array([0.5])
    exposure = np.array([[-0.9, -0.9]])
    pushed = update(
        leaning, np.array([0]), exposure, OpinionParams(mu=0.2, backfire=1.0, rejection=1.0)
    )
    # push = mean sign(-1.4) = -1 -> delta = -0.2 * 1 * (-1) * (1 - 0.5) = +0.1
    assert pushed == pytest.approx([0.6])
    assert update(leaning, np.array([0]), exposure, OpinionParams(enabled=False)) == pytest.approx(
        [0.5]
    )


def test_leanings_stay_in_range():
    leaning = np.array([0.99, -0.99])
    exposure = np.array([[1.0] * 3, [-1.0] * 3])
    new = update(leaning, np.array([0, 1]), exposure, OpinionParams(mu=1.0, epsilon=2.0))
    assert np.all(np.abs(new) <= 1.0)
