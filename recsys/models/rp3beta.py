"""RP3beta: a three-step random walk product -> customer -> product with a popularity penalty."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from recsys.models.base import ItemSimilarityMixin, RecommenderMixin, check_matrix
from recsys.models.topk import topk_sparse

__all__ = ["RP3beta"]

# Product rows of the similarity computed at once: a block is at most this many cells wide
# (block rows x products), so memory stays bounded whatever the catalogue (about 32 MB of
# float64 when a block is dense).
_BLOCK_CELLS = 4_000_000


def _row_stochastic(M: sp.csr_matrix, alpha: float) -> sp.csr_matrix:
    """Each row divided by its sum (a transition probability), then raised to ``alpha``."""
    sums = np.asarray(M.sum(axis=1)).ravel()
    scale = np.divide(1.0, sums, out=np.zeros_like(sums), where=sums > 0)
    P = sp.csr_matrix(sp.diags(scale) @ M)
    P.data = P.data**alpha
    return P


class RP3beta(ItemSimilarityMixin, RecommenderMixin, BaseEstimator):
    """Item-item graph model of Paudel et al. (2017), as tuned by Dacrema et al. (2019).

    With ``P_ui`` the customer -> product transition matrix (each customer row of ``X`` divided
    by its sum) and ``P_iu`` the product -> customer one (each product column of ``X`` divided by
    its sum), both raised element-wise to ``alpha``, the similarity of products ``i`` and ``j``
    is the probability of walking ``i -> customer -> j``, divided by the popularity of ``j``::

        W[i, j] = (P_iu @ P_ui)[i, j] / buyers[j] ** beta,   W[i, i] = 0

    Each product keeps its ``n_neighbors`` largest ``W[i, :]`` (ties by lower column); the score
    of a customer row ``x`` is ``x @ W``. ``beta = 0`` and ``alpha = 1`` is the plain P^3 walk;
    a larger ``beta`` recommends less popular products. ``W`` is computed a block of product rows
    at a time and pruned per block, so no dense product x product matrix is ever built.

    Parameters
    ----------
    n_neighbors : int, default 100
        Similar products kept per product.
    alpha : float, default 0.5
        Exponent of the transition probabilities (> 0).
    beta : float, default 0.4
        Popularity penalty (>= 0). The defaults (with k = 100) are the best of a grid on the
        validation splits of three real data sets (``bench/quality.py``).

    Attributes
    ----------
    similarity_ : csr_matrix of shape (n_products, n_products)
        Row ``i`` holds product ``i``'s kept neighbours ``j`` and ``W[i, j]``.
    popularity_ : ndarray of shape (n_products,)
        Buyers per product in the training matrix.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = sp.csr_matrix([[1, 1, 0], [1, 1, 0], [1, 0, 0], [0, 0, 1]])
    >>> model = RP3beta(n_neighbors=2, alpha=1.0, beta=0.0).fit(X)
    >>> int(model.score_items(X[2:3]).toarray().argmax())
    1
    """

    def __init__(self, *, n_neighbors: int = 100, alpha: float = 0.5, beta: float = 0.4) -> None:
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.beta = beta

    def _check_params(self) -> None:
        k = self.n_neighbors
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"n_neighbors={self.n_neighbors!r} must be a whole number >= 1.")
        if not float(self.alpha) > 0:
            raise ValueError(f"alpha={self.alpha!r} must be > 0.")
        if not float(self.beta) >= 0:
            raise ValueError(f"beta={self.beta!r} must be >= 0.")

    def fit(self, X: Any, y: None = None) -> RP3beta:
        """Compute the pruned product x product walk similarity.

        Parameters
        ----------
        X : sparse matrix of shape (n_customers, n_products)
            Weighted training purchases (non-negative).
        y : None
            Ignored.

        Returns
        -------
        self : RP3beta
        """
        self._check_params()
        X = check_matrix(self, X, reset=True)
        X.eliminate_zeros()
        n_items = X.shape[1]
        alpha = float(self.alpha)
        P_ui = _row_stochastic(X, alpha)
        P_iu = _row_stochastic(sp.csr_matrix(X.T), alpha)
        buyers = np.bincount(X.indices, minlength=n_items).astype(np.float64)
        penalty = 1.0 / np.maximum(buyers, 1.0) ** float(self.beta)
        k = min(int(self.n_neighbors), max(n_items - 1, 1))
        block = max(1, _BLOCK_CELLS // max(n_items, 1))
        rows, cols, vals = [], [], []
        for start in range(0, n_items, block):
            stop = min(start + block, n_items)
            W = sp.csr_matrix(P_iu[start:stop] @ P_ui)
            W = sp.csr_matrix(W.multiply(penalty[None, :]))
            diagonal = np.arange(start, stop)
            values, index = topk_sparse(W, k, exclude_cols=diagonal)
            keep = index >= 0
            rows.append(np.nonzero(keep)[0] + start)
            cols.append(index[keep])
            vals.append(values[keep])
        S = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_items, n_items),
        )
        S.sort_indices()
        self.similarity_ = S
        self.popularity_ = buyers
        return self
