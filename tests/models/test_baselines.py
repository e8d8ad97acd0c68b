"""The recommenders of recsys.models (popularity, item_knn, rp3beta, ease, als, user_knn) and the
factory: a
shared contract on a checkerboard, and known answers."""

from __future__ import annotations

from typing import Any

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from scipy import linalg
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from recsys.errors import ModelTooLargeError, RecsysError
from recsys.models.als import ALS
from recsys.models.ease import EASE
from recsys.models.factory import make_model, needs_segments, segment_arguments
from recsys.models.item_knn import ItemKNN
from recsys.models.popularity import Popularity
from recsys.models.ranking import top_n
from recsys.models.rp3beta import RP3beta
from recsys.models.user_knn import UserKNN
from recsys.params import MODEL_KINDS, ModelParams

N_GROUPS, GROUP_CUSTOMERS, GROUP_ITEMS = 2, 10, 5


def checkerboard() -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Customers of group g buy only group g's products, all but one (the right answer).

    Customer ``i`` of group ``g`` misses product ``g * 5 + i % 5``; nobody buys across groups.
    Returns the matrix, each row's missing product and each row's group label.
    """
    rows, cols, missing, groups = [], [], [], []
    for g in range(N_GROUPS):
        for i in range(GROUP_CUSTOMERS):
            row = g * GROUP_CUSTOMERS + i
            gap = g * GROUP_ITEMS + i % GROUP_ITEMS
            missing.append(gap)
            groups.append(f"group{g}")
            for item in range(g * GROUP_ITEMS, (g + 1) * GROUP_ITEMS):
                if item != gap:
                    rows.append(row)
                    cols.append(item)
    n_rows, n_items = N_GROUPS * GROUP_CUSTOMERS, N_GROUPS * GROUP_ITEMS
    X = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, n_items))
    return X, np.array(missing), np.array(groups, dtype=object)


# Every personalised model (and segment popularity, told the groups) must pass these.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("user_knn", {"n_neighbors": 5}),
    ("item_knn", {"n_neighbors": 4}),
    ("ease", {"l2": 1.0}),
    ("rp3beta", {"n_neighbors": 4, "alpha": 1.0, "beta": 0.5}),
    ("als", {"factors": 2, "regularization": 0.1, "iterations": 10}),  # rank-2 data
    ("popularity_segment", {}),
]


def fitted(name: str, params: dict[str, Any]) -> tuple[Any, sp.csr_matrix, np.ndarray]:
    X, missing, groups = checkerboard()
    config = ModelParams(model=name, **params)
    model = make_model(config)
    return model.fit(X, **segment_arguments(config, groups)), X, missing


def dense(scores: Any) -> np.ndarray:
    return scores.toarray() if sp.issparse(scores) else np.asarray(scores)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_model_ranks_the_missing_in_group_product_first(name: str, params: dict) -> None:
    model, X, missing = fitted(name, params)
    rows = np.arange(X.shape[0])
    index, _ = top_n(model.score_items(X, rows=rows), 1, exclude=X)
    np.testing.assert_array_equal(index[:, 0], missing)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_excluding_purchased_never_recommends_a_bought_product(name: str, params: dict) -> None:
    model, X, _ = fitted(name, params)
    rows = np.arange(X.shape[0])
    index, _ = top_n(model.score_items(X, rows=rows), 6, exclude=X)
    bought = X.toarray() > 0
    chosen = index >= 0
    assert chosen[:, 0].all()
    assert not bought[np.nonzero(chosen)[0], index[chosen]].any()


@pytest.mark.parametrize(("name", "params"), CASES)
def test_batch_scoring_equals_single_row_scoring(name: str, params: dict) -> None:
    model, X, _ = fitted(name, params)
    rows = np.array([3, 0, 17, 12])
    batch = dense(model.score_items(X[rows], rows=rows))
    single = np.vstack([dense(model.score_items(X[[r]], rows=np.array([r]))) for r in rows])
    np.testing.assert_allclose(batch, single, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "params"), CASES)
def test_joblib_round_trip_gives_identical_scores(name: str, params: dict, tmp_path) -> None:
    model, X, _ = fitted(name, params)
    rows = np.arange(X.shape[0])
    path = tmp_path / f"{name}.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(
        dense(loaded.score_items(X, rows=rows)), dense(model.score_items(X, rows=rows))
    )


@pytest.mark.parametrize(("name", "params"), CASES)
def test_score_shape_and_clone(name: str, params: dict) -> None:
    model, X, _ = fitted(name, params)
    assert dense(model.score_items(X[:3], rows=np.arange(3))).shape == (3, X.shape[1])
    assert clone(model).get_params() == model.get_params()


@pytest.mark.parametrize(
    "name", ["item_knn", "rp3beta", "ease", "als", "popularity", "popularity_segment"]
)
def test_baselines_refuse_to_score_before_fit(name: str) -> None:
    with pytest.raises(NotFittedError):
        make_model(ModelParams(model=name)).score_items(sp.csr_matrix(np.ones((1, 3))))


@pytest.mark.parametrize("model", [ItemKNN(), RP3beta(), EASE(), ALS(), Popularity()])
def test_baselines_check_the_number_of_products(model: Any) -> None:
    X, _, _ = checkerboard()
    model.fit(X)
    with pytest.raises(ValueError, match="features"):
        model.score_items(sp.csr_matrix(np.ones((1, X.shape[1] + 1))))


@pytest.mark.parametrize("model", [ItemKNN(), RP3beta(), EASE(), ALS(), Popularity()])
def test_baselines_reject_negative_values(model: Any) -> None:
    with pytest.raises(ValueError, match="Negative values"):
        model.fit(sp.csr_matrix(np.array([[1.0, -1.0], [1.0, 0.0]])))


@parametrize_with_checks(
    [ItemKNN(), RP3beta(), EASE(), ALS(factors=2, iterations=2), Popularity()],
)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    check(estimator)


# --------------------------------------------------------------------------- popularity
def test_popularity_is_the_share_of_customers_who_bought() -> None:
    # Weights do not matter, only who bought: product 0 by 3 of 3, products 1 and 2 by 1 of 3.
    X = sp.csr_matrix(np.array([[5.0, 0, 2.0], [1.0, 0, 0], [9.0, 3.0, 0]]))
    scores = Popularity().fit(X).score_items(X[:2])
    np.testing.assert_allclose(scores, [[1, 1 / 3, 1 / 3], [1, 1 / 3, 1 / 3]])


def test_segment_popularity_known_answer() -> None:
    # Segment a = rows 0, 1; segment b = row 2. Global shares [1, 1/3, 1/3] / (3 + 1) break ties.
    X = sp.csr_matrix(np.array([[1.0, 0, 1.0], [1.0, 0, 0], [1.0, 1.0, 0]]))
    model = Popularity(by_segment=True).fit(X, groups=["a", "a", "b"])
    tie = np.array([1, 1 / 3, 1 / 3]) / 4
    expected_a = np.array([1.0, 0.0, 0.5]) + tie
    expected_b = np.array([1.0, 1.0, 0.0]) + tie
    np.testing.assert_allclose(
        model.score_items(X, rows=[0, 1, 2]), [expected_a, expected_a, expected_b]
    )
    np.testing.assert_allclose(model.score_items(X[:1], groups=["b"]), [expected_b])
    # Unknown segment, missing segment, or no information at all: global popularity.
    glob = [1, 1 / 3, 1 / 3]
    np.testing.assert_allclose(model.score_items(X[:2], groups=["zzz", None]), [glob, glob])
    np.testing.assert_allclose(model.score_items(X[:1]), [glob])


def test_segment_popularity_accepts_integer_codes_with_minus_one_as_missing() -> None:
    X = sp.csr_matrix(np.array([[1.0, 0], [0, 1.0], [0, 1.0]]))
    model = Popularity(by_segment=True).fit(X, groups=np.array([0, 1, -1]))
    assert model.segments_.tolist() == [0, 1]
    assert model.row_segments_.tolist() == [0, 1, -1]
    scores = model.score_items(X, rows=[0, 1, 2])
    assert scores[0].argmax() == 0 and scores[1].argmax() == 1
    np.testing.assert_allclose(scores[2], [1 / 3, 2 / 3])
    np.testing.assert_allclose(model.score_items(X[:2], groups=np.array([1, -1])), scores[[1, 2]])


def test_segment_popularity_needs_groups() -> None:
    with pytest.raises(ValueError, match="groups"):
        Popularity(by_segment=True).fit(sp.csr_matrix(np.ones((2, 2))))
    with pytest.raises(ValueError, match="rows"):
        Popularity(by_segment=True).fit(sp.csr_matrix(np.ones((2, 2))), groups=["a"])


# --------------------------------------------------------------------------- item-kNN
def test_item_knn_cosine_known_answer() -> None:
    # Columns: p0 = (1, 1, 0), p1 = (1, 0, 1), p2 = (1, 1, 1).
    X = sp.csr_matrix(np.array([[1.0, 1, 1], [1, 0, 1], [0, 1, 1]]))
    S = ItemKNN(n_neighbors=2).fit(X).similarity_.toarray()
    c01, c02 = 1 / 2, 2 / np.sqrt(6)
    np.testing.assert_allclose(S, [[0, c01, c02], [c01, 0, c02], [c02, c02, 0]])
    # Score = basket @ S: a customer with only p0 scores p1 = c01, p2 = c02.
    np.testing.assert_allclose(
        ItemKNN(n_neighbors=2).fit(X).score_items(sp.csr_matrix([[1.0, 0, 0]])).toarray(),
        [[0, c01, c02]],
    )


def test_item_knn_keeps_top_neighbours_with_ties_to_lower_column() -> None:
    X = sp.csr_matrix(np.array([[1.0, 1, 1], [1, 0, 1], [0, 1, 1]]))
    S = ItemKNN(n_neighbors=1).fit(X).similarity_.toarray()
    # p0's best is p2; p2 ties between p0 and p1 and keeps p0 (lower column).
    assert (S > 0).sum(axis=1).tolist() == [1, 1, 1]
    assert S[0].argmax() == 2 and S[1].argmax() == 2 and S[2].argmax() == 0


def test_item_knn_shrink_damps_similarities() -> None:
    X = sp.csr_matrix(np.array([[1.0, 1], [1, 1]]))
    S = ItemKNN(shrink=2.0).fit(X).similarity_.toarray()
    np.testing.assert_allclose(S, [[0, 2 / (2 + 2)], [2 / (2 + 2), 0]])


@pytest.mark.parametrize("params", [{"n_neighbors": 0}, {"n_neighbors": 2.5}, {"shrink": -1.0}])
def test_item_knn_validates_settings_in_fit(params: dict) -> None:
    model = ItemKNN(**params)  # __init__ only stores
    with pytest.raises(ValueError):
        model.fit(sp.csr_matrix(np.ones((2, 2))))


# --------------------------------------------------------------------------- EASE
def test_ease_matches_the_closed_form() -> None:
    X = sp.csr_matrix(np.array([[1.0, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1], [0, 0, 1, 1]]))
    l2 = 0.5
    P = np.linalg.inv(X.toarray().T @ X.toarray() + l2 * np.eye(4))
    B = np.eye(4) - P / np.diag(P)
    model = EASE(l2=l2).fit(X)
    np.testing.assert_allclose(model.coef_, B, atol=1e-12)
    assert np.all(np.diag(model.coef_) == 0)
    np.testing.assert_allclose(model.score_items(X[:2]), X[:2].toarray() @ B, atol=1e-12)


def test_ease_in_place_solve_matches_the_textbook_formula_across_blocks(monkeypatch) -> None:
    import recsys.models.ease as ease_module

    # Small blocks so that the Gram sum and the mirroring both cross block edges.
    monkeypatch.setattr(ease_module, "_GRAM_BLOCK_ROWS", 7)
    monkeypatch.setattr(ease_module, "_MIRROR_BLOCK", 5)
    rng = np.random.default_rng(4)
    X = sp.csr_matrix((rng.random((60, 23)) < 0.2) * rng.integers(1, 4, (60, 23)), dtype=float)
    gram = X.toarray().T @ X.toarray() + 3.0 * np.eye(23)
    P = linalg.inv(gram)
    expected = -P / np.diag(P)[None, :]
    expected[np.diag_indices(23)] = 0.0
    coef = EASE(l2=3.0).fit(X).coef_
    np.testing.assert_allclose(coef, expected, rtol=1e-10, atol=1e-12)
    assert coef.flags.c_contiguous and np.all(np.diag(coef) == 0)


def test_ease_refuses_catalogues_above_max_items() -> None:
    assert EASE().max_items == 20_000
    X = sp.csr_matrix(np.ones((2, 4)))
    with pytest.raises(ModelTooLargeError, match="max_items=3") as info:
        EASE(max_items=3).fit(X)
    assert isinstance(info.value, RecsysError)
    EASE(max_items=4).fit(X)  # at the limit is fine


def test_ease_validates_l2() -> None:
    with pytest.raises(ValueError, match="l2"):
        EASE(l2=0.0).fit(sp.csr_matrix(np.ones((2, 2))))


# --------------------------------------------------------------------------- factory
@pytest.mark.parametrize(
    ("params", "kind", "settings"),
    [
        (ModelParams(n_neighbors=7, metric="manhattan", similarity_power=2.0), UserKNN,
         {"n_neighbors": 7, "metric": "manhattan", "similarity_power": 2.0}),
        (ModelParams(model="item_knn", n_neighbors=7), ItemKNN, {"n_neighbors": 7}),
        (ModelParams(model="ease", l2=50.0), EASE, {"l2": 50.0}),
        (ModelParams(model="rp3beta", n_neighbors=9, alpha=0.7, beta=0.2), RP3beta,
         {"n_neighbors": 9, "alpha": 0.7, "beta": 0.2}),
        (ModelParams(model="als", factors=8, regularization=0.1, iterations=3, confidence=2.0),
         ALS, {"factors": 8, "regularization": 0.1, "iterations": 3, "confidence": 2.0}),
        (ModelParams(model="popularity"), Popularity, {"by_segment": False}),
        (ModelParams(model="popularity_segment"), Popularity, {"by_segment": True}),
    ],
)  # fmt: skip
def test_make_model_builds_the_kind_with_its_settings(params, kind, settings) -> None:
    model = make_model(params)
    assert type(model) is kind
    assert {key: model.get_params()[key] for key in settings} == settings


def test_factory_covers_every_model_kind_and_only_segment_popularity_needs_segments() -> None:
    assert {type(make_model(ModelParams(model=kind))) for kind in MODEL_KINDS} == {
        UserKNN, ItemKNN, RP3beta, EASE, ALS, Popularity
    }  # fmt: skip
    assert [kind for kind in MODEL_KINDS if needs_segments(ModelParams(model=kind))] == [
        "popularity_segment"
    ]
    assert segment_arguments(ModelParams(model="popularity"), ["a"]) == {}
    assert segment_arguments(ModelParams(model="popularity_segment"), ["a"]) == {"groups": ["a"]}
    assert issubclass(ModelTooLargeError, RecsysError)
