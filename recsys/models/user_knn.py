"""User-based k-nearest-neighbour collaborative filtering on CSR rows (scikit-learn conventions).

The estimator sees integer rows of a weighted customer x product matrix; the caller maps ids
(:class:`recsys.models.matrix.IdIndex`). Similarity is ``1 - distance`` for cosine and
``1 / (1 + distance)`` for the other metrics. Cosine, the default, runs on an exact chunked sparse
product (:func:`recsys.models.topk.cosine_topk`) that is tested to agree with
``NearestNeighbors(metric="cosine", algorithm="brute")``; the other metrics use scikit-learn's
pairwise distances on bounded dense chunks of rows.
"""

from __future__ import annotations

import logging
import numbers
import os
from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from recsys.models import topk as _nb
from recsys.params import METRICS

logger = logging.getLogger(__name__)

__all__ = ["BACKENDS", "METRICS", "UserKNN", "neighbors_to_graph"]

# Metrics NearestNeighbors supports on sparse input (scipy's jaccard, hamming... need dense rows).
BACKENDS: tuple[str, ...] = ("auto", "scipy", "sparse_dot_topn")

# Dense chunk budget (bytes) for the non-cosine metrics: chunk rows x n_customers x 8 bytes.
_WORKING_BYTES = 64 * 2**20


def _n_threads(n_jobs: int | None) -> int | None:
    # scikit-learn's meaning of n_jobs (None/1 = one, -1 = all cores, -2 = all but one).
    if n_jobs is None or n_jobs == 1:
        return None
    n = n_jobs if n_jobs > 0 else (os.cpu_count() or 1) + 1 + n_jobs
    return n if n > 1 else None


def _search(
    Q: sp.csr_matrix,
    self_rows: np.ndarray,
    *,
    base: sp.csr_matrix,
    k: int,
    metric: str,
    min_value: float,
    backend: str,
    chunk: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Neighbours of query rows, chunk by chunk (a module function so workers can run it)."""
    m = Q.shape[0]
    if not (base.data.flags.writeable and base.indices.flags.writeable):
        # In a worker the arrays are read-only memory maps, which sparse_dot_topn refuses.
        base = base.copy()
    sims = np.zeros((m, k), dtype=np.float64)
    idx = np.full((m, k), -1, dtype=np.int64)
    for start in range(0, m, chunk):
        part = slice(start, min(start + chunk, m))
        if metric == "cosine":
            sims[part], idx[part] = _nb.cosine_topk(
                normalize(Q[part], norm="l2"),
                base,
                k,
                self_cols=self_rows[part],
                min_value=min_value,
                backend=backend,
            )
        else:
            sim = 1.0 / (1.0 + pairwise_distances(Q[part], base, metric=metric))
            sims[part], idx[part] = _nb.topk_dense(
                sim, k, min_value=min_value, exclude_cols=self_rows[part], overwrite=True
            )
    return sims, idx


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
    chunk_size : int, default=1000
        Query rows processed together; bounds memory of batch work.
    backend : {"auto", "scipy", "sparse_dot_topn"}, default="auto"
        Cosine search engine. ``auto`` uses ``sparse_dot_topn`` when installed, else scipy;
        both give the same neighbours.
    n_jobs : int, optional
        Worker processes for batch neighbour searches (more than two chunks of rows) and
        ``nn_``; scikit-learn's meaning: ``None`` = 1, ``-1`` = all cores.

    Attributes
    ----------
    X_ : csr_matrix of shape (n_customers, n_products)
        The (weighted) training rows.
    nn_ : NearestNeighbors
        scikit-learn brute-force index on ``X_`` with the same metric (the reference search).
    backend_ : str
        The backend actually used for cosine.
    n_samples_fit_ : int
    n_features_in_ : int

    Examples
    --------
    >>> X = sp.csr_matrix(np.array([[1, 1, 0], [1, 1, 1], [0, 0, 1]], dtype=float))
    >>> model = UserKNN(n_neighbors=1, backend="scipy").fit(X)
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
        chunk_size: int = 1000,
        backend: str = "auto",
        n_jobs: int | None = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.min_similarity = min_similarity
        self.similarity_power = similarity_power
        self.chunk_size = chunk_size
        self.backend = backend
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
        c = self.chunk_size
        if not isinstance(c, numbers.Integral) or isinstance(c, bool) or c < 1:
            raise ValueError(f"chunk_size must be an integer >= 1, got {c!r}")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.backend == "sparse_dot_topn" and not _nb.HAVE_SPARSE_DOT_TOPN:
            raise ValueError("backend='sparse_dot_topn' needs the sparse-dot-topn package")

    def fit(self, X: sp.csr_matrix, y: object = None) -> UserKNN:
        """Index the training rows.

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
        self.X_ = X
        self.n_samples_fit_ = X.shape[0]
        # Stored explicitly so support() is a plain sparse product of 0/1 matrices.
        self.X_binary_ = sp.csr_matrix(
            (np.ones(X.nnz, dtype=np.float64), X.indices, X.indptr), shape=X.shape
        )
        self.nn_ = NearestNeighbors(
            n_neighbors=min(self.n_neighbors, X.shape[0]),
            metric=self.metric,
            algorithm="brute",
            n_jobs=self.n_jobs,
        ).fit(X)
        if self.backend == "auto":
            self.backend_ = "sparse_dot_topn" if _nb.HAVE_SPARSE_DOT_TOPN else "scipy"
        else:
            self.backend_ = self.backend
        if self.metric == "cosine":
            # Normalised once here; the transpose is kept in CSR so every chunk product is a
            # CSR x CSR product without conversions.
            self.X_normalized_t_ = normalize(X, norm="l2").T.tocsr()
            self.X_normalized_t_.sort_indices()
        return self

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
            if (self_rows >= self.n_samples_fit_).any():
                raise ValueError("rows contains an index beyond the training rows")
        return Q, self_rows

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
            Worker processes for this call (scikit-learn's meaning); defaults to
            ``self.n_jobs``. Lets a batch use every core without changing a shared model.

        Returns
        -------
        similarity : ndarray of shape (m, k), float64
            Descending; ties broken by lower training row. ``0.0`` padding.
        index : ndarray of shape (m, k), int64
            Training rows; ``-1`` padding where fewer than ``k`` neighbours have a similarity
            ``> 0`` and ``>= min_similarity``.
        """
        workers = _n_threads(self.n_jobs if n_jobs is None else n_jobs) or 1
        m = X_rows.shape[0]
        # Enough blocks to keep every worker busy; one block in this process when the batch is
        # too small to be worth starting workers for.
        parallel = workers > 1 and m >= 2 * self.chunk_size
        block = max(1, -(-m // (4 * workers))) if parallel else max(m, 1)
        parts = list(
            self.iter_kneighbors(
                X_rows, rows=rows, n_neighbors=n_neighbors, block_size=block, n_jobs=n_jobs
            )
        )
        if not parts:
            k = self.n_neighbors if n_neighbors is None else n_neighbors
            return np.zeros((0, k)), np.zeros((0, k), dtype=np.int64)
        return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])

    def iter_kneighbors(
        self,
        X_rows: sp.csr_matrix,
        *,
        rows: np.ndarray | None = None,
        n_neighbors: int | None = None,
        block_size: int = 8192,
        n_jobs: int | None = None,
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """:meth:`kneighbors` block by block of ``block_size`` query rows, in order.

        With ``n_jobs`` workers the next blocks are searched in worker processes while the
        caller works on the current one (scoring, writing), so batch work keeps every core busy;
        memory stays at a few blocks of ``rows x k`` results.
        """
        Q, self_rows = self._check_query(X_rows, rows)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"n_neighbors must be an integer >= 1, got {k!r}")
        m = Q.shape[0]
        chunk = self.chunk_size
        if self.metric != "cosine" or self.backend_ == "scipy":
            # Dense chunks (distances, or a densified product) must stay within the budget.
            chunk = max(1, min(chunk, _WORKING_BYTES // (8 * max(self.n_samples_fit_, 1))))
        search = {
            "base": self.X_normalized_t_ if self.metric == "cosine" else self.X_,
            "k": k,
            "metric": self.metric,
            "min_value": self.min_similarity,
            "backend": self.backend_,
            "chunk": chunk,
        }
        blocks = [slice(s, min(s + block_size, m)) for s in range(0, m, block_size)]
        workers = _n_threads(self.n_jobs if n_jobs is None else n_jobs) or 1
        if workers == 1 or len(blocks) < 2:
            for b in blocks:
                yield _search(Q[b], self_rows[b], **search)
            return
        # sparse_dot_topn's wheel is built without OpenMP and holds the GIL, so batch work is
        # spread over processes; joblib memory-maps the base matrix instead of copying it, and
        # its generator hands back blocks in order while the workers go on with the next ones.
        yield from Parallel(n_jobs=workers, return_as="generator", pre_dispatch="2*n_jobs")(
            delayed(_search)(Q[b], self_rows[b], **search) for b in blocks
        )

    def neighbor_graph(
        self, X_rows: sp.csr_matrix, *, rows: np.ndarray | None = None
    ) -> sp.csr_matrix:
        """Sparse ``m x n_customers`` matrix holding each query's neighbour similarities."""
        sims, idx = self.kneighbors(X_rows, rows=rows)
        return neighbors_to_graph(sims, idx, self.n_samples_fit_)

    def score_graph(self, graph: sp.csr_matrix) -> sp.csr_matrix:
        """Scores from a neighbour graph: ``graph ** similarity_power @ X_``.

        Reuse one graph for scores and support: the neighbour search is most of the cost.
        """
        check_is_fitted(self)
        graph = sp.csr_matrix(graph)
        if self.similarity_power != 1.0:
            graph = graph.power(self.similarity_power)
        return (graph @ self.X_).tocsr()

    def support_graph(self, graph: sp.csr_matrix) -> sp.csr_matrix:
        """Support from a neighbour graph: how many of its neighbours bought each product."""
        check_is_fitted(self)
        graph = sp.csr_matrix(graph)
        binary = sp.csr_matrix(
            ((graph.data != 0).astype(np.float64), graph.indices, graph.indptr), shape=graph.shape
        )
        return (binary @ self.X_binary_).tocsr()

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
