"""Baseline and alternative recommenders, with the same interface as
:class:`~recsys.models.user_knn.UserKNN`.

Every model here follows scikit-learn's estimator conventions: ``__init__`` only stores its
keyword arguments, ``fit(X, y=None)`` validates and learns attributes ending in ``_`` and returns
``self``, and ``score_items(X_rows, *, rows=None)`` returns an ``m x n_products`` score matrix
(CSR or a dense array for the given rows only) where larger means more recommended. ``X`` is
the weighted customer x product CSR matrix; ids are mapped by the caller
(:class:`~recsys.models.matrix.IdIndex`).

- :class:`Popularity`: share of training customers who bought each product, optionally within
  the query customer's segment.
- :class:`ItemKNN`: cosine similarity between products, top ``n_neighbors`` per product.
- :class:`EASE`: Steck's closed-form linear item-item model (dense item x item matrix).

:data:`MODELS` maps a model name to its class; :func:`make_model` builds one from settings.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy import linalg
from sklearn.base import BaseEstimator
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from recsys.errors import RecsysError

__all__ = [
    "EASE",
    "MODELS",
    "ItemKNN",
    "ModelTooLargeError",
    "Popularity",
    "SegmentPopularity",
    "make_model",
]

log = logging.getLogger(__name__)


class ModelTooLargeError(RecsysError, ValueError):
    """The catalogue is too large for a model that builds a dense product x product matrix."""


class _RecommenderMixin:
    """Tags shared by the models here: sparse, non-negative input; must be fitted first."""

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.sparse = True
        tags.input_tags.positive_only = True
        tags.requires_fit = True
        return tags


def _check_matrix(estimator: BaseEstimator, X: Any, *, reset: bool) -> sp.csr_matrix:
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


def _purchased(X: sp.csr_matrix) -> sp.csr_matrix:
    """Binary copy of ``X``: 1 where a value is stored and non-zero."""
    B = X.copy()
    B.eliminate_zeros()
    B.data = np.ones_like(B.data)
    return B


# --------------------------------------------------------------------------- popularity
class Popularity(_RecommenderMixin, BaseEstimator):
    """Recommend what most customers bought, globally or within the customer's segment.

    The score of a product is the share of training customers who bought it (a stored non-zero
    in ``X``), whatever the weighting. With ``by_segment=True`` the score is the share of the
    customer's *segment* who bought it plus the global share divided by ``n_customers + 1``: the
    second term only breaks ties between products equally popular in the segment, and lets
    products nobody in the segment bought follow, in global order. Customers with no known
    segment get the global share.

    Parameters
    ----------
    by_segment : bool, default False
        Rank by popularity within the customer's segment. ``fit`` then needs ``groups``.

    Attributes
    ----------
    popularity_ : ndarray of shape (n_products,)
        Share of training customers who bought each product.
    segments_ : ndarray of shape (n_segments,)
        Segment labels seen in ``fit`` (``by_segment=True`` only).
    segment_popularity_ : ndarray of shape (n_segments, n_products)
        Share of each segment's customers who bought each product.
    row_segments_ : ndarray of shape (n_customers,)
        Segment code of each training row (-1 = unknown), used when ``score_items`` gets ``rows``.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = sp.csr_matrix([[1, 0, 1], [1, 0, 0], [1, 1, 0]])
    >>> Popularity().fit(X).score_items(X[:1]).round(2).tolist()
    [[1.0, 0.33, 0.33]]
    """

    def __init__(self, *, by_segment: bool = False) -> None:
        self.by_segment = by_segment

    def fit(self, X: Any, y: None = None, *, groups: Any = None) -> Popularity:
        """Count buyers per product (and per segment when ``by_segment``).

        Parameters
        ----------
        X : sparse matrix of shape (n_customers, n_products)
            Training purchases (weighted or raw; only the non-zero pattern is used).
        y : None
            Ignored.
        groups : array-like of shape (n_customers,), optional
            Segment of each training row: labels or integer codes; missing values (None, NaN,
            or a negative integer code) mean "no segment". Required when ``by_segment``.

        Returns
        -------
        self : Popularity
        """
        X = _check_matrix(self, X, reset=True)
        bought = _purchased(X)
        n_customers = X.shape[0]
        self.n_customers_ = n_customers
        self.popularity_ = np.asarray(bought.sum(axis=0)).ravel() / n_customers
        if not self.by_segment:
            return self
        if groups is None:
            raise ValueError(
                "Popularity(by_segment=True).fit needs groups=: one segment per "
                "training row (use by_segment=False when there are no segments)."
            )
        labels = self._labels(groups)
        if len(labels) != n_customers:
            raise ValueError(f"groups has {len(labels)} values but X has {n_customers} rows.")
        categorical = pd.Categorical(labels)
        self.segments_ = np.asarray(categorical.categories, dtype=object)
        codes = np.asarray(categorical.codes, dtype=np.int64)
        known = codes >= 0
        indicator = sp.csr_matrix(
            (np.ones(int(known.sum())), (codes[known], np.flatnonzero(known))),
            shape=(len(self.segments_), n_customers),
        )
        sizes = np.bincount(codes[known], minlength=len(self.segments_))
        counts = (indicator @ bought).toarray()  # segments x products: segments are few
        self.segment_sizes_ = sizes
        self.segment_popularity_ = counts / np.maximum(sizes, 1)[:, None]
        self.row_segments_ = codes
        return self

    @staticmethod
    def _labels(groups: Any) -> pd.Series:
        """Groups as a Series where negative integer codes became missing."""
        labels = pd.Series(np.asarray(groups))
        if pd.api.types.is_integer_dtype(labels.dtype):
            labels = labels.where(labels >= 0)
        return labels

    def _query_codes(self, m: int, rows: Any, groups: Any) -> np.ndarray:
        """Segment code (-1 unknown) of each query row: from ``groups``, else from ``rows``."""
        if groups is not None:
            labels = self._labels(groups)
            if len(labels) != m:
                raise ValueError(f"groups has {len(labels)} values but X_rows has {m} rows.")
            return pd.Index(self.segments_).get_indexer(labels).astype(np.int64)
        if rows is not None:
            rows = np.asarray(rows, dtype=np.int64)
            if len(rows) != m:
                raise ValueError(f"rows has {len(rows)} values but X_rows has {m} rows.")
            return self.row_segments_[rows]
        return np.full(m, -1, dtype=np.int64)

    def score_items(self, X_rows: Any, *, rows: Any = None, groups: Any = None) -> np.ndarray:
        """Popularity scores for each query row.

        Parameters
        ----------
        X_rows : sparse matrix of shape (m, n_products)
            Query customers (only the shape is used: popularity is not personal).
        rows : array-like of shape (m,), optional
            Training row of each query customer; with ``by_segment`` their segments come from
            ``fit`` when ``groups`` is not given.
        groups : array-like of shape (m,), optional
            Segment of each query row (``by_segment`` only); overrides ``rows``.

        Returns
        -------
        scores : ndarray of shape (m, n_products)
        """
        check_is_fitted(self, "popularity_")
        X_rows = _check_matrix(self, X_rows, reset=False)
        m = X_rows.shape[0]
        scores = np.tile(self.popularity_, (m, 1))
        if not self.by_segment:
            return scores
        codes = self._query_codes(m, rows, groups)
        known = codes >= 0
        scores[known] /= self.n_customers_ + 1
        scores[known] += self.segment_popularity_[codes[known]]
        return scores


class SegmentPopularity(Popularity):
    """:class:`Popularity` with ``by_segment=True`` by default (registry entry).

    Examples
    --------
    >>> SegmentPopularity().by_segment
    True
    """

    def __init__(self, *, by_segment: bool = True) -> None:
        super().__init__(by_segment=by_segment)


# --------------------------------------------------------------------------- item-kNN
class ItemKNN(_RecommenderMixin, BaseEstimator):
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
        X = _check_matrix(self, X, reset=True)
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
        X_rows = _check_matrix(self, X_rows, reset=False)
        return sp.csr_matrix(X_rows @ self.similarity_)


# --------------------------------------------------------------------------- EASE
class EASE(_RecommenderMixin, BaseEstimator):
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
        X = _check_matrix(self, X, reset=True)
        n_items = X.shape[1]
        if n_items > self.max_items:
            gigabytes = 8 * n_items**2 / 1e9
            raise ModelTooLargeError(
                f"EASE needs a dense {n_items:,} x {n_items:,} product matrix "
                f"({gigabytes:.1f} GB); the catalogue has more than "
                f"max_items={self.max_items:,} products. Use user_knn or item_knn, or restrict "
                "the catalogue (e.g. to active products)."
            )
        gram = (X.T @ X).toarray()
        gram[np.diag_indices(n_items)] += float(self.l2)
        P = linalg.cho_solve(linalg.cho_factor(gram, lower=True), np.eye(n_items))
        B = -P / np.diag(P)[None, :]
        B[np.diag_indices(n_items)] = 0.0
        self.coef_ = B
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
        X_rows = _check_matrix(self, X_rows, reset=False)
        return np.asarray(X_rows @ self.coef_)


# --------------------------------------------------------------------------- registry
class _Registry(Mapping[str, type]):
    """Read-only name -> class mapping; some classes are imported on first use."""

    def __init__(self, eager: dict[str, type], lazy: dict[str, tuple[str, str]]) -> None:
        self._eager = eager
        self._lazy = lazy
        self._names = (*lazy, *eager)

    def __getitem__(self, name: str) -> type:
        if name in self._eager:
            return self._eager[name]
        if name in self._lazy:
            module, attr = self._lazy[name]
            return getattr(importlib.import_module(module), attr)
        raise KeyError(name)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"MODELS({', '.join(self._names)})"


MODELS: Mapping[str, type] = _Registry(
    eager={
        "item_knn": ItemKNN,
        "popularity": Popularity,
        "popularity_segment": SegmentPopularity,
        "ease": EASE,
    },
    lazy={"user_knn": ("recsys.models.user_knn", "UserKNN")},
)
"""Model name -> estimator class. ``user_knn`` is imported from :mod:`recsys.models.user_knn` on
use."""


def make_model(name: str, **params: Any) -> BaseEstimator:
    """Build the model registered as ``name`` with keyword ``params``.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`.
    **params
        Constructor arguments, e.g. ``n_neighbors=20``.

    Returns
    -------
    model : estimator
        Unfitted.

    Examples
    --------
    >>> make_model("ease", l2=50.0)
    EASE(l2=50.0)
    """
    if name not in MODELS:
        raise RecsysError(f"Unknown model {name!r}: choose one of {', '.join(MODELS)}.")
    return MODELS[name](**params)
