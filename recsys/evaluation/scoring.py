"""Scoring one fitted model: top-N lists per customer, in chunks, and :func:`evaluate_model`.

``recommend_rows`` is what the runner (:mod:`recsys.evaluation.runner`) calls once per
configuration; :func:`evaluate_model` is the same path for one model on two matrices (used by
the benches).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from recsys.evaluation.metrics import as_truth, ranking_metrics
from recsys.models.ranking import top_n

__all__ = ["check_n", "default_chunk_size", "evaluate_model", "popularity_share", "recommend_rows"]


def check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"n={n!r} must be a whole number >= 1.")


def default_chunk_size(n_products: int) -> int:
    # Dense score chunks of at most ~4M float64 (32 MB).
    return int(max(16, min(4096, 4_000_000 // max(n_products, 1))))


def fit_if_needed(model: Any, X_train: sp.csr_matrix, fit_params: Mapping[str, Any]) -> Any:
    """Instantiate a factory / class and fit it, or fit an unfitted estimator instance."""
    if isinstance(model, type) or not hasattr(model, "score_items"):
        return model().fit(X_train, **fit_params)
    try:
        check_is_fitted(model)
    except NotFittedError:
        model.fit(X_train, **fit_params)
    return model


def recommend_rows(
    model: Any,
    X: sp.csr_matrix,
    rows: np.ndarray,
    *,
    n: int,
    exclude: sp.csr_matrix | None,
    chunk_size: int,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Top-``n`` columns for the given training rows, scored chunk by chunk (``-1`` padded).

    ``progress(fraction)`` is called after each chunk with the share of rows scored.
    """
    recs = np.full((len(rows), n), -1, dtype=np.int64)
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        scores = model.score_items(X[chunk], rows=chunk)
        index, _ = top_n(scores, n, exclude=None if exclude is None else exclude[chunk])
        recs[start : start + len(chunk)] = index
        if progress is not None:
            progress((start + len(chunk)) / len(rows))
    return recs


def popularity_share(X: sp.csr_matrix) -> np.ndarray:
    bought = np.bincount(X.indices[X.data != 0], minlength=X.shape[1]).astype(np.float64)
    return bought / max(X.shape[0], 1)


def evaluate_model(
    model: Any,
    X_train: sp.spmatrix,
    X_test: sp.spmatrix,
    *,
    n: int = 10,
    exclude: sp.spmatrix | bool = True,
    chunk_size: int | None = None,
    fit_params: Mapping[str, Any] | None = None,
) -> dict[str, float]:
    """Recommend ``n`` products to every customer with test products and score the lists.

    Parameters
    ----------
    model : estimator, estimator class or factory
        A fitted model (used as is), an unfitted one, a class or a zero-argument callable
        returning one (fitted on ``X_train`` with ``fit_params``). It must offer
        ``score_items(X_rows, *, rows=None)`` like :class:`~recsys.models.user_knn.UserKNN`.
    X_train : sparse matrix of shape (n_customers, n_products)
        Weighted training matrix; its rows are the query rows.
    X_test : sparse matrix of shape (n_customers, n_products)
        Test products (non-zeros) per customer, same rows and columns as ``X_train``.
    n : int, default 10
        Recommendations per customer (N of the metrics).
    exclude : sparse matrix or bool, default True
        Products never recommended to a row: ``True`` = the non-zeros of ``X_train`` (already
        purchased), ``False`` = none, or a matrix shaped like ``X_train``.
    chunk_size : int, optional
        Customers scored at once (bounds memory); by default about 4M score cells per chunk.
    fit_params : mapping, optional
        Extra ``fit`` arguments, e.g. ``groups`` for segment popularity.

    Returns
    -------
    dict
        See :func:`ranking_metrics`; ``avg_popularity`` uses ``X_train``'s buyers.

    Examples
    --------
    >>> from recsys.models.popularity import Popularity
    >>> X_train = sp.csr_matrix([[1, 0, 0], [1, 1, 0], [1, 1, 0]])
    >>> X_test = sp.csr_matrix([[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    >>> evaluate_model(Popularity, X_train, X_test, n=1)["hit_rate@1"]
    1.0
    """
    check_n(n)
    X_train = sp.csr_matrix(X_train)
    X_test = sp.csr_matrix(X_test)
    if X_train.shape != X_test.shape:
        raise ValueError(f"X_train {X_train.shape} and X_test {X_test.shape} must align.")
    if isinstance(exclude, bool):
        exclude_matrix = X_train if exclude else None
    else:
        exclude_matrix = sp.csr_matrix(exclude)
    fitted = fit_if_needed(model, X_train, fit_params or {})
    rows = np.flatnonzero(np.diff(as_truth(X_test).indptr) > 0)
    recs = recommend_rows(
        fitted,
        X_train,
        rows,
        n=n,
        exclude=exclude_matrix,
        chunk_size=chunk_size or default_chunk_size(X_train.shape[1]),
    )
    return ranking_metrics(recs, X_test[rows], popularity=popularity_share(X_train))
