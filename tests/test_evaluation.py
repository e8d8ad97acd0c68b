"""Tests for recsys.evaluation: split, metrics (known answers), model runner, evaluate, sweep."""

from __future__ import annotations

import json
import math
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.metrics import ndcg_score

from recsys import schema
from recsys.baselines import Popularity
from recsys.errors import RecsysError
from recsys.evaluation import (
    DEFAULT_GRID,
    EvaluationResult,
    average_popularity,
    catalogue_coverage,
    evaluate,
    evaluate_model,
    per_customer_metrics,
    ranking_metrics,
    sweep,
    temporal_split,
    validation_split,
)
from recsys.params import InvalidParamsError

C, P, D = schema.CUSTOMER_ID, schema.PRODUCT_ID, schema.PURCHASE_DATE
LOG3 = math.log2(3)


def purchases(rows: list[tuple[str, str, str | None]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[C, P, D])
    frame[C] = frame[C].astype("str")
    frame[P] = frame[P].astype("str")
    frame[D] = pd.to_datetime(frame[D])
    frame[schema.QUANTITY] = np.int64(1)
    frame[schema.AMOUNT] = np.nan
    return frame


def clustered_purchases(seed: int = 0, *, dated: bool = True) -> pd.DataFrame:
    """4 clusters x 30 customers; each buys 8 of its cluster's 10 products plus 1 random one."""
    rng = np.random.default_rng(seed)
    rows = []
    for cluster in range(4):
        for c in range(30):
            customer = f"c{cluster}_{c:02d}"
            items = rng.choice(10, size=8, replace=False) + cluster * 10
            items = [*items, rng.integers(40)]
            for item in items:
                for _ in range(rng.integers(1, 3)):
                    day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(365)))
                    rows.append((customer, f"p{item:02d}", day if dated else None))
    return purchases(rows)


def segments_of(frame: pd.DataFrame) -> pd.DataFrame:
    ids = frame[C].unique()
    return pd.DataFrame({C: ids, schema.SEGMENT: [i.split("_")[0] for i in ids]})


def first_dates(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby([C, P])[D].min()


# =========================================================================== split
def test_split_holds_out_the_most_recently_discovered_products() -> None:
    # Product A is bought first and again last: ordered by FIRST purchase it stays in train.
    rows = [("a", p, f"2024-01-0{i + 1}") for i, p in enumerate("ABCDE")]
    rows += [("a", "A", "2024-02-01"), ("a", "E", "2024-02-02")]
    split = temporal_split(purchases(rows))
    assert split.method == "temporal"
    assert split.test.values.tolist() == [["a", "E"]]
    assert sorted(split.train[P].tolist()) == ["A", "A", "B", "C", "D"]  # both E lines left


def test_split_test_size_is_floor_of_fraction_with_at_least_one() -> None:
    rows = []
    for customer, n in (("five", 5), ("nine", 9), ("ten", 10), ("fourteen", 14)):
        rows += [(customer, f"p{i:02d}", f"2024-01-{i + 1:02d}") for i in range(n)]
    split = temporal_split(purchases(rows))
    sizes = split.test.groupby(C).size().to_dict()
    assert sizes == {"five": 1, "nine": 1, "ten": 2, "fourteen": 2}
    assert split.test.query("customer_id == 'ten'")[P].tolist() == ["p08", "p09"]


def test_split_skips_customers_below_min_products() -> None:
    rows = [("small", p, "2024-01-01") for p in "ABCD"]
    rows += [("big", p, f"2024-01-0{i + 1}") for i, p in enumerate("ABCDE")]
    split = temporal_split(purchases(rows), min_products=5)
    assert split.test[C].unique().tolist() == ["big"]
    assert (split.train[C] == "small").sum() == 4
    assert split.describe() == {
        "method": "temporal",
        "test_fraction": 0.2,
        "min_products": 5,
        "seed": 0,
        "customers": 2,
        "customers_evaluated": 1,
        "train_rows": 8,
        "test_pairs": 1,
    }
    assert split.customers.tolist() == ["big"]


def test_split_has_no_leakage_and_respects_time_order() -> None:
    frame = clustered_purchases(1)
    split = temporal_split(frame)
    train_pairs = pd.MultiIndex.from_frame(split.train[[C, P]])
    assert not train_pairs.isin(pd.MultiIndex.from_frame(split.test)).any()
    assert len(split.train) + frame.merge(split.test, on=[C, P]).shape[0] == len(frame)
    first = first_dates(frame).rename("first").reset_index()
    test = first.merge(split.test, on=[C, P])
    train = first.merge(split.train[[C, P]].drop_duplicates(), on=[C, P])
    merged = (
        test.groupby(C)["first"]
        .min()
        .to_frame("test_min")
        .join(train.groupby(C)["first"].max().rename("train_max"))
    )
    assert len(merged) == split.describe()["customers_evaluated"] > 0
    assert (merged["test_min"] >= merged["train_max"]).all()
    assert split.test.groupby(C).size().min() >= 1


def test_split_breaks_equal_dates_at_random_but_reproducibly() -> None:
    rows = [(c, p, "2024-01-01") for c in ("a", "b", "c") for p in "ABCDEFGHIJ"]
    one = temporal_split(purchases(rows), seed=1).test
    again = temporal_split(purchases(rows), seed=1).test
    pd.testing.assert_frame_equal(one, again)
    assert one.groupby(C).size().tolist() == [2, 2, 2]
    seeds = [tuple(temporal_split(purchases(rows), seed=s).test[P]) for s in range(5)]
    assert len(set(seeds)) > 1


def test_split_without_dates_is_random_and_says_so() -> None:
    frame = clustered_purchases(2, dated=False)
    assert frame[D].isna().all()
    split = temporal_split(frame, seed=3)
    assert split.method == "random" and split.describe()["method"] == "random"
    pd.testing.assert_frame_equal(split.test, temporal_split(frame, seed=3).test)
    assert not split.test.equals(temporal_split(frame, seed=4).test)
    train_pairs = pd.MultiIndex.from_frame(split.train[[C, P]])
    assert not train_pairs.isin(pd.MultiIndex.from_frame(split.test)).any()


def test_split_without_a_date_column_is_random() -> None:
    frame = clustered_purchases(2).drop(columns=D)
    assert temporal_split(frame).method == "random"


def test_split_treats_undated_products_as_the_oldest() -> None:
    rows = [("a", "A", None), ("a", "B", "2024-01-01"), ("a", "C", "2024-01-02")]
    rows += [("a", "D", "2024-01-03"), ("a", "E", None)]
    split = temporal_split(purchases(rows))
    assert split.method == "temporal"
    assert split.test[P].tolist() == ["D"]


def test_validation_split_is_carved_from_the_training_part() -> None:
    split = temporal_split(clustered_purchases(3))
    inner = validation_split(split)
    assert (inner.test_fraction, inner.min_products, inner.seed) == (0.2, 5, 0)
    assert len(inner.train) + len(inner.train.merge(inner.test, on=[C, P])) < len(split.train)
    outer_test = pd.MultiIndex.from_frame(split.test)
    assert not pd.MultiIndex.from_frame(inner.test).isin(outer_test).any()
    assert not pd.MultiIndex.from_frame(inner.train[[C, P]]).isin(outer_test).any()
    assert (
        pd.MultiIndex.from_frame(inner.test)
        .isin(pd.MultiIndex.from_frame(split.train[[C, P]]))
        .all()
    )


@pytest.mark.parametrize(
    "kwargs", [{"test_fraction": 0.0}, {"test_fraction": 1.0}, {"min_products": 1}]
)
def test_split_rejects_bad_settings(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        temporal_split(clustered_purchases(0), **kwargs)


# =========================================================================== metrics
def test_metrics_known_answer_two_hits_out_of_three() -> None:
    # Test {0, 2}; recommended [2, 1, 0]: hits at ranks 1 and 3.
    m = per_customer_metrics(np.array([[2, 1, 0]]), sp.csr_matrix([[1, 0, 1, 0]]))
    assert m["precision"][0] == pytest.approx(2 / 3)
    assert m["recall"][0] == pytest.approx(1.0)
    assert m["ndcg"][0] == pytest.approx((1 + 1 / 2) / (1 + 1 / LOG3))
    assert m["map"][0] == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert m["hit_rate"][0] == 1.0


def test_metrics_with_fewer_than_n_recommendations_divide_precision_by_n() -> None:
    m = per_customer_metrics(np.array([[3, -1, -1]]), sp.csr_matrix([[0, 0, 0, 1]]))
    assert m["precision"][0] == pytest.approx(1 / 3)
    assert (m["recall"][0], m["ndcg"][0], m["map"][0], m["hit_rate"][0]) == (1, 1, 1, 1)


def test_metrics_one_test_item_hit_at_rank_two() -> None:
    truth = sp.csr_matrix(([1.0], ([0], [5])), shape=(1, 6))
    m = per_customer_metrics(np.array([[0, 5, 1]]), truth)
    assert m["precision"][0] == pytest.approx(1 / 3)
    assert m["recall"][0] == 1.0
    assert m["ndcg"][0] == pytest.approx(1 / LOG3)
    assert m["map"][0] == pytest.approx(1 / 2)


def test_metrics_with_more_test_items_than_n_use_min_n_t() -> None:
    truth = sp.csr_matrix([[1, 1, 1, 1, 1, 0, 0, 0, 0, 0]])
    m = per_customer_metrics(np.array([[0, 9]]), truth)
    assert m["precision"][0] == pytest.approx(1 / 2)
    assert m["recall"][0] == pytest.approx(1 / 5)
    assert m["ndcg"][0] == pytest.approx(1 / (1 + 1 / LOG3))
    assert m["map"][0] == pytest.approx(1 / 2)


def test_metrics_without_hits_are_zero_and_rows_without_test_are_ignored() -> None:
    truth = sp.csr_matrix([[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 1]])
    recs = np.array([[1, 2], [0, 1], [3, 0]])
    m = per_customer_metrics(recs, truth)
    assert m["precision"][0] == 0 and m["ndcg"][0] == 0 and m["map"][0] == 0
    assert np.isnan(m["precision"][1])
    result = ranking_metrics(recs, truth, popularity=np.array([0.4, 0.3, 0.2, 0.1]))
    assert result["n_customers"] == 2
    assert result["precision@2"] == pytest.approx((0 + 1 / 2) / 2)
    assert result["recall@2"] == pytest.approx((0 + 1 / 2) / 2)
    assert result["hit_rate@2"] == pytest.approx(0.5)
    assert result["ndcg@2"] == pytest.approx((0 + 1 / (1 + 1 / LOG3)) / 2)
    assert result["map@2"] == pytest.approx((0 + 1 / 2) / 2)
    # Coverage and popularity over the evaluated rows only: products {1, 2, 3, 0}.
    assert result["coverage"] == pytest.approx(1.0)
    assert result["avg_popularity"] == pytest.approx((0.3 + 0.2 + 0.1 + 0.4) / 4)


def test_explicit_zeros_in_truth_are_not_test_items() -> None:
    truth = sp.csr_matrix(
        (np.array([1.0, 0.0]), (np.array([0, 0]), np.array([0, 1]))), shape=(1, 3)
    )
    m = per_customer_metrics(np.array([[1, 0]]), truth)
    assert m["n_test"][0] == 1 and m["precision"][0] == pytest.approx(1 / 2)


def test_coverage_and_average_popularity_known_answers() -> None:
    assert catalogue_coverage(np.array([[0, 1], [1, -1]]), 4) == 0.5
    assert average_popularity(
        np.array([[0, 1], [0, -1]]), np.array([0.6, 0.3, 0.1])
    ) == pytest.approx((0.6 + 0.3 + 0.6) / 3)
    assert math.isnan(average_popularity(np.array([[-1]]), np.array([0.5])))


def test_ndcg_agrees_with_scikit_learn_without_ties() -> None:
    rng = np.random.default_rng(0)
    truth = (rng.random((30, 12)) < 0.3).astype(float)
    truth[np.arange(30), rng.integers(12, size=30)] = 1.0
    scores = rng.random((30, 12))
    recs = np.argsort(-scores, axis=1)[:, :5]
    ours = ranking_metrics(recs, sp.csr_matrix(truth))["ndcg@5"]
    assert ours == pytest.approx(ndcg_score(truth, scores, k=5))


@pytest.mark.parametrize("recs", [np.array([0, 1]), np.zeros((2, 0), dtype=int)])
def test_metrics_reject_malformed_recommendations(recs: np.ndarray) -> None:
    with pytest.raises(ValueError):
        ranking_metrics(recs, sp.csr_matrix(np.eye(2)))


# =========================================================================== evaluate_model
class FixedScores(BaseEstimator):
    """The same score row for every customer (to test ties and exclusion)."""

    def __init__(self, *, row: tuple[float, ...] = (0.5, 0.5, 0.5, 0.1)) -> None:
        self.row = row

    def fit(self, X: Any, y: None = None) -> FixedScores:
        self.n_features_in_ = X.shape[1]
        return self

    def score_items(self, X_rows: Any, *, rows: Any = None) -> np.ndarray:
        return np.tile(np.asarray(self.row, dtype=float), (X_rows.shape[0], 1))


def test_evaluate_model_breaks_ties_by_lower_column_and_excludes_purchases() -> None:
    X_train = sp.csr_matrix(np.array([[0, 0, 0, 0], [1.0, 0, 0, 0], [0, 0, 0, 0]]))
    X_test = sp.csr_matrix(np.array([[0, 1.0, 0, 0], [0, 0, 1.0, 0], [0, 0, 0, 0]]))
    # Row 0: tie 0 = 1 = 2 -> [0, 1]: hit at rank 2. Row 1 bought 0 -> [1, 2]: hit at rank 2.
    result = evaluate_model(FixedScores, X_train, X_test, n=2)
    assert result["n_customers"] == 2
    assert result["precision@2"] == pytest.approx(1 / 2)
    assert result["ndcg@2"] == pytest.approx(1 / LOG3)
    assert result["map@2"] == pytest.approx(1 / 2)
    assert result["coverage"] == pytest.approx(3 / 4)
    assert result["avg_popularity"] == pytest.approx((1 / 3 + 0 + 0 + 0) / 4)
    # Without exclusion, row 1 gets [0, 1] and misses.
    assert evaluate_model(FixedScores(), X_train, X_test, n=2, exclude=False)["hit_rate@2"] == 0.5


def test_evaluate_model_chunking_does_not_change_results() -> None:
    frame = clustered_purchases(4)
    split = temporal_split(frame)
    from recsys.matrix import IdIndex, build_interactions

    customers, products = IdIndex(frame[C]), IdIndex(frame[P], what="product")
    X_train = build_interactions(split.train, customers=customers, products=products).matrix
    X_test = build_interactions(split.test, customers=customers, products=products).matrix
    model = Popularity().fit(X_train)
    one = evaluate_model(model, X_train, X_test, chunk_size=1)
    many = evaluate_model(model, X_train, X_test, chunk_size=1000)
    assert one == many


def test_evaluate_model_fits_unfitted_models_with_fit_params() -> None:
    X = sp.csr_matrix(np.array([[1.0, 0, 1], [1, 1, 0], [0, 1, 1]]))
    truth = sp.csr_matrix(np.array([[0, 1.0, 0], [0, 0, 1], [1, 0, 0]]))
    result = evaluate_model(
        Popularity(by_segment=True), X, truth, n=1, fit_params={"groups": ["a", "b", "b"]}
    )
    assert result["n_customers"] == 3


# =========================================================================== evaluate / sweep
def test_evaluate_user_knn_beats_popularity_on_clustered_data() -> None:
    frame = clustered_purchases(5)
    fractions: list[float] = []
    result = evaluate(
        frame, customers=segments_of(frame), seed=0, progress=lambda f, message: fractions.append(f)
    )
    assert isinstance(result, EvaluationResult)
    table = result.table().set_index("model")
    assert set(table.index) == {"user_knn", "item_knn", "ease", "popularity", "popularity_segment"}
    assert table.loc["user_knn", "ndcg@10"] > table.loc["popularity", "ndcg@10"] + 0.1
    assert table.loc["user_knn", "precision@10"] > table.loc["popularity", "precision@10"]
    assert list(result.metrics.columns) == ["model", "settings", "metric", "value"]
    assert json.loads(result.metrics["settings"].iloc[0])["weighting"] == "binary"
    assert list(result.by_segment.columns) == ["model", "segment", "metric", "value"]
    assert set(result.by_segment["segment"]) == {"c0", "c1", "c2", "c3"}
    assert result.split["customers_evaluated"] == 120
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) == 6
    json.dumps(result.to_dict())


def test_evaluate_without_segments_skips_segment_outputs() -> None:
    frame = clustered_purchases(6)
    result = evaluate(frame, models={"pop": {"model": "popularity"}, "popularity_segment": {}})
    assert set(result.metrics["model"]) == {"pop"}
    assert "popularity_segment" in result.skipped
    assert result.by_segment.empty


def test_evaluate_reports_models_too_large_instead_of_failing() -> None:
    result = evaluate(clustered_purchases(6), models={"ease": {"max_items": 3}, "popularity": {}})
    assert "max_items=3" in result.skipped["ease"]
    assert set(result.metrics["model"]) == {"popularity"}


def test_evaluate_errors_are_actionable() -> None:
    frame = clustered_purchases(6)
    with pytest.raises(RecsysError, match="Unknown model"):
        evaluate(frame, models={"nope": {}})
    with pytest.raises(RecsysError, match="min_products"):
        evaluate(frame, min_products=50)


@pytest.mark.slow
def test_sweep_picks_the_best_validation_setting_and_tests_it() -> None:
    frame = clustered_purchases(7)
    grid = {
        "user_knn": [{"n_neighbors": 1}, {"n_neighbors": 20, "weighting": "log1p"}],
        "popularity": [{}],
    }
    fractions: list[float] = []
    result = sweep(frame, grid, progress=lambda f, message: fractions.append(f))
    ndcg = result.validation.query("metric == 'ndcg@10'")
    assert len(ndcg) == 3
    best_row = ndcg[ndcg["model"] == "user_knn"].sort_values("value").iloc[-1]
    assert result.best["user_knn"] == json.loads(best_row["settings"])
    assert result.best["user_knn"]["n_neighbors"] == 20
    assert set(result.test.metrics["model"]) == {"user_knn", "popularity"}
    assert result.validation_split["train_rows"] < result.test.split["train_rows"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    json.dumps(result.to_dict())


def test_default_grid_is_the_documented_one() -> None:
    assert len(DEFAULT_GRID["user_knn"]) == 5 * 3 * 2 * 2  # k x weighting x min_sim x power
    assert [g["n_neighbors"] for g in DEFAULT_GRID["item_knn"]] == [20, 50, 100]
    assert [g["l2"] for g in DEFAULT_GRID["ease"]] == [50.0, 200.0, 500.0]
    assert DEFAULT_GRID["popularity"] == [{}]


@pytest.mark.slow
def test_default_sweep_on_the_sample_data_is_quick() -> None:
    from recsys.data import SAMPLE_DIR, load_sample

    if not (SAMPLE_DIR / "purchases.csv").exists():
        pytest.skip("no bundled sample data")
    data = load_sample()
    started = time.perf_counter()
    result = sweep(data.purchases, customers=data.customers)
    assert time.perf_counter() - started < 60
    table = result.test.table().set_index("model")
    assert table.loc["user_knn", "ndcg@10"] > table.loc["popularity", "ndcg@10"]


@pytest.mark.parametrize(
    "models",
    [
        {"ease": {"n_neighbors": 5}},
        {"item_knn": {"n_neighbors": 0}},
        {"user_knn": {"weighting": "bogus"}},
    ],
)
def test_evaluate_reports_invalid_settings_as_recsys_errors(models: dict) -> None:
    with pytest.raises(InvalidParamsError, match="Invalid settings for"):
        evaluate(clustered_purchases(6), models=models)


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_evaluate_rejects_a_bad_n(n: Any) -> None:
    with pytest.raises(ValueError, match="n="):
        evaluate(clustered_purchases(6), models={"popularity": {}}, n=n)


def test_customers_without_segment_use_global_popularity_in_segment_model() -> None:
    frame = clustered_purchases(8)
    customers = segments_of(frame)
    customers.loc[customers[C].str.startswith("c0"), schema.SEGMENT] = None
    result = evaluate(frame, customers=customers, models={"popularity_segment": {}})
    assert "(no segment)" in set(result.by_segment["segment"])
    by_segment = result.by_segment.query("metric == 'ndcg@10'").set_index("segment")["value"]
    assert by_segment["c1"] > by_segment["(no segment)"]
