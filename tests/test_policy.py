"""The rule-based policy."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pytest

from simlab.compact_rows import keyed, template
from simlab.params import validate
from simlab.policies import POLICIES
from simlab.policies.base import ACTION_KINDS, Actions, FeedView
from simlab.policies.rule_based import (
    RuleBasedParams,
    _fraction_reprs,
    _reprs,
    _term_reprs,
    decide,
)
from simlab.population.comments import AGREE, DISAGREE
from simlab.world import SimState

from .conftest import REPO
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


def _records(actions: Actions) -> list[SimpleNamespace]:
    """One object per action, read from the columns (kind as its name)."""
    return [
        SimpleNamespace(
            kind=ACTION_KINDS[actions.kind[i]],
            row=int(actions.row[i]),
            slot=int(actions.slot[i]),
            text=actions.text[i],
            explanation=actions.explanation[i],
            metadata_json=actions.metadata_json[i],
        )
        for i in range(len(actions))
    ]


def _rate(actions, kind, view):
    return len(actions.of(kind)) / view.feeds.size


# --- the contract every registered policy keeps -------------------------------------------


def contract_view() -> FeedView:
    """30 agents of mixed leaning, feeds of 8 over 40 posts by 3 authors; some rows padded."""
    rng = np.random.default_rng(11)
    pop = make_population(
        rng.uniform(-1, 1, 30),
        rng.uniform(-1, 1, 40),
        rng.integers(0, 4, 40),
        post_author=rng.integers(30, 33, 40),
        n_outsiders=3,
        propensity=0.4,
    )
    agents = np.sort(rng.choice(30, 20, replace=False))
    feeds = np.stack([rng.choice(40, 8, replace=False) for _ in agents])
    feeds[::4, 6:] = -1
    return FeedView(pop, SimState.initial(pop), 3, agents, feeds, rng.random(feeds.shape))


# policies with a run context (llm) are tested in runs: tests/test_llm_policy.py
STANDALONE = [p.name for p in POLICIES if p.context is None]


@pytest.mark.parametrize("name", STANDALONE)
def test_every_policy_keeps_the_contract(name):
    """Defaults validate; columns agree; actions sit on served slots; the state is untouched."""
    policy = POLICIES.get(name)
    assert validate(policy.params, {}, f"policy {name!r}") == policy.params()
    view = contract_view()
    state = view.state
    before = [a.copy() for a in (state.leaning, state.follows.pairs(), state.acted.pairs())]
    actions = policy.decide(view, policy.params(), np.random.default_rng(5))
    m = len(actions)
    for column in ("kind", "row", "slot", "agent", "post", "target"):
        assert getattr(actions, column).shape == (m,)
    assert len(actions.text) == len(actions.explanation) == len(actions.metadata_json) == m
    assert set(actions.kind.tolist()) <= set(range(len(ACTION_KINDS)))
    np.testing.assert_array_equal(actions.agent, view.agents[actions.row])
    np.testing.assert_array_equal(actions.post, view.feeds[actions.row, actions.slot])
    assert (actions.post >= 0).all()
    follows = actions.of("follow")
    np.testing.assert_array_equal(
        actions.target[follows], view.pop.post_author[actions.post[follows]]
    )
    engaged = np.setdiff1d(np.arange(m), follows)
    np.testing.assert_array_equal(actions.target[engaged], actions.post[engaged])
    comments = set(actions.of("comment").tolist())
    for i in range(m):
        assert (actions.text[i] is not None) == (i in comments)
        meta = json.loads(actions.metadata_json[i])
        assert actions.explanation[i] or isinstance(meta, list)  # a compact row: views explain
    assert sum(actions.counts().values()) == m
    pairs = {(int(a), int(b)) for a, b in actions.targets("like")[:, :2]}
    assert len(pairs) == len(actions.of("like"))  # an agent likes a post once per turn
    after = (state.leaning, state.follows.pairs(), state.acted.pairs())
    assert all(np.array_equal(x, y) for x, y in zip(before, after, strict=True))
    again = policy.decide(view, policy.params(), np.random.default_rng(5))
    assert _records(again) == _records(actions)


@pytest.mark.parametrize("name", [n for n in STANDALONE if POLICIES.get(n).stochastic])
def test_stochastic_policies_depend_on_the_seed(name):
    policy = POLICIES.get(name)
    view = contract_view()
    first = policy.decide(view, policy.params(), np.random.default_rng(1))
    assert _records(first) != _records(
        policy.decide(view, policy.params(), np.random.default_rng(2))
    )


@pytest.mark.parametrize("name", POLICIES.names())
def test_every_policy_documents_itself_and_its_parameters(name):
    policy = POLICIES.get(name)
    references = (REPO / "docs" / "references.md").read_text()
    keys = re.findall(r"\[([A-Z][A-Za-z]+\d{4})\]", policy.doc)
    assert policy.citations and set(policy.citations) <= set(keys)
    assert all(f"[{key}]" in references for key in keys)
    assert all(field.description for field in policy.params.model_fields.values())
    assert policy.model_used.startswith(f"{name}/")


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
    slots = actions.slot[actions.of("like")]
    assert (slots == 0).sum() > 2 * (slots == 9).sum()


def test_metadata_records_probability_draw_and_terms():
    view = _big_view(0.2, 0.5, n_agents=50)
    actions = decide(view, RuleBasedParams(), np.random.default_rng(4))
    assert len(actions)
    for action in _records(actions):
        assert action.explanation is None  # built when read (test_compact_rows)
        meta = keyed(action.kind, json.loads(action.metadata_json))
        assert meta["draw"] < meta["p"]
        logit = sum(meta["logit_terms"].values())
        assert meta["p"] == pytest.approx(1 / (1 + np.exp(-logit)), abs=5e-3)
        assert meta["rank"] == action.slot + 1


def test_metadata_numbers_are_python_reprs_of_the_rounded_values():
    specials = [-0.0, 0.0, 0.1, 1e-05, -4e-05, 5e-05, 0.30000000000000004, -2.1972, np.nan]
    specials += [np.inf, -np.inf, 1e20, 999.99994, 999.99995, -1000.0, 1000.00004, 0.1]
    grid = np.arange(-10_000_000, 10_000_001, 37) / 1e4  # every 37th 4-place value in +-1000
    noise = np.random.default_rng(0).normal(0, 3, 100_000)
    for values in (np.array(specials), grid, noise, np.array([])):
        expected = [repr(v) for v in np.round(values, 4).tolist()]  # -0.0 keeps its sign
        assert _term_reprs(values) == expected
    assert _reprs(np.array([3, 1, 3, 20])) == ["3", "1", "3", "20"]
    assert _reprs(np.array([], dtype=np.int64)) == []
    every = np.round(np.arange(0, 1_000_001, 3) / 1e6, 6)  # a third of all 6-place values in [0, 1]
    odd = np.round(np.array([1e-05, 9.9e-05, 1e-4, 0.0, -0.0, 1.0, 0.9999996, np.nan]), 6)
    for values in (every, odd, np.array([])):
        assert _fraction_reprs(values) == [repr(v) for v in values.tolist()]
    view = _big_view(0.2, 0.5, n_agents=30)
    actions = decide(view, RuleBasedParams(), np.random.default_rng(5))
    for action in _records(actions):
        row = json.loads(action.metadata_json)
        assert action.metadata_json == template(action.kind) % tuple(row)


def test_comments_agree_or_disagree_with_the_post():
    agree = decide(_big_view(0.7, 0.6, n_agents=50), RuleBasedParams(), np.random.default_rng(5))
    oppose = decide(_big_view(0.9, -0.9, n_agents=50), RuleBasedParams(), np.random.default_rng(5))

    def _matches(text, templates):
        return any(text.startswith(t.split("{")[0]) for t in templates)

    agree_texts = [a.text for a in _records(agree) if a.kind == "comment"]
    oppose_texts = [a.text for a in _records(oppose) if a.kind == "comment"]
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
    follows = [a for a in _records(actions) if a.kind == "follow"]
    assert sorted(a.row for a in follows) == [0, 2]
    assert all(a.slot == 0 for a in follows)


def test_padding_slots_never_act():
    pop = make_population([0.0] * 20, [0.0] * 2, [0, 1], propensity=0.99)
    view = _view(pop, np.tile([0, 1, -1, -1], (20, 1)))
    actions = decide(view, RuleBasedParams(), np.random.default_rng(7))
    assert len(actions) and (actions.slot < 2).all()


def test_same_seed_same_actions_different_seed_differs():
    view = _big_view(0.1, 0.3, n_agents=100)
    first = decide(view, RuleBasedParams(), np.random.default_rng(8))
    second = decide(view, RuleBasedParams(), np.random.default_rng(8))
    other = decide(view, RuleBasedParams(), np.random.default_rng(9))
    assert _records(first) == _records(second)
    assert _records(first) != _records(other)


def test_actions_are_ordered_by_row_slot_kind():
    view = _big_view(0.3, 0.3, n_agents=30, propensity=0.6)
    actions = decide(view, RuleBasedParams(), np.random.default_rng(10))
    kinds = {"like": 0, "comment": 1, "follow": 2}
    keys = [(a.row, a.slot, kinds[a.kind]) for a in _records(actions)]
    assert keys == sorted(keys)
