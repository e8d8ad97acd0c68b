"""What every recommender in :mod:`recsys.models` shares: estimator tags and input checks.

Every model follows scikit-learn's estimator conventions: ``__init__`` only stores its keyword
arguments, ``fit(X, y=None)`` validates and learns attributes ending in ``_`` and returns
``self``, and ``score_items(X_rows, *, rows=None)`` returns an ``m x n_products`` score matrix
(CSR or a dense array for the given rows only) where larger means more recommended. ``X`` is
the weighted customer x product CSR matrix; ids are mapped by the caller
(:class:`~recsys.models.matrix.IdIndex`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["ItemSimilarityMixin", "RecommenderMixin", "binary_pattern", "check_matrix"]


class RecommenderMixin:
    """Tags shared by the models here: sparse, non-negative input; must be fitted first."""

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.requires_fit = True
        return tags


class ItemSimilarityMixin:
    """Scoring of the product x product models (item-kNN, RP3beta): ``X_rows @ similarity_``."""

    similarity_: sp.csr_matrix

    def score_items(self, X_rows: Any, *, rows: Any = None) -> sp.csr_matrix:
        """Scores ``X_rows @ similarity_``.

        Parameters
        ----------
        X_rows : sparse matrix of shape (m, n_products)
            Weighted purchases of the query customers.
        rows : array-like, optional
            Ignored (the query row itself is the evidence); accepted for a common interface.

        Returns
        -------
        scores : csr_matrix of shape (m, n_products)
        """
        check_is_fitted(self, "similarity_")
        X_rows = check_matrix(self, X_rows, reset=False)  # type: ignore[arg-type]
        return sp.csr_matrix(X_rows @ self.similarity_)


def check_matrix(estimator: BaseEstimator, X: Any, *, reset: bool) -> sp.csr_matrix:
    """Validate ``X`` (sparse or dense, non-negative) and return it as float64 CSR."""
    X = validate_data(estimator, X, accept_sparse="csr", dtype=np.float64, reset=reset)
    X = sp.csr_matrix(X)
    if X.nnz and X.data.min() < 0:
        raise ValueError(
            "Negative values in data: the customer x product matrix must hold counts, "
            "quantities or weights >= 0."
        )
    X.sort_indices()
    return X


def binary_pattern(X: sp.csr_matrix) -> sp.csr_matrix:
    """Binary copy of ``X``: 1 where a value is stored and non-zero."""
    B = X.copy()
    B.eliminate_zeros()
    B.data = np.ones_like(B.data)
    return B
