"""Calibrated propensity on data with a known response curve."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from recsys.data import schema as S
from recsys.errors import RecsysError
from recsys.evaluation.calibration import PropensityCalibrator, reliability_table


def _data(seed: int, n: int = 20000, curve: str = "linear"):
    rng = np.random.default_rng(seed)
    score = rng.random(n)
    rank = rng.integers(1, 11, n)
    true = 0.6 * score if curve == "linear" else 1 / (1 + np.exp(-(4 * score - 2 - 0.2 * rank)))
    return np.column_stack([score, rank]), (rng.random(n) < true).astype(int), true


@pytest.mark.parametrize("method", ["isotonic", "logistic", "auto"])
@pytest.mark.parametrize("curve", ["linear", "logistic"])
def test_recovers_a_known_curve(method: str, curve: str) -> None:
    X, y, _ = _data(0, curve=curve)
    cal = PropensityCalibrator(method=method).fit(X, y, groups=np.arange(len(y)) // 5)
    X_new, _, true = _data(1, n=5000, curve=curve)
    error = np.abs(cal.predict_proba(X_new)[:, 1] - true).mean()
    # Isotonic ignores the rank, so it cannot follow a curve that depends on it; a logistic fit
    # cannot bend to the linear curve's ends. Everything else is within 0.05.
    loose = (method, curve) in {("isotonic", "logistic"), ("logistic", "linear")}
    assert error < (0.1 if loose else 0.05)
    assert cal.method_ in ("isotonic", "logistic")


def test_auto_keeps_its_reasons_and_prefers_the_rank_aware_fit_when_rank_matters() -> None:
    X, y, _ = _data(0, curve="logistic")
    cal = PropensityCalibrator().fit(X, y)
    assert set(cal.selection_) == {"isotonic", "logistic"} and cal.method_ == "logistic"


def test_estimator_conventions() -> None:
    cal = PropensityCalibrator(method="isotonic")
    assert cal.get_params()["method"] == "isotonic"
    with pytest.raises(NotFittedError):
        cal.predict_proba([[0.5, 1]])
    with pytest.raises(RecsysError, match="both outcomes"):
        cal.fit([[0.1, 1], [0.2, 2]], [0, 0])


def test_reliability_table_of_a_calibrated_model_is_on_the_diagonal() -> None:
    X, y, true = _data(2)
    table = reliability_table(true, y, n_bins=5)
    assert table[S.COUNT].sum() == len(y)
    assert np.allclose(table[S.MEAN_PREDICTED], table[S.OBSERVED_RATE], atol=0.02)
