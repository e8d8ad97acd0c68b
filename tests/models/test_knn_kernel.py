"""Known answers for the compiled neighbour kernel (recsys.models.knn_kernel).

The reference is scikit-learn's brute-force ``NearestNeighbors``: its full distance matrix is
turned into similarities and ordered by (-similarity, row) here, so the expected tie order is the
documented one rather than whatever order ``kneighbors`` happens to return.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from recsys.models.knn_kernel import METRICS, build_index, kneighbors

WEIGHTINGS = ("binary", "counts", "log1p")
# Similarities of both sides are computed by different float sums; ties closer than this are
# treated as ties (either order of the two rows is then accepted, see _assert_matches).
TIE_TOL = 1e-9


def _data(seed: int, n: int, p: int, weighting: str, *, density: float = 0.15) -> sp.csr_matrix:
    """Random rows with many exact ties: duplicated rows, an empty row, binary-ish overlaps."""
    rng = np.random.default_rng(seed)
    counts = rng.binomial(3, density, size=(n, p)).astype(np.float64)
    counts[rng.random((n, p)) < 0.5] = 0.0
    counts[n // 3] = counts[1]  # duplicate rows: exact ties of every metric
    counts[n // 2] = counts[1]
    counts[2] = 0.0  # an empty training row
    if weighting == "binary":
        values = (counts > 0).astype(np.float64)
    elif weighting == "counts":
        values = counts
    else:  # log1p x idf-like column factor: positive floats
        idf = 1.0 + rng.random(p)
        values = np.log1p(counts) * idf
    return sp.csr_matrix(values)


def _reference_sim(X: sp.csr_matrix, Q: sp.csr_matrix, metric: str) -> np.ndarray:
    n = X.shape[0]
    nn = NearestNeighbors(n_neighbors=n, algorithm="brute", metric=metric).fit(X)
    dist, idx = nn.kneighbors(Q, n_neighbors=n)
    full = np.empty((Q.shape[0], n))
    np.put_along_axis(full, idx, dist, axis=1)
    return 1.0 - full if metric == "cosine" else 1.0 / (1.0 + full)


def _reference(
    sim: np.ndarray, k: int, *, self_rows: np.ndarray | None = None, min_similarity: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of a dense similarity matrix: (-similarity, row) order, the kernel's conventions."""
    m, n = sim.shape
    out_s = np.zeros((m, k))
    out_i = np.full((m, k), -1, dtype=np.int64)
    for r in range(m):
        cols = np.arange(n)
        ok = (sim[r] > 0) & (sim[r] >= min_similarity)
        if self_rows is not None and self_rows[r] >= 0:
            ok &= cols != self_rows[r]
        cand = cols[ok]
        order = np.lexsort((cand, -sim[r, cand]))[:k]
        out_s[r, : order.size] = sim[r, cand[order]]
        out_i[r, : order.size] = cand[order]
    return out_s, out_i


def _assert_matches(
    got: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray], full: np.ndarray
) -> None:
    """Similarities to 1e-9; rows exact except inside groups tied to within TIE_TOL.

    Inside such a group the kernel's rows must be members of the group (so at a cut through the
    group any of its members is accepted), and the kernel itself must order exact ties by row.
    """
    gs, gi = got
    rs, ri = ref
    np.testing.assert_allclose(gs, rs, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(gi < 0, ri < 0)
    for r in range(gs.shape[0]):
        valid = gi[r] >= 0
        # The kernel's own value for each returned row is that row's true similarity.
        np.testing.assert_allclose(gs[r, valid], full[r, gi[r, valid]], rtol=0, atol=1e-9)
        for j in np.flatnonzero(valid):
            near = np.abs(full[r] - rs[r, j]) <= TIE_TOL
            if near.sum() == 1:
                assert gi[r, j] == ri[r, j], (r, j)
            else:
                assert near[gi[r, j]], (r, j)
        same = (gs[r, 1:] == gs[r, :-1]) & valid[1:]
        assert (gi[r, 1:][same] > gi[r, :-1][same]).all(), r
        assert len(set(gi[r, valid].tolist())) == valid.sum()


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("k", [1, 5, 40])
def test_matches_sklearn_with_self_exclusion(metric: str, weighting: str, k: int) -> None:
    X = _data(0, 30, 12, weighting)
    self_rows = np.arange(30, dtype=np.int64)
    self_rows[::4] = -1  # some queries have no own row: they find themselves first
    got = kneighbors(build_index(X), X, k, metric=metric, self_rows=self_rows)
    full = _reference_sim(X, X, metric)
    _assert_matches(got, _reference(full, k, self_rows=self_rows), full)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("min_similarity", [0.3, 0.6])
def test_min_similarity(metric: str, weighting: str, min_similarity: float) -> None:
    X = _data(1, 25, 10, weighting)
    Q = _data(2, 8, 10, weighting)
    got = kneighbors(build_index(X), Q, 25, metric=metric, min_similarity=min_similarity)
    full = _reference_sim(X, Q, metric)
    _assert_matches(got, _reference(full, 25, min_similarity=min_similarity), full)
    assert (got[0][got[1] >= 0] >= min_similarity).all()


@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_cosine_pads_when_k_exceeds_candidates(weighting: str) -> None:
    X = _data(3, 20, 40, weighting, density=0.02)
    got = kneighbors(build_index(X), X, 20, self_rows=np.arange(20))
    full = _reference_sim(X, X, "cosine")
    ref = _reference(full, 20, self_rows=np.arange(20))
    _assert_matches(got, ref, full)
    assert (got[1] == -1).any() and (got[0][got[1] == -1] == 0.0).all()


@pytest.mark.parametrize("metric", METRICS)
def test_empty_query_rows(metric: str) -> None:
    X = _data(4, 15, 8, "counts")
    Q = sp.csr_matrix((3, 8))
    sims, idx = kneighbors(build_index(X), Q, 4, metric=metric)
    if metric == "cosine":
        assert (idx == -1).all() and (sims == 0).all()
    else:
        full = _reference_sim(X, Q, metric)
        _assert_matches((sims, idx), _reference(full, 4), full)
        assert idx[0, 0] == 2  # the empty training row is at distance 0


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_no_overlap_finds_smallest_norms(metric: str, weighting: str) -> None:
    # The query buys only a product nobody in the training rows bought: every neighbour comes
    # from the norm order, none from the inverted index.
    X = _data(5, 30, 10, weighting)
    X = sp.hstack([X, sp.csr_matrix((30, 1))]).tocsr()
    Q = sp.csr_matrix(([2.0], ([0], [10])), shape=(1, 11))
    got = kneighbors(build_index(X), Q, 6, metric=metric)
    full = _reference_sim(X, Q, metric)
    _assert_matches(got, _reference(full, 6), full)
    assert got[1][0, 0] == 2  # the empty training row


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_partial_overlap_mixes_index_and_norm_candidates(metric: str) -> None:
    # Heavy overlapping customers are farther than light strangers: both sources must merge.
    X = sp.csr_matrix(
        np.array(
            [
                [5.0, 5.0, 5.0, 0.0, 0.0],  # shares product 0, large norm
                [1.0, 0.0, 0.0, 0.0, 0.0],  # shares product 0, small norm
                [0.0, 0.0, 0.0, 1.0, 0.0],  # stranger, norm 1
                [0.0, 0.0, 0.0, 0.0, 1.0],  # stranger, norm 1 (tie with row 2)
                [0.0, 0.0, 0.0, 3.0, 3.0],  # stranger, large norm
            ]
        )
    )
    Q = sp.csr_matrix(np.array([[1.0, 0.0, 0.0, 0.0, 0.0]]))
    sims, idx = kneighbors(build_index(X), Q, 5, metric=metric)
    full = _reference_sim(X, Q, metric)
    _assert_matches((sims, idx), _reference(full, 5), full)
    assert idx[0].tolist() == [1, 2, 3, 4, 0]


def test_exact_ties_lower_row_first() -> None:
    # Rows 1, 3, 4 are identical, rows 0 and 2 identical: every metric ties them exactly.
    X = sp.csr_matrix(
        np.array(
            [[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 1, 0], [0, 0, 0, 1]],
            dtype=float,
        )
    )
    for metric in METRICS:
        sims, idx = kneighbors(build_index(X), X[[3]], 4, metric=metric, self_rows=np.array([3]))
        assert idx[0].tolist() == [1, 4, 0, 2], metric
        assert sims[0, 0] == sims[0, 1] and sims[0, 2] == sims[0, 3]


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("weighting", WEIGHTINGS)
def test_threads_and_chunking_do_not_change_results(metric: str, weighting: str) -> None:
    X = _data(6, 200, 30, weighting, density=0.1)
    index = build_index(X)
    rows = np.arange(200)
    one = kneighbors(index, X, 7, metric=metric, self_rows=rows, n_threads=1)
    two = kneighbors(index, X, 7, metric=metric, self_rows=rows, n_threads=2)
    parts = [
        kneighbors(index, X[s : s + 37], 7, metric=metric, self_rows=rows[s : s + 37])
        for s in range(0, 200, 37)
    ]
    chunked = (np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts]))
    for other in (two, chunked):
        np.testing.assert_array_equal(one[0], other[0])
        np.testing.assert_array_equal(one[1], other[1])


def test_index_is_read_only_and_picklable() -> None:
    X = _data(7, 20, 8, "log1p")
    index = build_index(X)
    assert not index.csc_data.flags.writeable
    again = pickle.loads(pickle.dumps(index))
    for metric in METRICS:
        a = kneighbors(index, X, 3, metric=metric)
        b = kneighbors(again, X, 3, metric=metric)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


# --- similarity variants against a dense numpy reference -------------------------------------
def _variant_reference(X: np.ndarray, Q: np.ndarray, shrink: float, alpha: float) -> np.ndarray:
    dot = Q @ X.T
    qn = (Q * Q).sum(axis=1)[:, None]
    xn = (X * X).sum(axis=1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(dot != 0, dot / (qn**alpha * xn ** (1.0 - alpha)), 0.0)
    if alpha == 0.5:
        sim = np.minimum(sim, 1.0)
    common = (Q > 0).astype(float) @ (X > 0).astype(float).T
    if shrink > 0:
        sim = sim * common / (common + shrink)
    return sim


@pytest.mark.parametrize("weighting", WEIGHTINGS)
@pytest.mark.parametrize("shrink", [0.0, 2.0, 10.0])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_shrink_and_alpha_match_dense_reference(
    weighting: str, shrink: float, alpha: float
) -> None:
    X = _data(8, 25, 10, weighting)
    rows = np.arange(25)
    got = kneighbors(build_index(X), X, 6, self_rows=rows, shrink=shrink, alpha=alpha)
    dense = X.toarray()
    full = _variant_reference(dense, dense, shrink, alpha)
    _assert_matches(got, _reference(full, 6, self_rows=rows), full)


def test_default_variants_are_plain_cosine() -> None:
    X = _data(9, 40, 12, "log1p")
    index = build_index(X)
    a = kneighbors(index, X, 5)
    b = kneighbors(index, X, 5, shrink=0.0, alpha=0.5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_shrink_counts_shared_products() -> None:
    X = sp.csr_matrix(np.array([[1, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], dtype=float))
    sims, idx = kneighbors(build_index(X), X[[0]], 2, self_rows=np.array([0]), shrink=1.0)
    cos1 = 2 / np.sqrt(3 * 2)
    cos2 = 1 / np.sqrt(3 * 2)
    assert idx[0].tolist() == [1, 2]
    np.testing.assert_allclose(sims[0], [cos1 * 2 / 3, cos2 * 1 / 2], rtol=1e-12)


# --- argument validation ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"metric": "jaccard"}, "metric must be one of"),
        ({"k": 0}, "k must be an integer"),
        ({"k": 2.5}, "k must be an integer"),
        ({"min_similarity": -0.1}, "min_similarity must be >= 0"),
        ({"min_similarity": float("nan")}, "min_similarity must be finite"),
        ({"shrink": -1.0}, "shrink must be >= 0"),
        ({"alpha": 1.5}, r"alpha must be in \[0, 1\]"),
        ({"metric": "euclidean", "shrink": 1.0}, "apply to metric='cosine' only"),
        ({"metric": "manhattan", "alpha": 0.3}, "apply to metric='cosine' only"),
        ({"n_threads": 0}, "n_threads must be an integer"),
        ({"self_rows": np.array([0, 1])}, "self_rows must be an integer array of shape"),
        ({"self_rows": np.array([0, 1, 9])}, "self_rows must be -1 or a training row"),
    ],
)
def test_invalid_arguments(kwargs: dict, message: str) -> None:
    X = _data(10, 5, 4, "binary")
    args = {"k": 2, **kwargs}
    k = args.pop("k")
    with pytest.raises(ValueError, match=message):
        kneighbors(build_index(X), X[:3], k, **args)


def test_invalid_inputs() -> None:
    X = _data(11, 5, 4, "counts")
    index = build_index(X)
    with pytest.raises(ValueError, match="columns"):
        kneighbors(index, sp.csr_matrix((1, 3)), 2)
    with pytest.raises(ValueError, match="sparse matrix"):
        kneighbors(index, X.toarray(), 2)
    with pytest.raises(ValueError, match="non-negative"):
        kneighbors(index, -X, 2, metric="manhattan")
    with pytest.raises(ValueError, match="KernelIndex"):
        kneighbors(X, X, 2)


def test_asymmetric_norm_powers_are_computed_once_and_travel_with_the_index() -> None:
    X = _data(3, 60, 12, "counts")
    index = build_index(X)
    first = kneighbors(index, X, 5, alpha=0.7)
    powers = index.__dict__["_sq_norm_powers"]
    assert list(powers) == [pytest.approx(0.3)]
    again = kneighbors(index, X, 5, alpha=0.7)
    assert index.__dict__["_sq_norm_powers"] is powers and len(powers) == 1
    restored = pickle.loads(pickle.dumps(index))
    for got in (again, kneighbors(restored, X, 5, alpha=0.7)):
        np.testing.assert_array_equal(got[1], first[1])
        assert got[0].tobytes() == first[0].tobytes()
