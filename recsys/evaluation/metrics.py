"""Ranking metrics at N of recommendation lists against held-out products.

Metric definitions (libraries disagree; these are the ones computed here). For a customer with
test set ``T`` (``|T| >= 1``), recommendations ``r_1..r_N`` (fewer when padded with -1) and
``hit_k = 1`` when ``r_k`` is in ``T``:

- ``precision@N = sum_k hit_k / N`` -- always divided by N, even when fewer than N products
  were recommended;
- ``recall@N = sum_k hit_k / |T|``;
- ``ndcg@N = DCG / IDCG`` with ``DCG = sum_k hit_k / log2(k + 1)`` and ``IDCG`` the DCG of
  ``min(N, |T|)`` hits at the top;
- ``map@N``: mean over customers of ``AP@N = sum_k hit_k * precision@k / min(N, |T|)``;
- ``hit_rate@N``: share of customers with at least one hit;
- ``coverage``: share of the catalogue (all columns) recommended to at least one customer;
- ``avg_popularity``: mean, over every recommended slot, of the share of training customers
  who bought the recommended product.

The per-customer metrics are averaged over customers with at least one test product.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

__all__ = [
    "PER_CUSTOMER_METRICS",
    "as_truth",
    "average_popularity",
    "catalogue_coverage",
    "per_customer_metrics",
    "ranking_metrics",
]

PER_CUSTOMER_METRICS: tuple[str, ...] = ("precision", "recall", "ndcg", "map", "hit_rate")


def as_truth(truth: sp.spmatrix) -> sp.csr_matrix:
    """Held-out products as canonical CSR (no explicit zeros, no duplicates, sorted)."""
    truth = sp.csr_matrix(truth, copy=True)
    truth.eliminate_zeros()
    truth.sum_duplicates()
    truth.sort_indices()
    return truth


def _hits(recs: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """Boolean ``m x N``: is ``recs[i, k]`` a test product of row ``i`` (vectorised lookup)."""
    m, n_items = truth.shape
    rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(truth.indptr))
    keys = rows * n_items + truth.indices  # sorted: CSR rows in order, sorted columns
    valid = (recs >= 0) & (recs < n_items)
    query = np.arange(m, dtype=np.int64)[:, None] * n_items + np.where(valid, recs, 0)
    if not len(keys):
        return np.zeros(recs.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
    return valid & (keys[pos] == query)


def _check_recs(recs: np.ndarray, truth: sp.spmatrix) -> np.ndarray:
    recs = np.asarray(recs)
    if recs.ndim != 2 or recs.shape[0] != truth.shape[0]:
        raise ValueError(
            f"recs must be 2-D with {truth.shape[0]} rows (one per truth row), "
            f"got shape {recs.shape}."
        )
    if recs.shape[1] < 1:
        raise ValueError("recs needs at least one column (N >= 1).")
    return recs.astype(np.int64, copy=False)


def per_customer_metrics(recs: np.ndarray, truth: sp.spmatrix) -> dict[str, np.ndarray]:
    """Precision, recall, NDCG, AP and hit of every row, at ``N = recs.shape[1]``.

    Parameters
    ----------
    recs : ndarray of shape (m, N), int
        Recommended columns by rank, distinct within a row, ``-1`` padded.
    truth : sparse matrix of shape (m, n_products)
        Test products (non-zeros) of each row.

    Returns
    -------
    dict of ndarray of shape (m,)
        Keys :data:`PER_CUSTOMER_METRICS` plus ``"n_test"``; ``nan`` for rows without test
        products. See the module docstring for the definitions.

    Examples
    --------
    >>> truth = sp.csr_matrix([[1, 0, 1, 0]])
    >>> m = per_customer_metrics(np.array([[2, 1, -1]]), truth)
    >>> float(m["precision"][0]), float(m["recall"][0]), float(m["map"][0])
    (0.3333333333333333, 0.5, 0.5)
    """
    truth = as_truth(truth)
    recs = _check_recs(recs, truth)
    n = recs.shape[1]
    hit = _hits(recs, truth).astype(np.float64)
    n_test = np.diff(truth.indptr)
    has_test = n_test > 0
    hits = hit.sum(axis=1)
    discount = 1.0 / np.log2(np.arange(2, n + 2))
    ideal = np.concatenate([[0.0], np.cumsum(discount)])[np.minimum(n, n_test)]
    precision_at_k = np.cumsum(hit, axis=1) / np.arange(1, n + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {
            "precision": hits / n,
            "recall": hits / n_test,
            "ndcg": (hit @ discount) / ideal,
            "map": (precision_at_k * hit).sum(axis=1) / np.minimum(n, n_test),
            "hit_rate": (hits > 0).astype(np.float64),
        }
    for values in out.values():
        values[~has_test] = np.nan
    out["n_test"] = n_test
    return out


def catalogue_coverage(recs: np.ndarray, n_products: int) -> float:
    """Share of the ``n_products`` columns recommended to at least one row.

    Examples
    --------
    >>> catalogue_coverage(np.array([[0, 1], [1, -1]]), 4)
    0.5
    """
    recs = np.asarray(recs)
    if n_products <= 0:
        return math.nan
    return float(np.unique(recs[recs >= 0]).size / n_products)


def average_popularity(recs: np.ndarray, popularity: np.ndarray) -> float:
    """Mean of ``popularity`` over every recommended slot (``nan`` when nothing is recommended).

    ``popularity`` is the share of training customers who bought each product.

    Examples
    --------
    >>> average_popularity(np.array([[0, 1], [0, -1]]), np.array([0.5, 0.25, 0.1]))
    0.4166666666666667
    """
    recs = np.asarray(recs)
    chosen = recs[recs >= 0]
    return float(np.asarray(popularity)[chosen].mean()) if chosen.size else math.nan


def ranking_metrics(
    recs: np.ndarray,
    truth: sp.spmatrix,
    *,
    popularity: np.ndarray | None = None,
) -> dict[str, float]:
    """All metrics at ``N = recs.shape[1]``, averaged over rows with test products.

    Parameters
    ----------
    recs : ndarray of shape (m, N), int
        Recommended columns by rank, distinct within a row, ``-1`` padded.
    truth : sparse matrix of shape (m, n_products)
        Test products (non-zeros) of each row; rows without any are ignored.
    popularity : ndarray of shape (n_products,), optional
        Share of training customers who bought each product; adds ``avg_popularity``.

    Returns
    -------
    dict
        ``precision@N``, ``recall@N``, ``ndcg@N``, ``map@N``, ``hit_rate@N``, ``coverage``,
        (``avg_popularity``), ``n_customers`` (rows with test products). Definitions in the
        module docstring.

    Examples
    --------
    >>> truth = sp.csr_matrix([[1, 0, 0, 0], [0, 0, 1, 1]])
    >>> recs = np.array([[0, 1], [1, 3]])
    >>> ranking_metrics(recs, truth)["precision@2"]
    0.5
    """
    truth = as_truth(truth)
    recs = _check_recs(recs, truth)
    n = recs.shape[1]
    per_row = per_customer_metrics(recs, truth)
    evaluated = per_row["n_test"] > 0
    out: dict[str, float] = {}
    for name in PER_CUSTOMER_METRICS:
        values = per_row[name][evaluated]
        out[f"{name}@{n}"] = float(values.mean()) if values.size else math.nan
    out["coverage"] = catalogue_coverage(recs[evaluated], truth.shape[1])
    if popularity is not None:
        out["avg_popularity"] = average_popularity(recs[evaluated], popularity)
    out["n_customers"] = float(evaluated.sum())
    return out
