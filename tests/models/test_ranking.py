"""top_n and popularity: ranking rules, exclusion, ties, and the checkerboard end to end."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from recsys.models.ranking import popularity, top_n
from recsys.models.user_knn import UserKNN

SCORES = np.array(
    [
        [0.5, 0.0, 0.9, 0.5, -1.0],  # tie 0.5 at columns 0 and 3; a negative score
        [0.0, 0.0, 0.0, 0.0, 0.0],  # nothing to recommend
        [0.1, 0.2, 0.3, 0.4, 0.5],
    ]
)


@pytest.mark.parametrize("as_sparse", [True, False])
def test_top_n_orders_by_score_then_lower_column(as_sparse):
    scores = sp.csr_matrix(SCORES) if as_sparse else SCORES
    index, values = top_n(scores, 3)
    assert index.tolist() == [[2, 0, 3], [-1, -1, -1], [4, 3, 2]]
    assert_allclose(values[0], [0.9, 0.5, 0.5])
    assert np.isnan(values[1]).all()
    assert index.dtype == np.int64 and values.dtype == np.float64


@pytest.mark.parametrize("as_sparse", [True, False])
def test_top_n_only_strictly_positive_and_pads(as_sparse):
    scores = sp.csr_matrix(SCORES) if as_sparse else SCORES
    index, values = top_n(scores, 5)
    assert index[0].tolist() == [2, 0, 3, -1, -1]  # 0.0 and -1.0 are never recommended
    assert np.isnan(values[0, 3:]).all()


@pytest.mark.parametrize("as_sparse", [True, False])
def test_top_n_excludes_given_entries(as_sparse):
    scores = sp.csr_matrix(SCORES) if as_sparse else SCORES
    exclude = sp.csr_matrix(np.array([[0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 2]]))
    index, _ = top_n(scores, 2, exclude=exclude)
    assert index.tolist() == [[0, 3], [-1, -1], [3, 2]]


def test_top_n_sparse_and_dense_agree_on_random_scores():
    rng = np.random.default_rng(0)
    dense = np.round(rng.random((40, 30)), 1) * (rng.random((40, 30)) < 0.3)  # many ties
    exclude = sp.random(40, 30, density=0.1, format="csr", random_state=1)
    a = top_n(sp.csr_matrix(dense), 7, exclude=exclude)
    b = top_n(dense, 7, exclude=exclude)
    assert_array_equal(a[0], b[0])
    assert_array_equal(a[1], b[1])
    # Reference: a Python sort per row.
    masked = np.where(exclude.toarray() != 0, 0.0, dense)
    for i in range(40):
        ranked = sorted((-v, j) for j, v in enumerate(masked[i]) if v > 0)[:7]
        assert a[0][i][: len(ranked)].tolist() == [j for _, j in ranked]


def test_top_n_zero_and_invalid_n():
    assert top_n(SCORES, 0)[0].shape == (3, 0)
    with pytest.raises(ValueError):
        top_n(SCORES, -1)
    with pytest.raises(ValueError):
        top_n(SCORES, 2, exclude=sp.csr_matrix((1, 5)))


def test_popularity_counts_customers_not_values():
    X = sp.csr_matrix(np.array([[3.0, 0.0, 1.0], [1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]))
    assert popularity(X).tolist() == [3, 0, 1]


def checkerboard() -> sp.csr_matrix:
    """0: A B  1: A B C  2: A B C  3: D E  4: D E F  5: F  (columns A..F = 0..5)."""
    rows = [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5]
    cols = [0, 1, 0, 1, 2, 0, 1, 2, 3, 4, 3, 4, 5, 5]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(6, 6))


def test_checkerboard_recommendations_end_to_end():
    X = checkerboard()
    model = UserKNN(n_neighbors=2).fit(X)
    rows = np.arange(6)
    scores = model.score_items(X, rows=rows)
    index, values = top_n(scores, 2, exclude=X)
    # Customer 0 (A B) gets C from neighbours 1 and 2; purchased A, B are excluded.
    assert index[0].tolist() == [2, -1]
    assert values[0, 0] == pytest.approx(2 * np.sqrt(2 / 3))
    # Customer 3 (D E) gets F from neighbour 4; customer 5 (F) gets D and E (tie -> D first).
    assert index[3].tolist() == [5, -1]
    assert index[5].tolist() == [3, 4]
    # Customers 1 and 2 bought everything their group buys: nothing left.
    assert (index[[1, 2]] == -1).all()
    # Without exclusion, the tastes of the other group never leak in.
    all_index, _ = top_n(scores, 6)
    assert set(all_index[0][all_index[0] >= 0]) <= {0, 1, 2}
    assert set(all_index[3][all_index[3] >= 0]) <= {3, 4, 5}
    assert popularity(X).tolist() == [3, 3, 2, 2, 2, 2]
