"""The compiled top-n from neighbour lists agrees with the sparse-product path it replaces."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models.knn_scoring import top_items
from recsys.models.ranking import top_n
from recsys.models.user_knn import UserKNN, neighbors_to_graph


def _rows(seed: int, n: int = 150, p: int = 30) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    counts = rng.binomial(2, 0.12, size=(n, p)).astype(np.float64)
    counts[5] = counts[7]  # ties
    counts[9] = 0.0  # an empty row
    return sp.csr_matrix(np.log1p(counts) * (1.0 + rng.random(p)))


@pytest.mark.parametrize("power", [1.0, 2.5])
@pytest.mark.parametrize("exclude", [True, False])
@pytest.mark.parametrize("n", [1, 4, 40])
def test_matches_score_graph_top_n_and_support_graph(power: float, exclude: bool, n: int) -> None:
    X = _rows(0)
    model = UserKNN(n_neighbors=6, similarity_power=power).fit(X)
    rows = np.arange(X.shape[0])
    sims, idx = model.kneighbors(X, rows=rows)
    graph = neighbors_to_graph(sims, idx, X.shape[0])
    mask = (X > 0).astype(np.float32).tocsr() if exclude else None
    want_items, want_scores = top_n(model.score_graph(graph), n, exclude=mask)
    counts = model.support_graph(graph).toarray()
    safe = np.where(want_items >= 0, want_items, 0)
    want_support = np.where(want_items >= 0, np.take_along_axis(counts, safe, axis=1), 0)

    items, scores, support = model.top_items(sims, idx, X, n, exclude_purchased=exclude)
    np.testing.assert_array_equal(items, want_items)
    np.testing.assert_array_equal(scores, want_scores)  # bit for bit, nan padding included
    np.testing.assert_array_equal(support, want_support.astype(np.int64))


def test_padding_and_no_neighbours() -> None:
    X = sp.csr_matrix(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]))
    items, scores, support = top_items(np.array([[0.0, 0.0]]), np.array([[-1, -1]]), X, X[[0]], 2)
    assert items.tolist() == [[-1, -1]] and support.tolist() == [[0, 0]]
    assert np.isnan(scores).all()
