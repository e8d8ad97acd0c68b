"""ALS: implicit-feedback matrix factorisation (Hu, Koren and Volinsky, 2008) via ``implicit``."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from recsys.errors import MissingDependencyError
from recsys.models.base import RecommenderMixin, check_matrix

__all__ = ["ALS", "implicit_available"]


def _als_class() -> Any:
    """implicit's CPU ALS class, or a clear error when the package is missing."""
    try:
        from implicit.cpu.als import AlternatingLeastSquares
    except ImportError as error:
        raise MissingDependencyError(
            "The ALS model needs the 'implicit' package, which is not installed. Install it with "
            "`pip install -r requirements.txt` (or `pip install implicit`), or choose another "
            "model."
        ) from error
    return AlternatingLeastSquares


def implicit_available() -> bool:
    """Whether the ``implicit`` package can be imported (the ALS model can be offered)."""
    try:
        _als_class()
    except MissingDependencyError:
        return False
    return True


class ALS(RecommenderMixin, BaseEstimator):
    """Alternating least squares on implicit feedback, computed by the ``implicit`` package.

    Customer and product factors ``U`` and ``V`` minimise
    ``sum c_ui (p_ui - u_u . v_i)^2 + regularization (|U|^2 + |V|^2)`` with ``p_ui = 1`` where the
    customer bought the product and confidence ``c_ui = 1 + confidence x X[u, i]``. The score of a
    customer row is ``u_u . V^T``: a training customer's own factor when ``rows`` gives their
    training row, else one least-squares step on the fixed product factors (a new basket, as
    implicit's ``recalculate_user`` does). Scores are shifted per row to be strictly
    positive, keeping their order, because only positive scores are recommended
    (:func:`recsys.models.ranking.top_n`). Fitting is deterministic for a given ``random_state``
    (one thread for the factor updates keeps the summation order fixed).

    Parameters
    ----------
    factors : int, default 64
    regularization : float, default 10.0
    iterations : int, default 15
    confidence : float, default 1.0
        implicit's ``alpha``.
    random_state : int, default 0
    num_threads : int, default 1
        Threads of implicit's solver (more is faster, not bit-for-bit reproducible).

    Attributes
    ----------
    user_factors_ : ndarray of shape (n_customers, factors)
    item_factors_ : ndarray of shape (n_products, factors)

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> X = sp.csr_matrix([[1, 1, 0], [1, 1, 0], [1, 0, 0], [0, 0, 1]])
    >>> model = ALS(factors=2, iterations=5).fit(X)
    >>> model.score_items(X[2:3], rows=[2]).shape
    (1, 3)
    >>> model.score_items(X[2:3]).shape  # a new basket, folded in
    (1, 3)
    """

    def __init__(
        self,
        *,
        factors: int = 64,
        regularization: float = 10.0,
        iterations: int = 15,
        confidence: float = 1.0,
        random_state: int = 0,
        num_threads: int = 1,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.confidence = confidence
        self.random_state = random_state
        self.num_threads = num_threads

    def fit(self, X: Any, y: None = None) -> ALS:
        """Fit the factors.

        Parameters
        ----------
        X : sparse matrix of shape (n_customers, n_products)
            Weighted training purchases (non-negative).
        y : None
            Ignored.

        Returns
        -------
        self : ALS

        Raises
        ------
        MissingDependencyError
            When ``implicit`` is not installed.
        """
        for name in ("factors", "iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name}={value!r} must be a whole number >= 1.")
        if not float(self.confidence) > 0:
            raise ValueError(f"confidence={self.confidence!r} must be > 0.")
        if not float(self.regularization) >= 0:
            raise ValueError(f"regularization={self.regularization!r} must be >= 0.")
        X = check_matrix(self, X, reset=True)
        AlternatingLeastSquares = _als_class()
        from threadpoolctl import threadpool_limits

        # implicit warns when BLAS runs several threads (it slows its own loop): one it is, for
        # the constructor (where implicit checks) and the fit.
        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model = AlternatingLeastSquares(
                factors=int(self.factors),
                regularization=float(self.regularization),
                alpha=float(self.confidence),
                iterations=int(self.iterations),
                random_state=int(self.random_state),
                num_threads=int(self.num_threads),
                calculate_training_loss=False,
            )
            model.fit(sp.csr_matrix(X, dtype=np.float32), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float64)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float64)
        return self

    def fold_in(self, X_rows: Any) -> np.ndarray:
        """Customer factors of new rows, the product factors fixed (Hu et al.'s update).

        ``u = (V^T C V + regularization I)^-1 V^T C p`` with ``C = 1 + confidence x`` on the
        row's products and ``p`` its purchases.
        """
        check_is_fitted(self, "item_factors_")
        X_rows = check_matrix(self, X_rows, reset=False)
        V = self.item_factors_
        gram = V.T @ V + float(self.regularization) * np.eye(V.shape[1])
        out = np.zeros((X_rows.shape[0], V.shape[1]))
        for i in range(X_rows.shape[0]):  # one small solve per new row (baskets, not batches)
            cols = X_rows.indices[X_rows.indptr[i] : X_rows.indptr[i + 1]]
            conf = float(self.confidence) * X_rows.data[X_rows.indptr[i] : X_rows.indptr[i + 1]]
            Vi = V[cols]
            A = gram + (Vi.T * conf) @ Vi
            out[i] = np.linalg.solve(A, Vi.T @ (1.0 + conf))
        return out

    def score_items(self, X_rows: Any, *, rows: Any = None) -> np.ndarray:
        """Dense scores of the rows (shifted to be positive).

        Parameters
        ----------
        X_rows : sparse matrix of shape (m, n_products)
            The purchases of those customers.
        rows : array-like of shape (m,), optional
            Their training row numbers; None for new customers (folded in, see
            :meth:`fold_in`).

        Returns
        -------
        scores : ndarray of shape (m, n_products)
        """
        check_is_fitted(self, "item_factors_")
        X_rows = check_matrix(self, X_rows, reset=False)
        if rows is None:
            factors = self.fold_in(X_rows)
        else:
            rows = np.asarray(rows, dtype=np.int64)
            if rows.shape != (X_rows.shape[0],):
                raise ValueError(f"rows has shape {rows.shape}, expected ({X_rows.shape[0]},).")
            factors = self.user_factors_[rows]
        scores = factors @ self.item_factors_.T
        return scores - scores.min(axis=1, keepdims=True) + 1e-6
