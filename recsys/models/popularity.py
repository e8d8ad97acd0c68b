"""Popularity: recommend what most customers bought, globally or within the customer's segment."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from recsys.models.base import RecommenderMixin, binary_pattern, check_matrix

__all__ = ["Popularity"]


class Popularity(RecommenderMixin, BaseEstimator):
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
        X = check_matrix(self, X, reset=True)
        bought = binary_pattern(X)
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
        X_rows = check_matrix(self, X_rows, reset=False)
        m = X_rows.shape[0]
        scores = np.tile(self.popularity_, (m, 1))
        if not self.by_segment:
            return scores
        codes = self._query_codes(m, rows, groups)
        known = codes >= 0
        scores[known] /= self.n_customers_ + 1
        scores[known] += self.segment_popularity_[codes[known]]
        return scores
