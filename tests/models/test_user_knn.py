"""UserKNN: agreement with scikit-learn, neighbour rules, known answers and estimator checks."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.estimator_checks import parametrize_with_checks

from recsys.models.user_knn import METRICS, UserKNN, neighbors_to_graph


def random_matrix(n_rows: int = 120, n_cols: int = 40, density: float = 0.15, seed: int = 0):
    """Continuous random values: no exact ties, so the neighbour order is unique."""
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_rows,
        n_cols,
        density=density,
        format="csr",
        random_state=rng,
        data_rvs=lambda size: rng.uniform(0.1, 5.0, size),
    )
    X.sort_indices()
    return X


def checkerboard() -> sp.csr_matrix:
    """Six customers, two groups with disjoint tastes (products A, B, C and D, E, F).

    0: A B     1: A B C     2: A B C        3: D E     4: D E F     5: F
    """
    rows = [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 5]
    cols = [0, 1, 0, 1, 2, 0, 1, 2, 3, 4, 3, 4, 5, 5]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(6, 6))


def sklearn_reference(X, metric: str, k: int):
    """k neighbours of every row by scikit-learn, itself excluded, as similarities."""
    nn = NearestNeighbors(n_neighbors=k + 1, metric=metric, algorithm="brute").fit(X)
    dist, idx = nn.kneighbors(X)
    sims = 1.0 - dist if metric == "cosine" else 1.0 / (1.0 + dist)
    own = idx == np.arange(X.shape[0])[:, None]
    # Drop the row itself (or the last column when the row was not returned first).
    keep = ~own
    keep[~own.any(axis=1), -1] = False
    return sims[keep].reshape(-1, k), idx[keep].reshape(-1, k)


# --- agreement with scikit-learn ------------------------------------------------------------
@pytest.mark.parametrize("chunk_size", [7, 1000])
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_cosine_matches_sklearn_brute(chunk_size, n_jobs):
    X = random_matrix()
    model = UserKNN(n_neighbors=5, chunk_size=chunk_size, n_jobs=n_jobs).fit(X)
    parts = list(model.iter_kneighbors(X, rows=np.arange(X.shape[0])))
    sims, idx = np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])
    ref_sims, ref_idx = sklearn_reference(X, "cosine", 5)
    # Rows with fewer than 5 positive similarities are padded by us, not by scikit-learn.
    valid = idx >= 0
    assert_array_equal(idx[valid], ref_idx[valid])
    assert_allclose(sims[valid], ref_sims[valid], atol=1e-10)
    assert (ref_sims[~valid] <= 1e-12).all()


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_other_metrics_match_sklearn_brute(metric):
    X = random_matrix(seed=1)
    model = UserKNN(n_neighbors=6, metric=metric).fit(X)
    sims, idx = model.kneighbors(X, rows=np.arange(X.shape[0]))
    ref_sims, ref_idx = sklearn_reference(X, metric, 6)
    assert_array_equal(idx, ref_idx)
    assert_allclose(sims, ref_sims, rtol=1e-9)


def test_without_rows_each_customer_is_its_own_best_match():
    X = random_matrix(seed=2)
    model = UserKNN(n_neighbors=3).fit(X)
    nn = NearestNeighbors(n_neighbors=3, metric="cosine", algorithm="brute").fit(X)
    dist, ref_idx = nn.kneighbors(X[:10])
    sims, idx = model.kneighbors(X[:10])
    assert_array_equal(idx, ref_idx)
    assert_allclose(sims, 1.0 - dist, atol=1e-10)


@pytest.mark.parametrize("metric", METRICS)
def test_index_is_built_at_fit_and_pickled_with_the_model(metric):
    X = random_matrix(60, 15, seed=8)
    model = UserKNN(n_neighbors=4, metric=metric).fit(X)
    assert model.index_.n_rows == 60
    assert not hasattr(model, "nn_")
    again = pickle.loads(pickle.dumps(model))
    a = model.kneighbors(X, rows=np.arange(60))
    b = again.kneighbors(X, rows=np.arange(60))
    assert_array_equal(a[1], b[1])
    assert_array_equal(a[0], b[0])
    assert np.shares_memory(again.X_.data, again.index_.data)  # one copy of the rows


@pytest.mark.parametrize("metric", METRICS)
def test_ties_are_broken_by_lower_index(metric):
    # Customers 1..6 are identical (similarity ties); k=3 must pick 1, 2, 3 in that order.
    X = sp.csr_matrix(np.array([[1, 1, 0, 0]] + [[1, 1, 1, 0]] * 6 + [[0, 0, 1, 1]], float))
    model = UserKNN(n_neighbors=3, metric=metric, chunk_size=2).fit(X)
    sims, idx = model.kneighbors(X[[0, 4]], rows=np.array([0, 4]))
    assert idx.tolist() == [[1, 2, 3], [1, 2, 3]]
    if metric == "cosine":
        assert_allclose(sims[0], np.sqrt(2 / 3))
        assert_allclose(sims[1], 1.0)


# --- neighbour rules ------------------------------------------------------------------------
def test_customer_is_never_its_own_neighbour():
    X = checkerboard()
    sims, idx = UserKNN(n_neighbors=5).fit(X).kneighbors(X, rows=np.arange(6))
    assert not (idx == np.arange(6)[:, None]).any()


def test_new_customer_without_rows_can_match_everyone():
    X = checkerboard()
    basket = sp.csr_matrix(np.array([[1, 1, 0, 0, 0, 0]], float))
    sims, idx = UserKNN(n_neighbors=3).fit(X).kneighbors(basket)
    assert idx.tolist() == [[0, 1, 2]]
    assert_allclose(sims[0], [1.0, np.sqrt(2 / 3), np.sqrt(2 / 3)])


def test_checkerboard_known_neighbours_and_padding():
    X = checkerboard()
    model = UserKNN(n_neighbors=3).fit(X)
    sims, idx = model.kneighbors(X, rows=np.arange(6))
    s23 = np.sqrt(2 / 3)  # |AB . ABC| / (sqrt 2 * sqrt 3)
    assert idx.tolist() == [
        [1, 2, -1],  # 0 -> 1, 2 (tie, lower index first); nobody else shares a product
        [2, 0, -1],  # 1 -> identical 2 (1.0), then 0
        [1, 0, -1],
        [4, -1, -1],  # 3: D E -> 4 only (5 bought F)
        [3, 5, -1],  # 4: D E F -> 3 (2/sqrt 6), 5 (1/sqrt 3)
        [4, -1, -1],
    ]
    assert_allclose(sims[0], [s23, s23, 0.0])
    assert_allclose(sims[1], [1.0, s23, 0.0])
    assert_allclose(sims[4], [2 / np.sqrt(6), 1 / np.sqrt(3), 0.0])
    assert_allclose(sims[5], [1 / np.sqrt(3), 0.0, 0.0])  # F . DEF / (1 * sqrt 3)


def test_min_similarity_drops_weak_neighbours():
    X = checkerboard()
    sims, idx = UserKNN(n_neighbors=3, min_similarity=0.7).fit(X).kneighbors(X, rows=np.arange(6))
    assert idx[4].tolist() == [3, -1, -1]  # 2/sqrt 6 = 0.816 kept, 1/sqrt 3 = 0.577 dropped
    assert idx[5].tolist() == [-1, -1, -1]
    assert (sims[idx < 0] == 0.0).all()


def test_empty_customer_row_has_no_neighbours():
    X = sp.vstack([checkerboard(), sp.csr_matrix((1, 6))]).tocsr()
    sims, idx = UserKNN(n_neighbors=2).fit(X).kneighbors(X[[6]], rows=[6])
    assert idx.tolist() == [[-1, -1]] and sims.tolist() == [[0.0, 0.0]]


def test_n_neighbors_override_and_more_than_customers():
    X = checkerboard()
    sims, idx = UserKNN(n_neighbors=2).fit(X).kneighbors(X[[1]], rows=[1], n_neighbors=10)
    assert idx.shape == (1, 10)
    assert idx[0, :2].tolist() == [2, 0] and (idx[0, 2:] == -1).all()


@pytest.mark.parametrize("metric", METRICS)
def test_one_customer_and_batch_agree(metric):
    X = random_matrix(50, 20, seed=4)
    model = UserKNN(n_neighbors=4, metric=metric, chunk_size=8).fit(X)
    batch = model.kneighbors(X, rows=np.arange(50))
    for i in (0, 17, 49):
        one = model.kneighbors(X[[i]], rows=[i])
        assert_array_equal(one[1][0], batch[1][i])
        assert_allclose(one[0][0], batch[0][i])


@pytest.mark.parametrize("metric", ["cosine", "manhattan"])
def test_threaded_batch_search_matches_serial(metric):
    X = random_matrix(90, 20, seed=7)
    serial = UserKNN(n_neighbors=4, metric=metric, chunk_size=10).fit(X)
    parallel = UserKNN(n_neighbors=4, metric=metric, chunk_size=10, n_jobs=2).fit(X)
    a = serial.kneighbors(X, rows=np.arange(90))
    parts = list(parallel.iter_kneighbors(X, rows=np.arange(90), n_jobs=-1))
    b = (np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts]))
    assert_array_equal(a[1], b[1])
    assert_array_equal(a[0], b[0])


# --- score, support, graph ------------------------------------------------------------------
def test_checkerboard_scores_and_support():
    X = checkerboard()
    model = UserKNN(n_neighbors=2).fit(X)
    s23 = np.sqrt(2 / 3)
    score = model.score_items(X[[0, 3]], rows=[0, 3]).toarray()
    # Customer 0: neighbours 1 and 2 (both A B C, similarity s23 each).
    assert_allclose(score[0], [2 * s23, 2 * s23, 2 * s23, 0, 0, 0])
    # Customer 3: neighbour 4 (D E F, 2/sqrt 6).
    assert_allclose(score[1], [0, 0, 0] + [2 / np.sqrt(6)] * 3)
    support = model.support(X[[0, 3]], rows=[0, 3]).toarray()
    assert support.tolist() == [[2, 2, 2, 0, 0, 0], [0, 0, 0, 1, 1, 1]]


def test_score_uses_weighted_values():
    X = checkerboard()
    X_weighted = X.multiply(np.array([1, 1, 3, 1, 1, 1])).tocsr()  # product C weighs 3
    model = UserKNN(n_neighbors=2).fit(X_weighted)
    graph = model.neighbor_graph(X_weighted[[0]], rows=[0])
    assert_allclose(model.score_graph(graph).toarray(), (graph @ X_weighted).toarray())
    assert sp.issparse(model.score_items(X_weighted[[0]], rows=[0]))


def test_neighbor_graph_matches_kneighbors():
    X = random_matrix(30, 10, seed=5)
    model = UserKNN(n_neighbors=3).fit(X)
    graph = model.neighbor_graph(X, rows=np.arange(30))
    sims, idx = model.kneighbors(X, rows=np.arange(30))
    assert graph.shape == (30, 30)
    for i in range(30):
        got = dict(zip(graph[i].indices.tolist(), graph[i].data.tolist(), strict=True))
        want = {j: s for j, s in zip(idx[i], sims[i], strict=True) if j >= 0}
        assert got == pytest.approx(want)
    assert_array_equal(neighbors_to_graph(sims, idx, 30).toarray(), graph.toarray())


# --- validation -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params",
    [
        {"n_neighbors": 0},
        {"n_neighbors": 2.5},
        {"metric": "jaccard"},
        {"min_similarity": 1.0},
        {"min_similarity": -0.1},
        {"chunk_size": 0},
        {"similarity_power": 0},
    ],
)
def test_invalid_parameters_raise_in_fit(params):
    model = UserKNN(**params)  # __init__ only stores
    with pytest.raises(ValueError):
        model.fit(checkerboard())


def test_methods_require_fit():
    with pytest.raises(NotFittedError):
        UserKNN().kneighbors(checkerboard())


def test_query_with_wrong_width_or_rows_raises():
    model = UserKNN().fit(checkerboard())
    with pytest.raises(ValueError):
        model.kneighbors(sp.csr_matrix((1, 5)))
    with pytest.raises(ValueError):
        model.kneighbors(checkerboard()[[0]], rows=[0, 1])
    with pytest.raises(ValueError):
        model.kneighbors(checkerboard()[[0]], rows=[99])


def test_fit_does_not_modify_input():
    X = sp.csr_matrix((np.ones(3), ([0, 0, 1], [1, 0, 1])), shape=(2, 2))
    X.has_sorted_indices = False
    before = X.copy()
    UserKNN().fit(X)
    assert_array_equal(X.indices, before.indices)


# scikit-learn's own checks. UserKNN is neither classifier, regressor nor transformer, so most
# checks exercise fit / get_params / set_params / clone / pickling / input validation. The
# recommendation scores are `score_items`, leaving `score(X, y)` to scikit-learn's meaning, so
# every check is expected to pass.
@parametrize_with_checks(
    [UserKNN(), UserKNN(metric="euclidean", n_neighbors=3)],
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --- shrinkage, asymmetric cosine, popularity penalty ----------------------------------------
# c0 = {0, 1} (|c0|^2 = 2) shares 2 products with c1 = {0, 1, 2, 3} (|c1|^2 = 4), none with
# c2 = {3}. Buyers per product: 2, 2, 1, 2.
SMALL = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 1, 1], [0, 0, 0, 1]], dtype=float))


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, 2 / np.sqrt(2 * 4)),  # plain cosine
        ({"shrink": 2.0}, 2 / np.sqrt(8) * 2 / (2 + 2)),  # n_common / (n_common + shrink)
        ({"asymmetry": 1.0}, 2 / 2),  # u.v / |u|^2
        ({"asymmetry": 0.0}, 2 / 4),  # u.v / |v|^2
        ({"asymmetry": 0.6}, 2 / (2**0.6 * 4**0.4)),
    ],
)
def test_shrink_and_asymmetric_cosine_known_similarity(settings, expected):
    model = UserKNN(n_neighbors=1, **settings).fit(SMALL)
    sim, idx = model.kneighbors(SMALL[[0]], rows=np.array([0]))
    assert idx.tolist() == [[1]]
    assert_allclose(sim, [[expected]], rtol=1e-12)


def test_popularity_penalty_divides_scores_by_buyers_to_the_power():
    plain = UserKNN(n_neighbors=1).fit(SMALL)
    damped = UserKNN(n_neighbors=1, popularity_penalty=0.5).fit(SMALL)
    s = 2 / np.sqrt(8)
    buyers = np.array([2.0, 2.0, 1.0, 2.0])
    rows = np.array([0])
    assert_allclose(plain.score_items(SMALL[[0]], rows=rows).toarray(), [[s, s, s, s]])
    assert_allclose(damped.score_items(SMALL[[0]], rows=rows).toarray(), [s / buyers**0.5])
    # The compiled top-n pass ranks by the same damped scores; the neighbours are unchanged.
    sims, idx = damped.kneighbors(SMALL[[0]], rows=rows)
    items, scores, _ = damped.top_items(sims, idx, SMALL[[0]], 2)
    assert items.tolist() == [[2, 3]]
    assert_allclose(scores, [[s, s / np.sqrt(2)]])
    # Pickled and loaded, the damped scoring rows are rebuilt.
    again = pickle.loads(pickle.dumps(damped))
    assert "score_X_" not in damped.__getstate__()
    assert_allclose(again.score_items(SMALL[[0]], rows=rows).toarray(), [s / buyers**0.5])


def test_a_model_pickled_before_the_new_options_loads_as_plain_cosine():
    model = UserKNN(n_neighbors=1).fit(SMALL)
    state = model.__getstate__()
    for name in ("shrink", "asymmetry", "popularity_penalty", "item_weights_"):
        state.pop(name)
    old = UserKNN.__new__(UserKNN)
    old.__setstate__(state)
    assert (old.shrink, old.asymmetry, old.popularity_penalty) == (0.0, 0.5, 0.0)
    assert_allclose(old.score_items(SMALL[[0]], rows=np.array([0])).toarray(),
                    model.score_items(SMALL[[0]], rows=np.array([0])).toarray())  # fmt: skip


@pytest.mark.parametrize(
    "settings",
    [
        {"shrink": -1.0},
        {"asymmetry": 1.5},
        {"popularity_penalty": -0.1},
        {"metric": "euclidean", "asymmetry": 0.6},
        {"metric": "manhattan", "shrink": 3.0},
    ],
)
def test_bad_new_options_raise_in_fit(settings):
    with pytest.raises(ValueError):
        UserKNN(**settings).fit(SMALL)


def test_model_params_carry_the_new_options_to_the_model_and_its_label():
    from recsys.errors import InvalidParamsError
    from recsys.models.factory import make_model
    from recsys.params import ModelParams

    params = ModelParams(
        n_neighbors=50, similarity_power=1.0, asymmetry=0.6, popularity_penalty=0.1, shrink=5.0
    )
    model = make_model(params)
    assert (model.shrink, model.asymmetry, model.popularity_penalty) == (5.0, 0.6, 0.1)
    assert params.label() == ("user_knn k=50 cosine shrink=5 asym=0.6 pop_penalty=0.1 binary/count")
    assert ModelParams().label() == (
        "user_knn k=200 cosine power=3 asym=0.7 pop_penalty=0.2 binary/count"
    )
    assert ModelParams.from_dict(params.to_dict()) == params
    for bad in ({"asymmetry": 2.0}, {"popularity_penalty": 3.0}, {"shrink": -1.0},
                {"metric": "euclidean", "shrink": -1.0}, {"metric": "manhattan", "asymmetry": 2.0}
                ):  # fmt: skip
        with pytest.raises(InvalidParamsError):
            ModelParams(**bad)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_other_metrics_carry_neutral_cosine_only_settings(metric):
    from recsys.models.factory import make_model
    from recsys.params import ModelParams

    params = ModelParams(
        n_neighbors=5, metric=metric, shrink=4.0, asymmetry=0.7, popularity_penalty=0.2
    )
    # Shrink and asymmetry shape the cosine only: neutral, so the model fits and the settings
    # equal those written without them; the popularity penalty applies to every metric.
    assert (params.shrink, params.asymmetry, params.popularity_penalty) == (0.0, 0.5, 0.2)
    assert params == ModelParams(n_neighbors=5, metric=metric, popularity_penalty=0.2)
    assert hash(params) == hash(ModelParams(n_neighbors=5, metric=metric, popularity_penalty=0.2))
    assert "asym" not in params.label() and "shrink" not in params.label()
    model = make_model(params).fit(SMALL)
    assert (model.shrink, model.asymmetry, model.popularity_penalty) == (0.0, 0.5, 0.2)
    assert ModelParams.from_dict({**params.to_dict(), "asymmetry": 0.9}) == params


def test_settings_saved_before_a_field_existed_keep_their_old_meaning():
    import pickle

    from recsys.params import LEGACY_VALUES, ModelParams

    # An artifact's params (metadata dict or pickled object) from before power, shrinkage,
    # asymmetry, the popularity penalty and time decay: plain cosine, not today's defaults.
    old = {"model": "user_knn", "n_neighbors": 20, "metric": "cosine", "weighting": "binary"}
    plain = ModelParams(n_neighbors=20, **LEGACY_VALUES)
    assert ModelParams.from_dict(old) == plain
    assert plain.label() == "user_knn k=20 cosine binary/count"
    restored = ModelParams.__new__(ModelParams)
    restored.__setstate__(old)
    assert restored == plain and hash(restored) == hash(plain)
    current = ModelParams(n_neighbors=7, asymmetry=0.6, half_life_days=30.0)
    assert pickle.loads(pickle.dumps(current)) == current  # a full state is kept as saved
