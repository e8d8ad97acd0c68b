"""EASE: Steck's closed-form linear item-item model (a dense product x product matrix)."""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from scipy import linalg
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from recsys.errors import ModelTooLargeError
from recsys.models.base import RecommenderMixin, check_matrix

__all__ = ["EASE"]

# Customer rows per block of the Gram matrix: each block's sparse product stays small.
_GRAM_BLOCK_ROWS = 50_000
# Rows per block when mirroring the inverse's lower triangle.
_MIRROR_BLOCK = 1024


@numba.njit(cache=True, nogil=True)
def _add_csr(dense: np.ndarray, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
    for row in range(indptr.size - 1):
        for p in range(indptr[row], indptr[row + 1]):
            dense[row, indices[p]] += data[p]


def _dense_gram(X: Any) -> np.ndarray:
    """``X^T X`` as a dense float64 array, summed block of customers by block: the sparse
    product of a whole large log (and its dense copy) would hold the matrix twice or more."""
    n_items = X.shape[1]
    gram = np.zeros((n_items, n_items), dtype=np.float64)
    for start in range(0, X.shape[0], _GRAM_BLOCK_ROWS):
        block = X[start : start + _GRAM_BLOCK_ROWS]
        part = block.T @ block  # symmetric: its CSR and CSC arrays are the same
        part = part if part.format in ("csr", "csc") else part.tocsr()
        _add_csr(gram, part.indptr, part.indices, part.data)
    return gram


def _ease_weights(gram: np.ndarray) -> np.ndarray:
    """``B = I - P / diag(P)`` with ``P = gram^-1`` (``gram`` C-ordered, symmetric, positive
    definite), computed in ``gram``'s own memory: Cholesky factor and inverse in place
    (LAPACK ``potrf``, ``potri``), the other triangle mirrored block by block. One n x n array
    instead of the five that a solve against the identity and the division take.
    """
    n = gram.shape[0]
    # LAPACK works on Fortran order: the transposed view of a symmetric C array is the same
    # matrix without a copy; its lower triangle is the C array's upper one.
    factor, info = linalg.lapack.dpotrf(gram.T, lower=1, clean=0, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(
            f"EASE: the regularised Gram matrix is not positive definite ({info})"
        )
    inverse, info = linalg.lapack.dpotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"EASE: the Gram matrix could not be inverted ({info})")
    if not np.shares_memory(inverse, gram):  # an older scipy copied: take its result
        gram[...] = inverse.T
    for start in range(0, n, _MIRROR_BLOCK):
        stop = min(start + _MIRROR_BLOCK, n)
        block = gram[start:stop, start:stop]
        lower = np.tril_indices(stop - start, -1)
        block[lower] = block.T[lower]
        gram[stop:, start:stop] = gram[start:stop, stop:].T
    np.divide(gram, -np.diag(gram)[None, :], out=gram)  # (the diagonal is read first)
    gram[np.diag_indices(n)] = 0.0
    return gram


class EASE(RecommenderMixin, BaseEstimator):
    """Embarrassingly Shallow Autoencoder (Steck, 2019): a closed-form item-item linear model.

    ``P = (X^T X + l2 I)^-1`` and ``B = I - P / diag(P)`` (column ``j`` divided by ``P_jj``), so
    ``B_jj = 0``; the score of a customer row ``x`` is ``x @ B``. ``B`` is a *dense* product x
    product matrix (8 bytes per cell), so ``fit`` refuses catalogues of more than ``max_items``
    products (default 20,000, i.e. 3.2 GB) with :class:`ModelTooLargeError`. ``score_items`` returns
    a dense ``m x n_products`` array for the given rows only: callers pass chunks of customers.
    Scores can be negative; only positive ones are recommended by
    :func:`recsys.models.ranking.top_n`.

    Parameters
    ----------
    l2 : float, default 200.0
        Ridge regularisation added to the diagonal of the Gram matrix (> 0).
    max_items : int, default 20000
        Largest catalogue accepted.

    Attributes
    ----------
    coef_ : ndarray of shape (n_products, n_products)
        The item-item weights ``B`` (zero diagonal).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = sp.csr_matrix([[1, 1, 0], [1, 1, 0], [1, 0, 0], [0, 0, 1]])
    >>> int(EASE(l2=1.0).fit(X).score_items(X[2:3]).argmax())
    1
    """

    def __init__(self, *, l2: float = 200.0, max_items: int = 20_000) -> None:
        self.l2 = l2
        self.max_items = max_items

    def fit(self, X: Any, y: None = None) -> EASE:
        """Solve for the item-item weights.

        Parameters
        ----------
        X : sparse matrix of shape (n_customers, n_products)
            Weighted training purchases.
        y : None
            Ignored.

        Returns
        -------
        self : EASE

        Raises
        ------
        ModelTooLargeError
            When ``X`` has more than ``max_items`` columns.
        """
        if not float(self.l2) > 0:
            raise ValueError(f"l2={self.l2!r} must be > 0.")
        X = check_matrix(self, X, reset=True)
        n_items = X.shape[1]
        if n_items > self.max_items:
            gigabytes = 8 * n_items**2 / 1e9
            raise ModelTooLargeError(
                f"EASE needs a dense {n_items:,} x {n_items:,} product matrix "
                f"({gigabytes:.1f} GB); the catalogue has more than "
                f"max_items={self.max_items:,} products. Use user_knn or item_knn, or restrict "
                "the catalogue (e.g. to active products)."
            )
        gram = _dense_gram(X)
        gram[np.diag_indices(n_items)] += float(self.l2)
        self.coef_ = _ease_weights(gram)
        return self

    def score_items(self, X_rows: Any, *, rows: Any = None) -> np.ndarray:
        """Dense scores ``X_rows @ coef_`` for the given rows.

        Parameters
        ----------
        X_rows : sparse matrix of shape (m, n_products)
            Weighted purchases of the query customers.
        rows : array-like, optional
            Ignored; accepted for a common interface.

        Returns
        -------
        scores : ndarray of shape (m, n_products)
        """
        check_is_fitted(self, "coef_")
        X_rows = check_matrix(self, X_rows, reset=False)
        return np.asarray(X_rows @ self.coef_)
