"""A set of (row, column) pairs of a sparse boolean matrix, for state that would not fit dense.

A run's follow graph (agents x accounts) and its "agent acted on post" marks
(agents x posts) are nearly empty: at 100,000 agents the dense boolean matrices
would take 10-26 GB, the pairs a few tens of MB.

Layout: one sorted array of unique int64 keys ``row << 32 | column``, i.e. the
pairs in row-major order (the order of ``np.argwhere`` on the dense matrix).
Because a column takes a fixed 32 bits, adding columns (posts written during a
run) changes no key. With N pairs:

- :meth:`contains` of m pairs: O(m log N) (binary search);
- :meth:`block` of r rows x c columns: O(r log N + e log c + r c), e the pairs
  in those rows (the r x c result is the only dense part); :meth:`cells_of`
  gives the same cells sparse, in O(r log N + c log c + n_cols + e + h log h);
- :meth:`add` of m pairs: O(m log m + N) (one merge by ``np.insert``), O(m) into
  an empty set when the pairs come sorted;
- :meth:`pairs`, :meth:`pairs_before_column`, :meth:`column_counts`,
  :meth:`select_columns`: O(N) (the first two cached until the next :meth:`add`).
"""

from __future__ import annotations

import numpy as np

COLUMN_BITS = 32
COLUMN_MASK = (1 << COLUMN_BITS) - 1
MAX_ROWS = (1 << 31) - 1  # (row + 1) << 32, the end of a row's keys, stays below 2**63


class PairSet:
    """The True cells of an ``n_rows x n_cols`` boolean matrix (module docstring).

    Mutable through :meth:`add` and :meth:`add_columns` only; every other method
    reads. Rows and columns passed in must lie in ``[0, n_rows)`` and ``[0, n_cols)``.
    """

    def __init__(self, n_rows: int, n_cols: int, pairs: np.ndarray | None = None) -> None:
        """An empty set of that shape, or one holding ``pairs``.

        Args:
            n_rows: number of rows (below 2**31).
            n_cols: number of columns (below 2**32).
            pairs: optional (m, 2) int (row, column) pairs; repeats are kept once.

        Raises:
            ValueError: a dimension is negative or too large for the key layout.
        """
        if not (0 <= n_rows <= MAX_ROWS and 0 <= n_cols <= COLUMN_MASK + 1):
            raise ValueError(
                f"PairSet shape {n_rows} x {n_cols}: rows must be in [0, 2**31 - 1], "
                "columns in [0, 2**32]"
            )
        self.n_rows, self.n_cols = n_rows, n_cols
        self._keys = np.zeros(0, dtype=np.int64)
        self._pairs: np.ndarray | None = None
        self._left: tuple[int, np.ndarray] | None = None  # (stop, pairs_before_column(stop))
        if pairs is not None:
            self.add(pairs)

    @property
    def shape(self) -> tuple[int, int]:
        """(n_rows, n_cols) of the matrix the set stands for."""
        return self.n_rows, self.n_cols

    def __len__(self) -> int:
        """Number of pairs (True cells)."""
        return len(self._keys)

    def copy(self) -> PairSet:
        """An independent set with the same shape and pairs."""
        other = PairSet(self.n_rows, self.n_cols)
        other._keys = self._keys  # never written in place: add() replaces the array
        return other

    def add(self, pairs: np.ndarray) -> None:
        """Add (row, column) pairs; pairs already present or repeated are ignored.

        Args:
            pairs: (m, 2) int, or anything that reshapes to it.
        """
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if len(pairs) == 0:
            return
        new = _keys(pairs[:, 0], pairs[:, 1])
        if not np.all(new[1:] > new[:-1]):  # sorted unique input (an initial graph) skips the sort
            new = np.unique(new)
        if len(self._keys):
            new = new[~self._has(new)]
            if len(new) == 0:
                return
            self._keys = np.insert(self._keys, np.searchsorted(self._keys, new), new)
        else:
            self._keys = new
        self._pairs = self._left = None

    def add_columns(self, m: int) -> None:
        """Grow the matrix by ``m`` empty columns on the right (no pair moves or is copied)."""
        if self.n_cols + m > COLUMN_MASK + 1:
            raise ValueError(f"PairSet: {self.n_cols + m} columns exceed 2**32")
        self.n_cols += m

    def contains(self, rows, cols) -> np.ndarray:
        """Elementwise membership: ``dense[rows, cols]`` with numpy broadcasting.

        Args:
            rows: int array (or scalar) of row indices.
            cols: int array (or scalar) of column indices, broadcastable with ``rows``.

        Returns:
            bool array of the broadcast shape (0-d for two scalars).
        """
        return self._has(_keys(np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)))

    def block(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """The dense sub-matrix ``dense[np.ix_(rows, cols)]``.

        Args:
            rows: (r,) int row indices, any order.
            cols: (c,) int column indices, any order, repeats allowed.

        Returns:
            (r, c) bool.
        """
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        if len(cols) > 1 and not np.all(cols[1:] > cols[:-1]):
            unique, inverse = np.unique(cols, return_inverse=True)
            return self.block(rows, unique)[:, inverse]
        out = np.zeros((len(rows), len(cols)), dtype=bool)
        owner, col = self.row_pairs(rows)
        if len(owner) == 0 or len(cols) == 0:
            return out
        where = np.minimum(np.searchsorted(cols, col), len(cols) - 1)
        hit = cols[where] == col
        out[owner[hit], where[hit]] = True
        return out

    def row_pairs(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The pairs in ``rows``, as (position in ``rows``, column), by position then column.

        Args:
            rows: (r,) int row indices, any order.

        Returns:
            Two (e,) int64 arrays, e the pairs in those rows: O(r log N + e).
        """
        rows = np.asarray(rows, dtype=np.int64)
        starts = np.searchsorted(self._keys, rows << COLUMN_BITS)
        counts = np.searchsorted(self._keys, (rows + 1) << COLUMN_BITS) - starts
        owner = np.repeat(np.arange(len(rows)), counts)
        return owner, self._keys[ranges(starts, counts)] & COLUMN_MASK

    def cells_of(self, rows: np.ndarray, col_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The True cells of ``dense[rows][:, col_of]`` as (row position, position in ``col_of``).

        The cells of ``np.nonzero(self.block(rows, col_of))``, without building the
        dense block: each pair in ``rows`` is matched to the positions of ``col_of``
        holding its column. ``col_of`` maps items to columns (posts to their
        authors), repeats allowed. Cells come by row position; within a row, by
        column then item position (not sorted by item position).

        Args:
            rows: (r,) int row indices, any order.
            col_of: (c,) int column of each item, in ``[0, n_cols)``.

        Returns:
            Two (h,) int64 arrays, h the True cells.
        """
        col_of = np.asarray(col_of, dtype=np.int64)
        by_column = np.argsort(col_of, kind="stable")  # items grouped by column
        per_column = np.bincount(col_of, minlength=self.n_cols)
        owner, col = self.row_pairs(rows)
        counts = per_column[col]  # items holding each pair's column
        owner, col, counts = owner[counts > 0], col[counts > 0], counts[counts > 0]
        first = (np.cumsum(per_column) - per_column)[col]  # where its items start in by_column
        return np.repeat(owner, counts), by_column[ranges(first, counts)]

    def pairs(self) -> np.ndarray:
        """(N, 2) int64 (row, column) of every pair, sorted by row then column.

        The order of ``np.argwhere`` on the dense matrix, however the pairs
        arrived, so sums over pairs are bit-for-bit reproducible. Cached until
        the next :meth:`add`; do not write into it.
        """
        if self._pairs is None:
            self._pairs = np.stack([self._keys >> COLUMN_BITS, self._keys & COLUMN_MASK], axis=1)
        return self._pairs

    def pairs_before_column(self, stop: int) -> np.ndarray:
        """The rows of :meth:`pairs` whose column is below ``stop``, in the same order.

        Cached like :meth:`pairs` (for one ``stop`` at a time); do not write into it.
        """
        if self._left is None or self._left[0] != stop:
            cols = self._keys & COLUMN_MASK
            keep = cols < stop  # filtered before splitting the keys: no full edge list built
            self._left = (stop, np.stack([self._keys[keep] >> COLUMN_BITS, cols[keep]], axis=1))
        return self._left[1]

    def column_counts(self, row_mask: np.ndarray | None = None) -> np.ndarray:
        """(n_cols,) int: pairs per column, counting only rows where ``row_mask`` is True.

        Args:
            row_mask: (n_rows,) bool, or None for every row.
        """
        cols = self._keys & COLUMN_MASK
        if row_mask is not None:
            cols = cols[np.asarray(row_mask, dtype=bool)[self._keys >> COLUMN_BITS]]
        return np.bincount(cols, minlength=self.n_cols)

    def select_columns(self, columns: np.ndarray) -> PairSet:
        """The set restricted to ``columns`` (sorted, unique), renumbered ``0..len(columns)-1``.

        ``result.block(rows, range(c))`` equals ``self.block(rows, columns)``.
        """
        columns = np.asarray(columns, dtype=np.int64)
        position = np.full(self.n_cols, -1, dtype=np.int64)
        position[columns] = np.arange(len(columns))
        new_col = position[self._keys & COLUMN_MASK]
        keep = new_col >= 0
        other = PairSet(self.n_rows, len(columns))
        other._keys = ((self._keys[keep] >> COLUMN_BITS) << COLUMN_BITS) | new_col[keep]
        return other

    def _has(self, keys: np.ndarray) -> np.ndarray:
        if len(self._keys) == 0:
            return np.zeros(keys.shape, dtype=bool)
        where = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return self._keys[where] == keys


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])``, without a loop.

    Args:
        starts: (m,) int first value of each range.
        counts: (m,) int >= 0 length of each range.
    """
    return np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(int(counts.sum()))


def _keys(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return (rows << COLUMN_BITS) | cols
