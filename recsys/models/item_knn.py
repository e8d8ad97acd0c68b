"""Item-kNN: cosine similarity between products, top ``n_neighbors`` per product."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from recsys.models.base import ItemSimilarityMixin, RecommenderMixin, check_matrix

__all__ = ["ItemKNN"]


class ItemKNN(ItemSimilarityMixin, RecommenderMixin, BaseEstimator):
    """Item-based nearest neighbours: cosine similarity between products' customer columns.

    ``sim(i, j) = x_i . x_j / (|x_i| |x_j| + shrink)`` over the product columns of ``X``; the
    diagonal is zero and each product keeps its ``n_neighbors`` most similar products (ties by
    lower column index) in a sparse product x product matrix ``S``. The score of product ``j``
    for a customer row ``x`` is ``(x @ S)[j] = sum_i x_i sim(i, j)`` over the neighbours ``j``
    kept by each bought product ``i``.

    Parameters
    ----------
    n_neighbors : int, default 50
        Similar products kept per product.
    shrink : float, default 0.0
        Added to the cosine denominator; damps similarities supported by few customers.

    Attributes
    ----------
    similarity_ : csr_matrix of shape (n_products, n_products)
        Row ``i`` holds product ``i``'s kept neighbours and their similarities.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = sp.csr_matrix([[1, 1, 0], [1, 1, 0], [1, 0, 0], [0, 0, 1]])
    >>> model = ItemKNN(n_neighbors=1).fit(X)
    >>> int(model.score_items(X[2:3]).toarray().argmax())
    1
    """

    def __init__(self, *, n_neighbors: int = 50, shrink: float = 0.0) -> None:
        self.n_neighbors = n_neighbors
        self.shrink = shrink

    def fit(self, X: Any, y: None = None) -> ItemKNN:
        """Compute the sparse top-``n_neighbors`` product similarity matrix.

        Parameters
        ----------
        X : sparse matrix of shape (n_customers, n_products)
            Weighted training purchases.
        y : None
            Ignored.

        Returns
        -------
        self : ItemKNN
        """
        k = self.n_neighbors
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"n_neighbors={self.n_neighbors!r} must be a whole number >= 1.")
        if not self.shrink >= 0:
            raise ValueError(f"shrink={self.shrink!r} must be >= 0.")
        X = check_matrix(self, X, reset=True)
        n_items = X.shape[1]
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())
        gram = (X.T @ X).tocoo()
        row, col, dot = gram.row, gram.col, gram.data
        keep = (row != col) & (dot > 0)
        row, col, dot = row[keep], col[keep], dot[keep]
        sim = dot / (norms[row] * norms[col] + self.shrink)
        # Top-k per row, vectorised: sort by (row, -similarity, column) and rank within rows.
        order = np.lexsort((col, -sim, row))
        row, col, sim = row[order], col[order], sim[order]
        first = np.searchsorted(row, row, side="left")
        top = (np.arange(len(row)) - first) < self.n_neighbors
        S = sp.csr_matrix((sim[top], (row[top], col[top])), shape=(n_items, n_items))
        S.sort_indices()
        self.similarity_ = S
        return self
