"""User-based k-nearest-neighbour collaborative filtering on CSR rows (scikit-learn conventions).

The estimator sees integer rows of a weighted customer x product matrix; the caller maps ids
(:class:`recsys.models.matrix.IdIndex`). Similarity is ``1 - distance`` for cosine and
``1 / (1 + distance)`` for the other metrics. Every metric runs on one exact compiled kernel over
an inverted index built at fit time and saved with the model
(:mod:`recsys.models.knn_kernel`), tested to agree with
``NearestNeighbors(algorithm="brute")``.
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from recsys.models import knn_kernel, knn_scoring
from recsys.params import METRICS

logger = logging.getLogger(__name__)

__all__ = ["METRICS", "UserKNN", "neighbors_to_graph"]

# The kernel implements exactly the metrics the settings offer.
assert set(METRICS) == set(knn_kernel.METRICS)


def _n_threads(n_jobs: int | None) -> int:
    # scikit-learn's meaning of n_jobs (None/1 = one, -1 = all cores, -2 = all but one).
    if n_jobs is None or n_jobs == 1:
        return 1
    n = n_jobs if n_jobs > 0 else (os.cpu_count() or 1) + 1 + n_jobs
    return max(n, 1)


def neighbors_to_graph(
    similarity: np.ndarray, index: np.ndarray, n_customers: int
) -> sp.csr_matrix:
    """Sparse ``m x n_customers`` matrix of neighbour similarities from ``kneighbors`` output.

    Examples
    --------
    >>> g = neighbors_to_graph(np.array([[0.9, 0.0]]), np.array([[2, -1]]), 3)
    >>> g.toarray().tolist()
    [[0.0, 0.0, 0.9]]
    """
    m, k = index.shape
    valid = index >= 0
    counts = valid.sum(axis=1)
    indptr = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    graph = sp.csr_matrix(
        (similarity[valid].astype(np.float64), index[valid], indptr), shape=(m, n_customers)
    )
    graph.sort_indices()
    return graph


class UserKNN(BaseEstimator):
    """User-based k-nearest-neighbour recommender.

    Parameters
    ----------
    n_neighbors : int, default=20
        Neighbours per customer.
    metric : {"cosine", "euclidean", "manhattan"}, default="cosine"
    min_similarity : float, default=0.0
        Neighbours with a similarity below it are dropped (as are those with similarity <= 0).
        Must be in ``[0, 1)``.
    similarity_power : float, default=1.0
        Scores weight each neighbour by ``similarity ** similarity_power``: above 1, the
        closest neighbours count for more (with a larger k this often ranks better; tune it).
    shrink : float, default=0.0
        Cosine only: each similarity is multiplied by ``n_common / (n_common + shrink)``, where
        ``n_common`` is the number of products the two customers share, so that a neighbour
        sharing one product is not "identical". 0 = none.
    asymmetry : float, default=0.5
        Cosine only: the asymmetric cosine ``u.v / (|u|^(2 a) |v|^(2 (1 - a)))`` of the query
        ``u`` and neighbour ``v``, with ``a`` in ``[0, 1]``; 0.5 is plain cosine, above it the
        neighbour's own size counts less (large baskets are not penalised as much).
    popularity_penalty : float, default=0.0
        A product's score is divided by its number of buyers ** ``popularity_penalty`` (as
        RP3beta's beta does), so that the long tail gets its share; 0 = none.
    chunk_size : int, default=8192
        Query rows searched together by :meth:`iter_kneighbors`; bounds the memory of batch work
        (``rows x k`` results). Results do not depend on it.
    n_jobs : int, optional
        Threads of the neighbour search; scikit-learn's meaning: ``None`` = 1, ``-1`` = all
        cores. Results do not depend on it.

    Attributes
    ----------
    X_ : csr_matrix of shape (n_customers, n_products)
        The (weighted) training rows.
    index_ : KernelIndex
        The inverted index and row norms the kernel searches (built by ``fit``, pickled with
        the model).
    n_samples_fit_ : int
    n_features_in_ : int

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=float))
    >>> model = UserKNN(n_neighbors=1).fit(X)
    >>> sim, idx = model.kneighbors(X[[0]], rows=np.array([0]))
    >>> idx.tolist(), sim.round(3).tolist()
    ([[1]], [[0.816]])
    >>> model.score_items(X[[0]], rows=np.array([0])).toarray().round(3).tolist()
    [[0.816, 0.816, 0.816]]
    """

    def __init__(
        self,
        *,
        n_neighbors: int = 20,
        metric: str = "cosine",
        min_similarity: float = 0.0,
        similarity_power: float = 1.0,
        shrink: float = 0.0,
        asymmetry: float = 0.5,
        popularity_penalty: float = 0.0,
        chunk_size: int = 8192,
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.min_similarity = min_similarity
        self.similarity_power = similarity_power
        self.shrink = shrink
        self.asymmetry = asymmetry
        self.popularity_penalty = popularity_penalty
        self.chunk_size = chunk_size
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.requires_fit = True
        return tags

    # --- fitting ---------------------------------------------------------------------------
    def _validate_params(self) -> None:
        k = self.n_neighbors
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f"n_neighbors must be an integer >= 1, got {k!r}")
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        s = self.min_similarity
        if not isinstance(s, numbers.Real) or isinstance(s, bool) or not 0.0 <= s < 1.0:
            raise ValueError(f"min_similarity must be a number in [0, 1), got {s!r}")
        p = self.similarity_power
        if not isinstance(p, numbers.Real) or isinstance(p, bool) or not 0.0 < p <= 10.0:
            raise ValueError(f"similarity_power must be a number in (0, 10], got {p!r}")
        h = self.shrink
        if not isinstance(h, numbers.Real) or isinstance(h, bool) or not 0.0 <= h < math.inf:
            raise ValueError(f"shrink must be a finite number >= 0, got {h!r}")
        a = self.asymmetry
        if not isinstance(a, numbers.Real) or isinstance(a, bool) or not 0.0 <= a <= 1.0:
            raise ValueError(f"asymmetry must be a number in [0, 1], got {a!r}")
        if self.metric != "cosine" and (h != 0.0 or a != 0.5):
            raise ValueError(
                f"shrink and asymmetry apply to metric='cosine' only, not {self.metric!r}"
            )
        b = self.popularity_penalty
        if not isinstance(b, numbers.Real) or isinstance(b, bool) or not 0.0 <= b <= 2.0:
            raise ValueError(f"popularity_penalty must be a number in [0, 2], got {b!r}")
        c = self.chunk_size
        if not isinstance(c, numbers.Integral) or isinstance(c, bool) or c < 1:
            raise ValueError(f"chunk_size must be an integer >= 1, got {c!r}")

    def fit(self, X: sp.csr_matrix, y: object = None) -> UserKNN:
        """Index the training rows (the inverted index of the neighbour kernel).

        Parameters
        ----------
        X : {csr_matrix, ndarray} of shape (n_customers, n_products)
            Weighted interactions.
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=True)
        X = sp.csr_matrix(X)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        if self.metric == "manhattan" and X.nnz and X.data.min() < 0:
            raise ValueError("metric='manhattan' needs non-negative values")
        self.index_ = knn_kernel.build_index(X)
        # The training rows share the index's CSR arrays (one copy in memory and on disk).
        self.X_ = self.index_.csr()
        self.n_samples_fit_ = X.shape[0]
        buyers = np.bincount(X.indices, minlength=X.shape[1]).astype(np.float64)
        self.item_weights_ = (
            None
            if self.popularity_penalty == 0
            else np.maximum(buyers, 1.0) ** -float(self.popularity_penalty)
        )
        self.score_X_ = self._scoring_rows()
        return self

    def _scoring_rows(self) -> sp.csr_matrix:
        """The training rows scores are summed from: ``X_``, each product's column scaled by its
        popularity penalty (the neighbour search keeps using the unscaled rows)."""
        weights = getattr(self, "item_weights_", None)
        if weights is None:
            return self.X_
        X = self.X_
        return sp.csr_matrix((X.data * weights[X.indices], X.indices, X.indptr), shape=X.shape)

    # The training rows are the index's CSR arrays: pickle them once (with the index).
    def __getstate__(self) -> dict:
        state = dict(super().__getstate__())  # a copy: object.__getstate__ gives __dict__ itself
        if "index_" in state:
            state.pop("X_", None)
        state.pop("score_X_", None)  # rebuilt from X_ and item_weights_ on load
        return state

    def __setstate__(self, state: dict) -> None:
        # Models saved before shrink and asymmetry existed searched with plain cosine.
        state = {"shrink": 0.0, "asymmetry": 0.5, "popularity_penalty": 0.0, **state}
        super().__setstate__(state)
        if "index_" in state:
            self.X_ = self.index_.csr()
        if hasattr(self, "X_"):
            self.score_X_ = self._scoring_rows()

    # --- queries ---------------------------------------------------------------------------
    def _check_query(self, X_rows: object, rows: object) -> tuple[sp.csr_matrix, np.ndarray]:
        check_is_fitted(self)
        Q = validate_data(self, X_rows, accept_sparse="csr", dtype=np.float64, reset=False)
        Q = sp.csr_matrix(Q)
        m = Q.shape[0]
        if rows is None:
            self_rows = np.full(m, -1, dtype=np.int64)
        else:
            self_rows = np.asarray(rows, dtype=np.int64).ravel()
            if self_rows.shape != (m,):
                raise ValueError(
                    f"rows must have one entry per query row ({m}), got shape {np.shape(rows)}"
                )
            if (self_rows >= self.n_samples_fit_).any() or (self_rows < -1).any():
                raise ValueError("rows contains an index outside the training rows")
        return Q, self_rows

    def _k(self, n_neighbors: int | None) -> int:
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if not isinstance(k, numbers.Integral) or isinstance(k, bool) or k < 1:
            raise ValueError(f"n_neighbors must be an integer >= 1, got {k!r}")
        return int(k)

    def _search(
        self, Q: sp.csr_matrix, self_rows: np.ndarray, k: int, threads: int
    ) -> tuple[np.ndarray, np.ndarray]:
        return knn_kernel.kneighbors(
            self.index_,
            Q,
            k,
            metric=self.metric,
            self_rows=self_rows,
            min_similarity=float(self.min_similarity),
            shrink=float(self.shrink),
            alpha=float(self.asymmetry),
            n_threads=threads,
        )

    def kneighbors(
        self,
        X_rows: sp.csr_matrix,
        *,
        rows: np.ndarray | None = None,
        n_neighbors: int | None = None,
        n_jobs: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The most similar training customers of each query row.

        Parameters
        ----------
        X_rows : csr_matrix of shape (m, n_products)
            Query rows, weighted like the training rows.
        rows : ndarray of shape (m,), optional
            Training row of each query (``-1`` or ``None`` for new customers), so that a
            customer is never its own neighbour.
        n_neighbors : int, optional
            Defaults to ``self.n_neighbors``.
        n_jobs : int, optional
            Threads for this call (scikit-learn's meaning); defaults to ``self.n_jobs``. Lets
            a batch use every core without changing a shared model.

        Returns
        -------
        similarity : ndarray of shape (m, k), float64
            Descending; ties broken by lower training row. ``0.0`` padding.
        index : ndarray of shape (m, k), int64
            Training rows; ``-1`` padding where fewer than ``k`` neighbours have a similarity
            ``> 0`` and ``>= min_similarity``.
        """
        Q, self_rows = self._check_query(X_rows, rows)
        threads = _n_threads(self.n_jobs if n_jobs is None else n_jobs)
        return self._search(Q, self_rows, self._k(n_neighbors), threads)

    def iter_kneighbors(
        self,
        X_rows: sp.csr_matrix,
        *,
        rows: np.ndarray | None = None,
        n_neighbors: int | None = None,
        block_size: int | None = None,
        n_jobs: int | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """:meth:`kneighbors` block by block of ``block_size`` query rows, in order.

        The next block is searched in a background thread (the kernel releases the GIL) while
        the caller works on the current one (scoring, writing), so batch work keeps every core
        busy; memory stays at two blocks of ``rows x k`` results. ``block_size`` defaults to
        ``chunk_size``.
        """
        Q, self_rows = self._check_query(X_rows, rows)
        k = self._k(n_neighbors)
        threads = _n_threads(self.n_jobs if n_jobs is None else n_jobs)
        m = Q.shape[0]
        size = max(1, int(block_size or self.chunk_size))
        blocks = [slice(s, min(s + size, m)) for s in range(0, m, size)]
        if len(blocks) < 2:
            for b in blocks:
                yield self._search(Q[b], self_rows[b], k, threads)
            return
        with ThreadPoolExecutor(max_workers=1) as ahead:
            pending: Future = ahead.submit(
                self._search, Q[blocks[0]], self_rows[blocks[0]], k, threads
            )
            for nxt in [*blocks[1:], None]:
                done = pending.result()
                if nxt is not None:
                    pending = ahead.submit(self._search, Q[nxt], self_rows[nxt], k, threads)
                yield done

    def top_items(
        self,
        similarity: np.ndarray,
        index: np.ndarray,
        X_rows: sp.csr_matrix,
        n: int,
        *,
        exclude_purchased: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-``n`` products, scores and support of query rows from their neighbour lists.

        Exactly ``top_n(score_graph(graph), n, exclude=...)`` and the matching
        ``support_graph`` counts, in one compiled pass (see
        :func:`recsys.models.knn_scoring.top_items`); ``nan`` / ``-1`` / 0 padding.
        """
        check_is_fitted(self)
        return knn_scoring.top_items(
            similarity,
            index,
            self.score_X_,
            X_rows,
            n,
            exclude_purchased=exclude_purchased,
            power=float(self.similarity_power),
        )

    def neighbor_graph(
        self, X_rows: sp.csr_matrix, *, rows: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Sparse ``m x n_customers`` matrix holding each query's neighbour similarities."""
        sims, idx = self.kneighbors(X_rows, rows=rows)
        return neighbors_to_graph(sims, idx, self.n_samples_fit_)

    def score_graph(self, graph: sp.csr_matrix) -> sp.csr_matrix:
        """Scores from a neighbour graph: ``graph ** similarity_power @ X_`` (with each
        product's column divided by its buyers ** ``popularity_penalty``).

        Reuse one graph for scores and support: the neighbour search is most of the cost.
        """
        check_is_fitted(self)
        graph = sp.csr_matrix(graph)
        if self.similarity_power != 1.0:
            graph = graph.power(self.similarity_power)
        return (graph @ self.score_X_).tocsr()

    def support_graph(self, graph: sp.csr_matrix) -> sp.csr_matrix:
        """Support from a neighbour graph: how many of its neighbours bought each product."""
        check_is_fitted(self)
        graph = sp.csr_matrix(graph)
        binary = sp.csr_matrix(
            ((graph.data != 0).astype(np.float64), graph.indices, graph.indptr), shape=graph.shape
        )
        X = self.X_
        bought = sp.csr_matrix((np.ones(X.nnz), X.indices, X.indptr), shape=X.shape)
        return (binary @ bought).tocsr()

    def score_items(
        self, X_rows: sp.csr_matrix, *, rows: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Similarity-weighted sum of the neighbours' (weighted) values, ``m x n_products``.

        Named so that ``score(X, y)`` keeps scikit-learn's meaning (a goodness-of-fit number).
        """
        return self.score_graph(self.neighbor_graph(X_rows, rows=rows))

    def support(self, X_rows: sp.csr_matrix, *, rows: np.ndarray | None = None) -> sp.csr_matrix:
        """How many neighbours bought each product, ``m x n_products`` (float counts)."""
        return self.support_graph(self.neighbor_graph(X_rows, rows=rows))
