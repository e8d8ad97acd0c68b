"""Exact, deterministic top-k selection over rows of similarities.

The building blocks behind :class:`recsys.models.user_knn.UserKNN` and
:func:`recsys.models.ranking.top_n`:

- :func:`topk_dense` selects the k largest values of every row of a dense chunk;
- :func:`topk_sparse` does the same for the stored values of a CSR chunk, with one vectorised
  segment sort (no Python loop over rows);
- :func:`cosine_topk` is the exact cosine neighbour search: a sparse product of L2-normalised rows
  with the top-k selection, either through ``sparse_dot_topn`` (selection inside a threaded C++
  product) or through scipy (sparse product, then :func:`topk_sparse` / :func:`topk_dense`).

Every selection breaks ties the same way: higher value first, then lower column index, so results
never depend on the backend, the chunking or the order in which a library visits the entries.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import scipy.sparse as sp

logger = logging.getLogger(__name__)

__all__ = ["HAVE_SPARSE_DOT_TOPN", "cosine_topk", "topk_dense", "topk_sparse"]

try:  # optional accelerator; the scipy path below is always available and tested to agree
    from sparse_dot_topn import sp_matmul_topn as _sp_matmul_topn

    HAVE_SPARSE_DOT_TOPN = True
except ImportError:  # pragma: no cover - depends on the environment
    _sp_matmul_topn = None
    HAVE_SPARSE_DOT_TOPN = False

Backend = Literal["scipy", "sparse_dot_topn"]

# A sparse chunk whose stored entries exceed this share of the dense chunk is densified before the
# selection: a partition over dense rows is linear, the segment sort is n log n. Measured on the
# 100k-customer benchmark: 1000 query rows at 39 % density, segment sort 18 s, densify +
# partition 1.1 s.
_DENSIFY_RATIO = 0.05
# Extra neighbours fetched from sparse_dot_topn beyond k + 1, so that ties at its cut are rare.
_SDT_MARGIN = 128


def _keep(values: np.ndarray, min_value: float) -> np.ndarray:
    """Candidates: strictly positive and at least ``min_value``."""
    return (values > 0) & (values >= min_value)


def _scatter(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, m: int, k: int, pad: float
) -> tuple[np.ndarray, np.ndarray]:
    """Write entries already ordered by (row, rank) into ``(values[m, k], index[m, k])``."""
    out_val = np.full((m, k), pad, dtype=np.float64)
    out_idx = np.full((m, k), -1, dtype=np.int64)
    if rows.size == 0 or k == 0:
        return out_val, out_idx
    counts = np.bincount(rows, minlength=m)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rank = np.arange(rows.size) - starts[rows]
    sel = rank < k
    out_val[rows[sel], rank[sel]] = vals[sel]
    out_idx[rows[sel], rank[sel]] = cols[sel]
    return out_val, out_idx


def _rank_entries(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, m: int, k: int, pad: float
) -> tuple[np.ndarray, np.ndarray]:
    # One stable segment sort for the whole chunk: by row, then value descending, then column.
    order = np.lexsort((cols, -vals, rows))
    return _scatter(rows[order], cols[order], vals[order], m, k, pad)


def topk_dense(
    values: np.ndarray,
    k: int,
    *,
    min_value: float = 0.0,
    exclude_cols: np.ndarray | None = None,
    pad: float = 0.0,
    overwrite: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest values of every row of a dense 2-D array.

    Parameters
    ----------
    values : ndarray of shape (m, n)
        Scores; not modified.
    k : int
        Number of entries kept per row.
    min_value : float, default=0.0
        Only values ``> 0`` and ``>= min_value`` are candidates.
    exclude_cols : ndarray of shape (m,), optional
        A column to skip in each row (``-1`` for none), e.g. the query customer itself.
    pad : float, default=0.0
        Value written where a row has fewer than ``k`` candidates (the index is ``-1`` there).
    overwrite : bool, default=False
        Allow writing into ``values`` (saves a copy of a temporary chunk).

    Returns
    -------
    top_values : ndarray of shape (m, k), float64
    top_index : ndarray of shape (m, k), int64
        Descending values; ties broken by lower column index.

    Examples
    --------
    >>> v, i = topk_dense(np.array([[0.5, 0.9, 0.5, 0.0]]), 3)
    >>> i.tolist(), v.tolist()
    ([[1, 0, 2]], [[0.9, 0.5, 0.5]])
    """
    m, n = values.shape
    if k == 0:
        return _scatter(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), m, 0, pad)
    if exclude_cols is not None and np.any(exclude_cols >= 0):
        if not overwrite:
            values = values.copy()
        hit = exclude_cols >= 0
        values[np.flatnonzero(hit), exclude_cols[hit]] = -np.inf
    if k < n:
        # The k-th largest value of each row; every entry >= it is a candidate (more than k only
        # when the k-th value is tied), so the final ordered pick is exact and deterministic.
        kth = np.partition(values, n - k, axis=1)[:, n - k]
        mask = _keep(values, min_value) & (values >= kth[:, None])
    else:
        mask = _keep(values, min_value)
    rows, cols = np.nonzero(mask)
    return _rank_entries(rows, cols, values[rows, cols], m, k, pad)


def topk_sparse(
    matrix: sp.csr_matrix | sp.csr_array,
    k: int,
    *,
    min_value: float = 0.0,
    exclude_cols: np.ndarray | None = None,
    pad: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest stored values of every row of a CSR matrix (see :func:`topk_dense`).

    Examples
    --------
    >>> m = sp.csr_matrix(np.array([[0.0, 0.2, 0.7], [0.3, 0.0, 0.3]]))
    >>> topk_sparse(m, 2)[1].tolist()
    [[2, 1], [0, 2]]
    """
    m, n = matrix.shape
    if matrix.nnz > _DENSIFY_RATIO * m * n and m * n <= 64 * 2**20:
        dense = matrix.toarray()
        return topk_dense(
            dense, k, min_value=min_value, exclude_cols=exclude_cols, pad=pad, overwrite=True
        )
    counts = np.diff(matrix.indptr)
    rows = np.repeat(np.arange(m), counts)
    cols = matrix.indices.astype(np.int64, copy=False)
    vals = np.asarray(matrix.data, dtype=np.float64)
    keep = _keep(vals, min_value)
    if exclude_cols is not None:
        keep &= cols != exclude_cols[rows]
    return _rank_entries(rows[keep], cols[keep], vals[keep], m, k, pad)


def cosine_topk(
    queries: sp.csr_matrix,
    base_t: sp.csr_matrix,
    k: int,
    *,
    self_cols: np.ndarray | None = None,
    min_value: float = 0.0,
    backend: Backend = "scipy",
    n_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k cosine similarities of L2-normalised query rows against a normalised base.

    Parameters
    ----------
    queries : csr_matrix of shape (m, p)
        L2-normalised rows.
    base_t : csr_matrix of shape (p, n)
        Transpose of the L2-normalised base rows (kept in CSR so the product needs no conversion).
    k : int
        Neighbours per row.
    self_cols : ndarray of shape (m,), optional
        Base row of each query (``-1`` for none); never returned as its own neighbour.
    min_value : float, default=0.0
        Only similarities ``> 0`` and ``>= min_value`` are kept.
    backend : {"scipy", "sparse_dot_topn"}
        ``sparse_dot_topn`` keeps only the top entries inside its C++ product. It breaks ties at
        the cut arbitrarily, so rows where the cut falls on a tie are recomputed with scipy.
    n_threads : int, optional
        Threads for ``sparse_dot_topn``.

    Returns
    -------
    similarity : ndarray of shape (m, k), descending, 0.0 padded
    index : ndarray of shape (m, k), -1 padded
    """
    m = queries.shape[0]
    if self_cols is None:
        self_cols = np.full(m, -1, dtype=np.int64)
    if backend == "sparse_dot_topn" and HAVE_SPARSE_DOT_TOPN and k > 0:
        return _cosine_topk_sdt(queries, base_t, k, self_cols, min_value, n_threads)
    product = (queries @ base_t).tocsr()
    # Cosine of a row with itself can round to 1 + 1e-16; scikit-learn clips, and so do we.
    np.minimum(product.data, 1.0, out=product.data)
    return topk_sparse(product, k, min_value=min_value, exclude_cols=self_cols)


def _cosine_topk_sdt(
    queries: sp.csr_matrix,
    base_t: sp.csr_matrix,
    k: int,
    self_cols: np.ndarray,
    min_value: float,
    n_threads: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    m = queries.shape[0]
    # sparse_dot_topn keeps the `fetch` largest values of each row (exact values, but an
    # arbitrary choice among entries tied at its cut). Fetching well past k (one slot for the
    # customer itself, plus a margin) means the k-th value is strictly above the cut in almost
    # every row; the margin costs little (measured: 22 -> 150 slots is +10 % time), and the few
    # rows where ties reach the cut are recomputed exactly below.
    fetch = k + 1 + _SDT_MARGIN
    threshold = 0.0 if min_value <= 0 else float(np.nextafter(min_value, -np.inf))
    product = _sp_matmul_topn(
        queries, base_t, top_n=fetch, threshold=threshold, sort=True, n_threads=n_threads
    )
    np.minimum(product.data, 1.0, out=product.data)
    counts = np.diff(product.indptr)
    if product.nnz == 0:
        return _scatter(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), m, k, 0.0)
    rows = np.repeat(np.arange(m), counts)
    cols = product.indices.astype(np.int64, copy=False)
    vals = product.data.astype(np.float64, copy=False)
    # Rows come sorted by value (descending, ties in sparse_dot_topn's order). Only entries at or
    # above each row's (k+1)-th value can make the top k once the customer itself is removed,
    # so the exact (value, index) sort runs on about k + 1 entries per row instead of `fetch`.
    last = np.maximum(product.indptr[1:] - 1, 0)
    row_min = np.where(counts > 0, vals[last], np.inf)
    at_k = np.minimum(product.indptr[:-1] + k, last)
    kth = np.where(counts > 0, vals[at_k], np.inf)
    keep = (vals >= kth[rows]) & _keep(vals, min_value) & (cols != self_cols[rows])
    sims, idx = _rank_entries(rows[keep], cols[keep], vals[keep], m, k, 0.0)
    # Exact unless the row was cut (all slots used) and its k-th value equals the cut value:
    # then entries tied with it but not fetched may have lower column indices.
    cut = (counts == fetch) & (idx[:, k - 1] >= 0) & (sims[:, k - 1] <= row_min)
    if cut.any():
        redo = np.flatnonzero(cut)
        logger.debug("recomputing %d rows whose ties reach the cut", redo.size)
        sims[redo], idx[redo] = _topk_above(
            queries[redo], base_t, k, self_cols[redo], min_value, floor=sims[redo, k - 1]
        )
    return sims, idx


def _topk_above(
    queries: sp.csr_matrix,
    base_t: sp.csr_matrix,
    k: int,
    self_cols: np.ndarray,
    min_value: float,
    *,
    floor: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of rows whose k-th value is known to be about ``floor``.

    Only entries within a relative 1e-9 of the floor or above are ranked, so the full product
    row is never sorted (the margin absorbs any last-bit difference between products).
    """
    product = (queries @ base_t).tocsr()
    np.minimum(product.data, 1.0, out=product.data)
    m = queries.shape[0]
    rows = np.repeat(np.arange(m), np.diff(product.indptr))
    cols = product.indices.astype(np.int64, copy=False)
    vals = product.data
    keep = (vals >= floor[rows] * (1.0 - 1e-9)) & _keep(vals, min_value)
    keep &= cols != self_cols[rows]
    return _rank_entries(rows[keep], cols[keep], vals[keep], m, k, 0.0)
