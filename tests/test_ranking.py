"""Top-k ranking and chunked personalized scores agree with a plain sort, tie by tie."""

from __future__ import annotations

import numpy as np
import pytest

from simlab.feeds import base
from simlab.feeds.base import Ranked
from simlab.feeds.personalized import PersonalizedParams, post_terms, relevance, scorer

from .test_feeds import contract_feed

LOWEST = -np.finfo(float).max


def sorted_top_k(scores: np.ndarray, candidates: np.ndarray, k: int):
    """Each row's k best candidates by a Python sort on (-score, post index); NaN lowest."""
    n, n_posts = candidates.shape
    post_idx = np.full((n, k), -1, dtype=np.int64)
    out = np.full((n, k), np.nan)
    for row in range(n):
        keyed = [
            (-(LOWEST if np.isnan(s) or s == -np.inf else s), p, s)
            for p, s in enumerate(scores[row].tolist())
            if candidates[row, p]
        ]
        for slot, (_, post, score) in enumerate(sorted(keyed)[:k]):
            post_idx[row, slot], out[row, slot] = post, score
    return post_idx, out


def score_matrix(rng: np.random.Generator, kind: int, n: int, n_posts: int) -> np.ndarray:
    if kind == 0:
        return rng.random((n, n_posts))
    if kind == 1:  # many ties, at the k-th place too
        return rng.integers(0, 4, (n, n_posts)).astype(float)
    specials = [-np.inf, np.inf, np.nan, 0.0, -0.0, LOWEST, 1.0]
    return rng.choice(specials, (n, n_posts))


@pytest.mark.parametrize("chunk_cells", [1, 37, 1 << 16])
def test_top_k_matches_a_plain_sort_with_ties_nan_and_few_candidates(chunk_cells, monkeypatch):
    monkeypatch.setattr(base, "CHUNK_CELLS", chunk_cells)
    rng = np.random.default_rng(3)
    for trial in range(150):
        n, n_posts, k = (int(rng.integers(0, high)) for high in (12, 120, 30))
        scores = score_matrix(rng, trial % 3, n, n_posts)
        candidates = rng.random((n, n_posts)) < rng.choice([0.05, 0.6, 1.0])
        ranked = Ranked.top_k(scores, candidates, k)
        post_idx, out = sorted_top_k(scores, candidates, k)
        assert ranked.post_idx.shape == (n, k) and ranked.scores.shape == (n, k)
        np.testing.assert_array_equal(ranked.post_idx, post_idx)
        np.testing.assert_array_equal(ranked.scores, out)  # NaN where padded or scored NaN


def test_top_k_leaves_the_scores_it_ranks_unchanged():
    rng = np.random.default_rng(4)
    scores = rng.integers(0, 3, (20, 50)).astype(float)
    scores[0, :5] = np.nan
    before = scores.copy()
    Ranked.top_k(scores, rng.random((20, 50)) < 0.8, 10)
    np.testing.assert_array_equal(scores, before)


@pytest.mark.parametrize("chunk_cells", [1, 450, 1 << 16])
def test_personalized_scores_chunk_by_chunk_are_the_whole_block_bits(chunk_cells, monkeypatch):
    monkeypatch.setattr(base, "CHUNK_CELLS", chunk_cells)
    feed = contract_feed()
    params = PersonalizedParams(leaning_weight=0.7, follow_weight=0.3)
    whole = relevance(feed, params)
    score = scorer(feed, params)
    n = len(feed.agents)
    for lo, hi in [(0, n), (0, 3), (3, n), (5, 6)]:
        chunk = score(slice(lo, hi)).copy()
        assert chunk.tobytes() == whole[lo:hi].tobytes()
    ranked = Ranked.top_k_of(scorer(feed, params), feed.candidates, 10)
    expected = Ranked.top_k(whole, feed.candidates, 10)
    np.testing.assert_array_equal(ranked.post_idx, expected.post_idx)
    assert ranked.scores.tobytes() == expected.scores.tobytes()


def test_personalized_scores_are_the_dense_formula_bits():
    """The scorer (sparse follow bonus, in-place terms) against the formula on dense arrays."""
    feed = contract_feed()
    params = PersonalizedParams(leaning_weight=0.7, follow_weight=0.3)
    pop = feed.pop
    interests = pop.interests[feed.agents]
    interests = interests / np.maximum(interests.max(axis=1, keepdims=True), 1e-12)
    interest = (interests * params.interest_weight)[:, pop.post_topic]
    closeness = params.leaning_weight * (
        1.0 - np.abs(feed.leaning[:, None] - pop.post_leaning[None, :]) / 2.0
    )
    follows = params.follow_weight * feed.follows_author
    assert follows.any() and not follows.all()
    expected = interest + closeness + follows + post_terms(feed, params)
    assert relevance(feed, params).tobytes() == expected.tobytes()


def test_candidate_mask_is_not_own_and_not_acted_on():
    feed = contract_feed()
    pop, state = feed.pop, feed.state
    owned = pop.post_author < pop.n_agents
    assert owned.any() and (~owned).any()
    agents = np.array([9, 0, 4, 4, 17])  # any order, repeats allowed
    expected = (pop.post_author[None, :] != agents[:, None]) & ~state.acted.block(
        agents, np.arange(pop.n_posts)
    )
    np.testing.assert_array_equal(base.candidate_mask(pop, state, agents), expected)
