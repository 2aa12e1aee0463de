"""PairSet against a dense numpy boolean matrix driven through the same random operations."""

from __future__ import annotations

import numpy as np
import pytest

from simlab.sparse_pairs import PairSet


def random_pairs(rng: np.random.Generator, n_rows: int, n_cols: int, m: int) -> np.ndarray:
    """(m, 2) random (row, column) pairs, with repeats."""
    return np.stack([rng.integers(0, n_rows, m), rng.integers(0, n_cols, m)], axis=1)


def assert_same(pairs: PairSet, dense: np.ndarray, rng: np.random.Generator) -> None:
    """Every read of ``pairs`` equals the same read of ``dense``."""
    n_rows, n_cols = dense.shape
    assert pairs.shape == dense.shape and len(pairs) == int(dense.sum())
    np.testing.assert_array_equal(pairs.pairs(), np.argwhere(dense))
    np.testing.assert_array_equal(pairs.block(np.arange(n_rows), np.arange(n_cols)), dense)
    rows = rng.choice(n_rows, size=min(n_rows, 7), replace=False)  # unsorted
    sorted_cols = np.sort(rng.choice(n_cols, size=min(n_cols, 9), replace=False))
    repeated_cols = rng.integers(0, n_cols, 25)  # unsorted, with repeats
    for cols in (sorted_cols, repeated_cols, np.zeros(0, dtype=np.int64)):
        np.testing.assert_array_equal(pairs.block(rows, cols), dense[np.ix_(rows, cols)])
        cell_row, cell_col = pairs.cells_of(rows, cols)
        assert (np.diff(cell_row) >= 0).all()  # by row position
        row_major = np.lexsort((cell_col, cell_row))
        expected_row, expected_col = np.nonzero(dense[np.ix_(rows, cols)])
        np.testing.assert_array_equal(cell_row[row_major], expected_row)
        np.testing.assert_array_equal(cell_col[row_major], expected_col)
    owner, col = pairs.row_pairs(rows)
    np.testing.assert_array_equal(owner, np.nonzero(dense[rows])[0])
    np.testing.assert_array_equal(col, np.nonzero(dense[rows])[1])
    probe_rows, probe_cols = rng.integers(0, n_rows, (4, 6)), rng.integers(0, n_cols, 6)
    np.testing.assert_array_equal(
        pairs.contains(probe_rows, probe_cols), dense[probe_rows, probe_cols]
    )
    assert bool(pairs.contains(int(rows[0]), int(sorted_cols[0]))) == dense[rows[0], sorted_cols[0]]
    mask = rng.random(n_rows) < 0.5
    np.testing.assert_array_equal(pairs.column_counts(mask), dense[mask].sum(axis=0))
    np.testing.assert_array_equal(pairs.column_counts(), dense.sum(axis=0))
    stop = int(rng.integers(0, n_cols + 1))
    np.testing.assert_array_equal(pairs.pairs_before_column(stop), np.argwhere(dense[:, :stop]))
    subset = np.sort(rng.choice(n_cols, size=max(n_cols // 3, 1), replace=False))
    restricted = pairs.select_columns(subset)
    np.testing.assert_array_equal(
        restricted.block(np.arange(n_rows), np.arange(len(subset))), dense[:, subset]
    )


@pytest.mark.parametrize("seed", range(6))
def test_random_adds_growth_and_reads_match_a_dense_matrix(seed):
    rng = np.random.default_rng(seed)
    n_rows, n_cols = int(rng.integers(1, 40)), int(rng.integers(1, 60))
    dense = np.zeros((n_rows, n_cols), dtype=bool)
    pairs = PairSet(n_rows, n_cols)
    assert_same(pairs, dense, rng)
    for _ in range(8):
        if rng.random() < 0.3:  # new posts: empty columns on the right
            grow = int(rng.integers(1, 10))
            dense = np.concatenate([dense, np.zeros((n_rows, grow), dtype=bool)], axis=1)
            pairs.add_columns(grow)
            n_cols += grow
        new = random_pairs(rng, n_rows, n_cols, int(rng.integers(0, 3 * n_rows)))
        dense[new[:, 0], new[:, 1]] = True
        pairs.add(new)
        assert_same(pairs, dense, rng)


def test_a_copy_is_independent_and_cached_edge_lists_follow_adds():
    pairs = PairSet(3, 4, np.array([[2, 1], [0, 3], [2, 1]]))
    np.testing.assert_array_equal(pairs.pairs(), [[0, 3], [2, 1]])
    np.testing.assert_array_equal(pairs.pairs_before_column(2), [[2, 1]])
    snapshot = pairs.copy()
    pairs.add([[1, 1], [0, 3]])
    assert len(pairs) == 3 and len(snapshot) == 2
    np.testing.assert_array_equal(pairs.pairs(), [[0, 3], [1, 1], [2, 1]])
    np.testing.assert_array_equal(pairs.pairs_before_column(2), [[1, 1], [2, 1]])
    np.testing.assert_array_equal(snapshot.pairs_before_column(2), [[2, 1]])
    assert not snapshot.contains(1, 1) and pairs.contains(1, 1)


def test_large_indices_keep_their_order_and_shapes_beyond_the_layout_are_refused():
    last_row, last_col = 2**31 - 2, 2**32 - 1
    big = PairSet(
        last_row + 1, last_col + 1, np.array([[last_row, last_col], [0, last_col], [5, 0]])
    )
    np.testing.assert_array_equal(big.pairs(), [[0, last_col], [5, 0], [last_row, last_col]])
    np.testing.assert_array_equal(
        big.block(np.array([last_row, 5]), np.array([0, last_col])), [[False, True], [True, False]]
    )
    with pytest.raises(ValueError, match="rows must be"):
        PairSet(2**31, 10)
    with pytest.raises(ValueError, match="columns in"):
        PairSet(10, 2**32 + 1)
    with pytest.raises(ValueError, match="exceed"):
        big.add_columns(1)
