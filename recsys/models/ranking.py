"""Turning score rows into ranked recommendations, and product popularity.

Works on integer rows and columns; the pipeline maps them to customer and product ids.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from recsys.models.topk import topk_dense, topk_sparse

__all__ = ["popularity", "top_n"]


def _exclude_sparse(scores: sp.csr_matrix, exclude: sp.spmatrix) -> sp.csr_matrix:
    # x - x * 1 is exactly 0.0 in floating point, so excluded entries vanish exactly.
    mask = sp.csr_matrix(exclude, copy=True)
    mask.data = (mask.data != 0).astype(np.float64)
    cleaned = (scores - scores.multiply(mask)).tocsr()
    cleaned.eliminate_zeros()
    return cleaned


def top_n(
    scores: sp.spmatrix | np.ndarray,
    n: int,
    *,
    exclude: sp.spmatrix | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` best-scored columns of every row (vectorised over rows).

    Parameters
    ----------
    scores : {csr_matrix, ndarray} of shape (m, n_products)
        Only strictly positive scores are candidates.
    n : int
        Recommendations per row (>= 0).
    exclude : sparse matrix of shape (m, n_products), optional
        Its nonzeros are removed from the candidates (e.g. products already purchased).

    Returns
    -------
    index : ndarray of shape (m, n), int64
        Columns by descending score, ties broken by lower column index; ``-1`` padding.
    score : ndarray of shape (m, n), float64
        ``nan`` padding.

    Examples
    --------
    >>> s = sp.csr_matrix(np.array([[0.5, 0.0, 0.9, 0.5], [0.0, 0.0, 0.0, 0.0]]))
    >>> idx, val = top_n(s, 3)
    >>> idx.tolist()
    [[2, 0, 3], [-1, -1, -1]]
    >>> val[0].tolist()
    [0.9, 0.5, 0.5]
    >>> top_n(s, 2, exclude=sp.csr_matrix(np.array([[0, 0, 1, 0], [0, 0, 0, 0]])))[0].tolist()
    [[0, 3], [-1, -1]]
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be an integer >= 0, got {n!r}")
    if exclude is not None and exclude.shape != scores.shape:
        raise ValueError(f"exclude has shape {exclude.shape}, scores have shape {scores.shape}")
    if sp.issparse(scores):
        matrix = sp.csr_matrix(scores, dtype=np.float64)
        if exclude is not None:
            matrix = _exclude_sparse(matrix, exclude)
        values, index = topk_sparse(matrix, n, pad=np.nan)
    else:
        dense = np.asarray(scores, dtype=np.float64)
        if dense.ndim != 2:
            raise ValueError(f"scores must be 2-D, got shape {dense.shape}")
        if exclude is not None:
            ex = sp.coo_matrix(exclude)
            hit = ex.data != 0
            dense = dense.copy()
            dense[ex.row[hit], ex.col[hit]] = 0.0
        values, index = topk_dense(dense, n, pad=np.nan)
    return index, values


def popularity(X: sp.spmatrix) -> np.ndarray:
    """Number of customers (rows) with a nonzero value for each product (column), int64.

    Examples
    --------
    >>> popularity(sp.csr_matrix(np.array([[1.0, 0.0], [3.0, 2.0]]))).tolist()
    [2, 1]
    """
    csr = sp.csr_matrix(X)
    csr.sum_duplicates()
    return np.bincount(csr.indices[csr.data != 0], minlength=csr.shape[1]).astype(np.int64)
