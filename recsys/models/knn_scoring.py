"""Top-n products from neighbour lists, with their support, in one compiled pass per row.

The batch and one-customer recommendation path of :class:`recsys.models.user_knn.UserKNN`:
for each query row, the similarity-weighted sum of its neighbours' rows (a dense accumulator
of length ``n_products``), the products it already holds excluded, the best ``n`` picked with the
rule of :func:`recsys.models.ranking.top_n` (higher score first, then lower column; only scores
``> 0``), and the number of neighbours who hold each pick.

It gives exactly what ``top_n(score_graph(graph), n, exclude=...)`` and ``support_graph`` give:
the neighbours are visited in ascending row order, the order in which scipy's sparse product
adds the rows of the sorted neighbour graph, so every score is the same sum, bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse as sp

__all__ = ["top_items"]


@numba.njit(cache=True, nogil=True)
def _top_items(
    sims: np.ndarray,
    weights: np.ndarray,
    idx: np.ndarray,
    x_indptr: np.ndarray,
    x_indices: np.ndarray,
    x_data: np.ndarray,
    q_indptr: np.ndarray,
    q_indices: np.ndarray,
    q_data: np.ndarray,
    exclude: bool,
    n_cols: int,
    out_items: np.ndarray,
    out_scores: np.ndarray,
    out_support: np.ndarray,
) -> None:
    m, k = idx.shape
    n = out_items.shape[1]
    acc = np.zeros(n_cols, dtype=np.float64)
    count = np.zeros(n_cols, dtype=np.int64)
    # seen[j] == row + 1 <=> product j was touched by this row's neighbours.
    seen = np.zeros(n_cols, dtype=np.int64)
    blocked = np.zeros(n_cols, dtype=np.int64)
    touched = np.empty(n_cols, dtype=np.int64)
    order = np.empty(k, dtype=np.int64)
    top_s = np.empty(n, dtype=np.float64)
    top_j = np.empty(n, dtype=np.int64)
    for i in range(m):
        # Valid neighbours (index >= 0, similarity != 0: the graph stores no zeros), ascending.
        n_nb = 0
        for t in range(k):
            if idx[i, t] >= 0 and sims[i, t] != 0.0:
                order[n_nb] = t
                n_nb += 1
        for a in range(1, n_nb):  # insertion sort by neighbour row (k is small)
            t = order[a]
            b = a
            while b > 0 and idx[i, order[b - 1]] > idx[i, t]:
                order[b] = order[b - 1]
                b -= 1
            order[b] = t
        if exclude:
            for p in range(q_indptr[i], q_indptr[i + 1]):
                if q_data[p] > 0:
                    blocked[q_indices[p]] = i + 1
        n_touched = 0
        for a in range(n_nb):
            t = order[a]
            v = idx[i, t]
            w = weights[i, t]
            for e in range(x_indptr[v], x_indptr[v + 1]):
                j = x_indices[e]
                if seen[j] != i + 1:
                    seen[j] = i + 1
                    acc[j] = w * x_data[e]
                    count[j] = 1
                    touched[n_touched] = j
                    n_touched += 1
                else:
                    acc[j] += w * x_data[e]
                    count[j] += 1
        filled = 0
        for a in range(n_touched):
            j = touched[a]
            s = acc[j]
            if not s > 0.0 or blocked[j] == i + 1:
                continue
            if filled == n and not (s > top_s[n - 1] or (s == top_s[n - 1] and j < top_j[n - 1])):
                continue
            pos = filled if filled < n else n - 1
            if filled < n:
                filled += 1
            while pos > 0 and (top_s[pos - 1] < s or (top_s[pos - 1] == s and top_j[pos - 1] > j)):
                top_s[pos] = top_s[pos - 1]
                top_j[pos] = top_j[pos - 1]
                pos -= 1
            top_s[pos] = s
            top_j[pos] = j
        for a in range(filled):
            out_items[i, a] = top_j[a]
            out_scores[i, a] = top_s[a]
            out_support[i, a] = count[top_j[a]]


def top_items(
    similarity: np.ndarray,
    index: np.ndarray,
    X: sp.csr_matrix,
    X_rows: sp.csr_matrix,
    n: int,
    *,
    exclude_purchased: bool = True,
    power: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``n`` best products of each query row from its neighbours.

    Parameters
    ----------
    similarity, index : ndarray of shape (m, k)
        ``kneighbors`` output (index ``-1`` = padding).
    X : csr_matrix of shape (n_customers, n_products)
        The training rows the neighbour indices point to (canonical: sorted, no duplicates).
    X_rows : csr_matrix of shape (m, n_products)
        The query rows (their positive entries are excluded when ``exclude_purchased``).
    n : int
        Products per row.
    exclude_purchased : bool, default=True
    power : float, default=1.0
        Each neighbour weighs ``similarity ** power``.

    Returns
    -------
    items : ndarray of shape (m, n), int64
        Columns by descending score, ties by lower column; ``-1`` padding.
    scores : ndarray of shape (m, n), float64
        ``nan`` padding.
    support : ndarray of shape (m, n), int64
        Neighbours holding each product; 0 padding.

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=float))
    >>> items, scores, support = top_items(np.array([[0.5, 0.25]]), np.array([[1, 2]]), X,
    ...                                    X[[0]], 2)
    >>> items.tolist(), scores.tolist(), support.tolist()
    ([[2, -1]], [[0.75, nan]], [[2, 0]])
    """
    m = index.shape[0]
    items = np.full((m, n), -1, dtype=np.int64)
    scores = np.full((m, n), np.nan, dtype=np.float64)
    support = np.zeros((m, n), dtype=np.int64)
    if m == 0 or n == 0:
        return items, scores, support
    Q = sp.csr_matrix(X_rows)
    sims = np.ascontiguousarray(similarity, dtype=np.float64)
    # Weights by numpy's power, as the sparse scoring path computes them: a compiled ``**``
    # may differ from it in the last bit on some CPUs, and the two paths must agree exactly.
    weights = sims if power == 1.0 else np.power(sims, float(power))
    _top_items(
        sims,
        np.ascontiguousarray(weights),
        np.ascontiguousarray(index, dtype=np.int64),
        X.indptr,
        X.indices,
        X.data,
        Q.indptr,
        Q.indices,
        np.asarray(Q.data, dtype=np.float64),
        bool(exclude_purchased),
        X.shape[1],
        items,
        scores,
        support,
    )
    return items, scores, support
