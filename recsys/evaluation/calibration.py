"""Calibrated propensity: from a recommendation's score and rank to P(buy within the window).

Recommendation scores rank well but are not probabilities (a similarity-weighted sum has no
fixed scale). :class:`PropensityCalibrator` learns the map on a temporal holdout: the features
are ``[score, rank]`` of each recommendation made from the training part, the outcome is whether
the customer bought the product in the held-out part (:func:`fit_propensity` does all of it).

Two fits are offered:

- ``"isotonic"``: :class:`~sklearn.isotonic.IsotonicRegression` on the score (monotone, no shape
  assumed, clipped outside the scores seen);
- ``"logistic"``: :class:`~sklearn.linear_model.LogisticRegression` on ``score`` and
  ``log(rank)`` (smooth, uses the rank, extrapolates gently).

``method="auto"`` (the default) fits both on 70 % of the customers and keeps the one with the
lower log-loss on the other 30 % (the Brier score is reported too): log-loss punishes confident
mistakes, which is what overspends a budget. The choice and both scores are kept in
``selection_``. The estimator follows scikit-learn's conventions and knows nothing of the pipeline.
"""

from __future__ import annotations

import logging
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import GroupShuffleSplit
from sklearn.utils.validation import check_is_fitted

from recsys.data import schema as S
from recsys.errors import RecsysError

__all__ = ["PropensityCalibrator", "reliability_table"]

log = logging.getLogger(__name__)

Method = Literal["auto", "isotonic", "logistic"]
_EPS = 1e-6  # probabilities are kept in [eps, 1 - eps] so log-loss stays finite


def _features(X: object) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 1:
        X = np.column_stack([X, np.ones_like(X)])  # a score alone: rank 1
    if X.ndim != 2 or X.shape[1] != 2 or not np.isfinite(X).all():
        raise RecsysError("Calibration needs finite [score, rank] rows (an array of shape (n, 2)).")
    return X


class PropensityCalibrator(BaseEstimator):
    """Map ``[score, rank]`` to the probability of buying the recommended product.

    Parameters
    ----------
    method : {"auto", "isotonic", "logistic"}, default "auto"
    holdout : float, default 0.3
        Share of customers (``groups``) used to choose the method when ``method="auto"``.
    random_state : int, default 0

    Attributes
    ----------
    method_ : str
        The method fitted.
    selection_ : dict
        Held-out ``log_loss`` and ``brier`` per method (empty unless ``method="auto"``).
    base_rate_ : float
        Share of positive outcomes in the training data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> score = rng.random(4000)
    >>> bought = rng.random(4000) < 0.8 * score  # the true curve: P = 0.8 x score
    >>> cal = PropensityCalibrator(method="isotonic").fit(np.column_stack([score, np.ones(4000)]),
    ...                                                    bought)
    >>> float(np.round(cal.predict_proba([[0.5, 1]])[0, 1], 1))
    0.4
    """

    def __init__(self, method: Method = "auto", holdout: float = 0.3, random_state: int = 0):
        self.method = method
        self.holdout = holdout
        self.random_state = random_state

    def _fit_one(self, method: str, X: np.ndarray, y: np.ndarray) -> object:
        if method == "isotonic":
            return IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(X[:, 0], y)
        design = np.column_stack([X[:, 0], np.log(np.maximum(X[:, 1], 1.0))])
        return LogisticRegression(C=1e4, max_iter=1000).fit(design, y)

    @staticmethod
    def _predict_one(model: object, X: np.ndarray) -> np.ndarray:
        if isinstance(model, IsotonicRegression):
            p = model.predict(X[:, 0])
        else:
            design = np.column_stack([X[:, 0], np.log(np.maximum(X[:, 1], 1.0))])
            p = model.predict_proba(design)[:, 1]
        return np.clip(p, _EPS, 1 - _EPS)

    def fit(self, X: object, y: object, groups: object | None = None) -> PropensityCalibrator:
        """Fit on ``X = [score, rank]`` rows and 0/1 outcomes ``y``; returns ``self``.

        ``groups`` (customer ids) keeps each customer on one side of the method-choice split.
        """
        if self.method not in ("auto", "isotonic", "logistic"):
            raise RecsysError(f"method={self.method!r}: use 'auto', 'isotonic' or 'logistic'.")
        X = _features(X)
        y = np.asarray(y, dtype=np.float64).ravel()
        if y.shape[0] != X.shape[0] or not np.isin(y, (0.0, 1.0)).all():
            raise RecsysError("Calibration outcomes must be 0/1, one per [score, rank] row.")
        if y.min() == y.max():
            raise RecsysError(
                "Calibration needs both outcomes (bought and not bought): use a longer holdout "
                "window or more customers."
            )
        self.selection_: dict[str, dict[str, float]] = {}
        method = self.method
        if method == "auto":
            groups = np.arange(len(y)) if groups is None else np.asarray(groups)
            split = GroupShuffleSplit(1, test_size=self.holdout, random_state=self.random_state)
            train, test = next(split.split(X, y, groups))
            for name in ("isotonic", "logistic"):
                if y[train].min() == y[train].max() or y[test].min() == y[test].max():
                    break  # too few positives to compare: fall through to isotonic
                p = self._predict_one(self._fit_one(name, X[train], y[train]), X[test])
                self.selection_[name] = {
                    "log_loss": float(log_loss(y[test], p, labels=[0, 1])),
                    "brier": float(brier_score_loss(y[test], p)),
                }
            scores = self.selection_
            method = min(scores, key=lambda m: scores[m]["log_loss"]) if scores else "isotonic"
            log.info("calibration: chose %s by held-out log-loss %s", method, scores)
        self.model_ = self._fit_one(method, X, y)
        self.method_ = method
        self.base_rate_ = float(y.mean())
        self.n_features_in_ = 2
        return self

    def predict_proba(self, X: object) -> np.ndarray:
        """``[[P(not buy), P(buy)], ...]`` for ``X = [score, rank]`` rows (scikit-learn shape)."""
        check_is_fitted(self, "model_")
        p = self._predict_one(self.model_, _features(X))
        return np.column_stack([1 - p, p])

    def propensity(self, score: object, rank: object) -> np.ndarray:
        """P(buy) for matching ``score`` and ``rank`` arrays (1-D convenience)."""
        return self.predict_proba(np.column_stack([np.ravel(score), np.ravel(rank)]))[:, 1]


def reliability_table(prob: object, outcome: object, n_bins: int = 10) -> pd.DataFrame:
    """Predicted against observed rates in equal-width probability bins, for a reliability chart.

    Returns
    -------
    DataFrame
        ``bin`` (upper edge), ``mean_predicted``, ``observed_rate``, ``count``; empty bins left out.

    Examples
    --------
    >>> reliability_table([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], n_bins=2)
       bin  mean_predicted  observed_rate  count
    0  0.5            0.15            0.0      2
    1  1.0            0.85            1.0      2
    """
    prob = np.asarray(prob, dtype=np.float64).ravel()
    outcome = np.asarray(outcome, dtype=np.float64).ravel()
    if prob.shape != outcome.shape:
        raise RecsysError("reliability_table: give one outcome per probability.")
    if n_bins < 1:
        raise RecsysError(f"n_bins={n_bins!r}: give a whole number >= 1.")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, prob, side="left") - 1, 0, n_bins - 1)
    frame = pd.DataFrame({"b": which, "p": prob, "y": outcome})
    grouped = frame.groupby("b", sort=True)
    out = pd.DataFrame(
        {
            S.BIN: edges[1:][grouped.size().index.to_numpy()],
            S.MEAN_PREDICTED: grouped["p"].mean().to_numpy(),
            S.OBSERVED_RATE: grouped["y"].mean().to_numpy(),
            S.COUNT: grouped.size().to_numpy(np.int64),
        }
    )
    return out
