"""ALS through implicit (recsys/models/als.py): determinism, the fold-in, a missing package."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.errors import MissingDependencyError, RecsysError
from recsys.models import als as als_module
from recsys.models.als import ALS, implicit_available
from recsys.models.factory import make_model
from recsys.params import ModelParams


def purchases(seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    return sp.csr_matrix((rng.random((30, 12)) < 0.3).astype(np.float64))


def test_same_random_state_gives_identical_factors() -> None:
    X = purchases()
    a = ALS(factors=4, iterations=5, random_state=7).fit(X)
    b = ALS(factors=4, iterations=5, random_state=7).fit(X)
    np.testing.assert_array_equal(a.item_factors_, b.item_factors_)
    np.testing.assert_array_equal(a.user_factors_, b.user_factors_)
    c = ALS(factors=4, iterations=5, random_state=8).fit(X)
    assert not np.array_equal(a.item_factors_, c.item_factors_)


def test_fold_in_solves_the_weighted_least_squares_of_one_row() -> None:
    X = purchases()
    model = ALS(factors=3, iterations=5, regularization=0.5, confidence=2.0).fit(X)
    row = sp.csr_matrix(np.array([[0, 3.0, 0, 1.0, 0, 0, 0, 0, 0, 0, 2.0, 0]]))
    V = model.item_factors_
    # Minimise sum_i c_i (p_i - u . v_i)^2 + reg |u|^2 as a stacked ordinary least squares.
    x = row.toarray().ravel()
    c = 1.0 + 2.0 * x
    p = (x > 0).astype(np.float64)
    A = np.vstack([np.sqrt(c)[:, None] * V, np.sqrt(0.5) * np.eye(3)])
    b = np.concatenate([np.sqrt(c) * p, np.zeros(3)])
    expected = np.linalg.lstsq(A, b, rcond=None)[0]
    np.testing.assert_allclose(model.fold_in(row)[0], expected, rtol=1e-8, atol=1e-10)


def test_scores_are_positive_and_keep_the_factor_order() -> None:
    X = purchases()
    model = ALS(factors=4, iterations=5).fit(X)
    rows = np.array([0, 5])
    scores = model.score_items(X[rows], rows=rows)
    raw = model.user_factors_[rows] @ model.item_factors_.T
    assert (scores > 0).all()
    np.testing.assert_array_equal(np.argsort(-scores, axis=1), np.argsort(-raw, axis=1))
    assert model.score_items(X[:2]).shape == (2, 12)  # new baskets: folded in


def test_rows_must_match_the_query() -> None:
    X = purchases()
    model = ALS(factors=2, iterations=2).fit(X)
    with pytest.raises(ValueError, match="rows has shape"):
        model.score_items(X[:2], rows=np.array([0]))


@pytest.mark.parametrize(
    "settings", [{"factors": 0}, {"iterations": 0}, {"confidence": 0.0}, {"regularization": -1}]
)
def test_settings_are_validated_in_fit(settings) -> None:
    with pytest.raises(ValueError, match=next(iter(settings))):
        ALS(**settings).fit(purchases())


def test_a_missing_implicit_package_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "implicit.cpu.als", None)  # import now fails
    assert not implicit_available()
    with pytest.raises(MissingDependencyError, match="pip install") as caught:
        make_model(ModelParams(model="als")).fit(purchases())
    assert isinstance(caught.value, RecsysError)
    monkeypatch.undo()
    assert als_module.implicit_available()
