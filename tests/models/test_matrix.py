"""IdIndex, build_interactions and Weighting: known answers checked by hand."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils.estimator_checks import parametrize_with_checks

from recsys.data import schema as S
from recsys.errors import DataValidationError, RecsysError, UnknownCustomerError
from recsys.models.matrix import WEIGHTINGS, IdIndex, Weighting, build_interactions


def purchases(amount=(10.0, 5.0, np.nan, 2.0, 4.0)) -> pd.DataFrame:
    """c1 bought p1 twice (qty 1 + 3) and p2; c0 bought p2; '007' bought p1."""
    return pd.DataFrame(
        {
            S.CUSTOMER_ID: pd.array(["c1", "c1", "c1", "c0", "007"], dtype="str"),
            S.PRODUCT_ID: pd.array(["p1", "p1", "p2", "p2", "p1"], dtype="str"),
            S.QUANTITY: np.array([1, 3, 1, 2, 1], dtype=np.int64),
            S.AMOUNT: np.array(amount, dtype=np.float64),
        }
    )


# --- IdIndex ----------------------------------------------------------------------------------
def test_id_index_sorts_dedupes_and_keeps_text():
    index = IdIndex(["b", "007", "a", "b", 7])
    assert index.ids.tolist() == ["007", "7", "a", "b"]
    assert len(index) == 4 and "007" in index and "7" in index and "c" not in index


def test_id_index_lookup_and_unknown_id():
    index = IdIndex(["x", "y"], what="product")
    assert index.index_of("y") == 1
    with pytest.raises(UnknownCustomerError, match="Unknown product id 'z'") as err:
        index.index_of("z")
    assert isinstance(err.value, RecsysError) and isinstance(err.value, KeyError)


@pytest.mark.parametrize(("missing", "expected"), [("mask", [1, -1, 0]), ("drop", [1, 0])])
def test_id_index_indices_of_missing_modes(missing, expected):
    index = IdIndex(["x", "y"])
    assert index.indices_of(["y", "nope", "x"], missing=missing).tolist() == expected


def test_id_index_indices_of_raises_on_first_unknown():
    with pytest.raises(UnknownCustomerError, match="'nope'"):
        IdIndex(["x"]).indices_of(["x", "nope"])


def test_id_index_pickles_and_compares_by_value():
    index = IdIndex(["b", "a"], what="product")
    clone = pickle.loads(pickle.dumps(index))
    assert clone == index and clone.what == "product" and clone.index_of("b") == 1


# --- build_interactions ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # rows 007, c0, c1; columns p1, p2
        ("count", [[1, 0], [0, 1], [2, 1]]),
        ("quantity", [[1, 0], [0, 2], [4, 1]]),
        ("amount", [[4, 0], [0, 2], [15, 0]]),  # c1's p2 amount is NaN -> 0 -> no entry
    ],
)
def test_build_interactions_values(value, expected):
    result = build_interactions(purchases(), value=value)
    assert result.customers.ids.tolist() == ["007", "c0", "c1"]
    assert result.products.ids.tolist() == ["p1", "p2"]
    assert result.matrix.dtype == np.float64 and result.matrix.has_canonical_format
    assert result.matrix.toarray().tolist() == expected
    assert (result.matrix.data != 0).all()


def test_build_interactions_amount_without_amount_column_is_a_clear_error():
    with pytest.raises(DataValidationError, match="no amount column") as err:
        build_interactions(purchases(amount=[np.nan] * 5), value="amount")
    assert err.value.report.errors[0].column == S.AMOUNT


def test_build_interactions_rejects_unknown_value():
    with pytest.raises(ValueError, match="value must be one of"):
        build_interactions(purchases(), value="spend")


def test_build_interactions_with_fixed_vocabularies_drops_unknown_ids():
    customers = IdIndex(["c1", "c9"])
    products = IdIndex(["p0", "p1"], what="product")
    result = build_interactions(purchases(), customers=customers, products=products)
    assert result.customers is customers and result.shape == (2, 2)
    assert result.matrix.toarray().tolist() == [[0, 2], [0, 0]]


def test_build_interactions_is_sorted_and_stable_under_row_order():
    df = purchases()
    a = build_interactions(df)
    b = build_interactions(df.iloc[::-1].reset_index(drop=True))
    assert a.customers == b.customers and a.products == b.products
    assert (a.matrix != b.matrix).nnz == 0


# --- Weighting ------------------------------------------------------------------------------
X_RAW = sp.csr_matrix(np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 0.0], [1.0, 1.0, 4.0]]))


def test_weighting_binary_count_log1p():
    assert Weighting().fit_transform(X_RAW).toarray().tolist() == (X_RAW > 0).toarray().tolist()
    assert_array_equal(Weighting(weighting="count").fit_transform(X_RAW).toarray(), X_RAW.toarray())
    assert_allclose(
        Weighting(weighting="log1p").fit_transform(X_RAW).toarray(), np.log1p(X_RAW.toarray())
    )


def test_weighting_tfidf_known_answer():
    w = Weighting(weighting="tfidf").fit(X_RAW)
    # n = 3 customers; df = 2, 3, 1
    idf = np.log(4 / np.array([3.0, 4.0, 2.0])) + 1
    assert_allclose(w.idf_, idf)
    assert_allclose(w.transform(X_RAW).toarray(), X_RAW.toarray() * idf)


def test_weighting_bm25_known_answer():
    w = Weighting(weighting="bm25").fit(X_RAW)
    n, df = 3, np.array([2.0, 3.0, 1.0])
    idf = np.log1p((n - df + 0.5) / (df + 0.5))
    lengths = np.array([3.0, 3.0, 6.0])
    assert w.avg_length_ == pytest.approx(4.0)
    norm = 1.2 * (1 - 0.75 + 0.75 * lengths / 4.0)
    raw = X_RAW.toarray()
    expected = np.where(raw > 0, raw * 2.2 / (raw + norm[:, None]) * idf, 0.0)
    assert_allclose(w.transform(X_RAW).toarray(), expected)


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_weighting_new_rows_use_what_fit_learned(weighting):
    w = Weighting(weighting=weighting).fit(X_RAW)
    full = w.transform(X_RAW)
    # Transforming one row alone gives the same weights as within the full matrix.
    assert_allclose(w.transform(X_RAW[[2]]).toarray(), full[[2]].toarray())
    assert isinstance(full, sp.csr_matrix) and full.has_sorted_indices


def test_weighting_rejects_bad_input():
    with pytest.raises(ValueError, match="weighting must be one of"):
        Weighting(weighting="idf").fit(X_RAW)
    with pytest.raises(ValueError, match="Negative"):
        Weighting().fit(sp.csr_matrix(np.array([[-1.0]])))
    with pytest.raises(ValueError):
        Weighting().fit(X_RAW).transform(sp.csr_matrix((1, 2)))


@parametrize_with_checks([Weighting(), Weighting(weighting="bm25")])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --- time decay ------------------------------------------------------------------------------
def _dated() -> pd.DataFrame:
    """c1 bought p1 on 1 and 21 March (its last: 21 March) and p2 on 1 March; c2 bought p2 on
    31 March (the as-of: the latest date) and p3 on a line without a date."""
    return pd.DataFrame(
        {
            S.CUSTOMER_ID: ["c1", "c1", "c1", "c2", "c2"],
            S.PRODUCT_ID: ["p1", "p1", "p2", "p2", "p3"],
            S.PURCHASE_DATE: pd.to_datetime(
                ["2026-03-01", "2026-03-21", "2026-03-01", "2026-03-31", None]
            ),
        }
    )


@pytest.mark.parametrize("weighting", ["binary", "count", "log1p"])
def test_time_decay_halves_a_weight_per_half_life_since_the_last_purchase(weighting):
    from recsys.models.matrix import time_decay

    frame = _dated()
    m = build_interactions(frame)
    X = Weighting(weighting=weighting).fit_transform(m.matrix).tocsr()
    decayed = time_decay(X, frame, m.customers, m.products, 10.0).toarray()
    # Ages to 31 March: c1/p1 10 days (its later purchase counts), c1/p2 30, c2/p2 0; c2/p3 has
    # no dated line and keeps its weight.
    assert_allclose(decayed, X.toarray() * np.array([[0.5, 0.125, 1.0], [1.0, 1.0, 1.0]]))
    assert_allclose(time_decay(X, frame, m.customers, m.products, 0.0).toarray(), X.toarray())


def test_time_decay_without_dates_is_a_clear_error():
    from recsys.errors import InvalidParamsError
    from recsys.models.matrix import time_decay

    frame = _dated().drop(columns=S.PURCHASE_DATE)
    m = build_interactions(frame)
    with pytest.raises(InvalidParamsError, match="half_life_days=30 needs purchase dates"):
        time_decay(m.matrix, frame, m.customers, m.products, 30.0)
    assert time_decay(m.matrix, frame, m.customers, m.products, 0.0).nnz == m.matrix.nnz
