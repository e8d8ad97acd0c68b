"""RP3beta (recsys/models/rp3beta.py): known answers on a hand-made matrix, pruning, settings."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models import rp3beta as rp3beta_module
from recsys.models.rp3beta import RP3beta

# 4 customers x 5 products. Buyers per product: 3, 2, 2, 1, 1.
X = np.array(
    [
        [1, 1, 0, 0, 0],
        [1, 0, 1, 0, 0],
        [1, 1, 1, 1, 0],
        [0, 0, 0, 0, 1],
    ],
    dtype=np.float64,
)


def reference(X: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """The walk similarity, densely with numpy: the definition, not the implementation."""
    P_ui = (X / X.sum(axis=1, keepdims=True)) ** alpha
    P_iu = (X.T / X.T.sum(axis=1, keepdims=True)) ** alpha
    W = (P_iu @ P_ui) / (X > 0).sum(axis=0)[None, :] ** beta
    np.fill_diagonal(W, 0.0)
    return W


def test_plain_walk_known_answer_by_hand() -> None:
    # Product 0 -> its buyers (customers 0, 1, 2, each with probability 1/3) -> their products
    # (customer 0: 1/2 each of 0, 1; customer 1: 1/2 each of 0, 2; customer 2: 1/4 each of 0-3).
    # So W[0, 1] = 1/3 * 1/2 + 1/3 * 1/4 = 1/4; W[0, 3] = 1/3 * 1/4 = 1/12; W[0, 4] = 0.
    model = RP3beta(n_neighbors=4, alpha=1.0, beta=0.0).fit(sp.csr_matrix(X))
    S = model.similarity_.toarray()
    assert S[0, 1] == pytest.approx(1 / 4)
    assert S[0, 2] == pytest.approx(1 / 4)
    assert S[0, 3] == pytest.approx(1 / 12)
    assert S[0, 4] == 0.0
    # Product 3 was bought by customer 2 alone, who bought 0-3: 1/4 each.
    np.testing.assert_allclose(S[3], [1 / 4, 1 / 4, 1 / 4, 0.0, 0.0])
    np.testing.assert_array_equal(S.diagonal(), 0.0)


def test_popularity_penalty_divides_by_buyers_to_the_beta() -> None:
    model = RP3beta(n_neighbors=4, alpha=1.0, beta=1.0).fit(sp.csr_matrix(X))
    S = model.similarity_.toarray()
    # W[3, 0] = 1/4 / 3 buyers; W[3, 1] = 1/4 / 2 buyers.
    assert S[3, 0] == pytest.approx(1 / 12)
    assert S[3, 1] == pytest.approx(1 / 8)
    np.testing.assert_array_equal(model.popularity_, [3, 2, 2, 1, 1])


@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.0), (0.5, 0.3), (1.5, 0.8)])
def test_similarity_equals_the_dense_definition_when_nothing_is_pruned(alpha, beta) -> None:
    model = RP3beta(n_neighbors=4, alpha=alpha, beta=beta).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(model.similarity_.toarray(), reference(X, alpha, beta))
    scores = model.score_items(sp.csr_matrix(X)).toarray()
    np.testing.assert_allclose(scores, X @ reference(X, alpha, beta))


def test_keeps_the_top_k_per_product_ties_to_the_lower_column() -> None:
    model = RP3beta(n_neighbors=1, alpha=1.0, beta=0.0).fit(sp.csr_matrix(X))
    S = model.similarity_
    assert np.diff(S.indptr).tolist() == [1, 1, 1, 1, 0]  # product 4's only buyer has no other
    # Product 0: products 1 and 2 tie at 1/4; the lower column is kept.
    assert S[0].indices.tolist() == [1]
    assert S[3].indices.tolist() == [0]


def test_a_higher_beta_recommends_less_popular_products() -> None:
    # The customer bought product 3 only; the walk reaches 0, 1 and 2, and product 0 (3 buyers)
    # wins without a penalty, a less popular one with it.
    query = sp.csr_matrix(np.array([[0, 0, 0, 1.0, 0]]))
    plain = RP3beta(n_neighbors=4, beta=0.0).fit(sp.csr_matrix(X)).score_items(query).toarray()
    damped = RP3beta(n_neighbors=4, beta=1.0).fit(sp.csr_matrix(X)).score_items(query).toarray()
    assert plain[0, 0] == plain[0, 1]  # tie broken by column: product 0 first
    assert damped[0, 1] > damped[0, 0]


def test_blocked_computation_equals_one_block(monkeypatch) -> None:
    rng = np.random.default_rng(3)
    R = sp.csr_matrix((rng.random((40, 30)) < 0.2).astype(np.float64))
    whole = RP3beta(n_neighbors=5, alpha=0.8, beta=0.4).fit(R).similarity_
    monkeypatch.setattr(rp3beta_module, "_BLOCK_CELLS", 60)  # two product rows per block
    blocked = RP3beta(n_neighbors=5, alpha=0.8, beta=0.4).fit(R).similarity_
    assert (whole != blocked).nnz == 0
    assert np.diff(whole.indptr).max() <= 5


def test_customer_without_purchases_and_product_without_buyers() -> None:
    R = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]]))
    model = RP3beta(n_neighbors=2).fit(R)
    assert model.similarity_[:, 2].nnz == 0 and model.similarity_[2].nnz == 0
    assert model.score_items(R[1:2]).nnz == 0


@pytest.mark.parametrize(
    "settings",
    [{"n_neighbors": 0}, {"n_neighbors": 2.5}, {"alpha": 0.0}, {"beta": -0.1}],
)
def test_settings_are_validated_in_fit(settings) -> None:
    with pytest.raises(ValueError, match=next(iter(settings))):
        RP3beta(**settings).fit(sp.csr_matrix(X))
