"""Tests for recsys.evaluation.runner and results: model runner, evaluate, sweep (split and metrics
have their own)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from recsys.data import schema as S
from recsys.errors import InvalidParamsError, RecsysError
from recsys.evaluation import runner
from recsys.evaluation.runner import (
    DEFAULT_GRID,
    EvaluationResult,
    evaluate,
    evaluate_model,
    sample_customers,
    sample_purchases,
    sweep,
)
from recsys.evaluation.split import temporal_split
from recsys.models.ease import EASE
from recsys.models.popularity import Popularity
from recsys.params import ModelParams
from tests.evaluation_fixtures import LOG3, C, P, clustered_purchases


def segments_of(frame: pd.DataFrame) -> pd.DataFrame:
    ids = frame[C].unique()
    return pd.DataFrame({C: ids, S.SEGMENT: [i.split("_")[0] for i in ids]})


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
    from recsys.models.matrix import IdIndex, build_interactions

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
POPULARITY = ModelParams(model="popularity")
SEGMENT_POPULARITY = ModelParams(model="popularity_segment")


def test_evaluate_user_knn_beats_popularity_on_clustered_data() -> None:
    frame = clustered_purchases(5)
    fractions: list[float] = []
    result = evaluate(
        frame, customers=segments_of(frame), seed=0, progress=lambda f, message: fractions.append(f)
    )
    assert isinstance(result, EvaluationResult)
    table = result.table().set_index("model")
    assert set(table.index) == {
        "user_knn", "item_knn", "rp3beta", "ease", "als", "popularity", "popularity_segment"
    }  # fmt: skip
    assert table.loc["user_knn", "ndcg@10"] > table.loc["popularity", "ndcg@10"] + 0.1
    assert table.loc["user_knn", "precision@10"] > table.loc["popularity", "precision@10"]
    assert list(result.metrics.columns) == ["params", "model", "n", "metric", "value"]
    assert result.params == list(runner.DEFAULT_MODELS)
    assert result.params[0].weighting == "binary"
    assert list(result.by_segment.columns) == ["params", "model", "n", "segment", "metric", "value"]
    assert set(result.by_segment["segment"]) == {"c0", "c1", "c2", "c3"}
    assert result.split["customers_evaluated"] == 120
    # Before each configuration, after each one's single chunk of customers is scored, and at
    # the end.
    scored = len(result.params)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert len(fractions) == len(runner.DEFAULT_MODELS) + scored + 1
    json.dumps(result.to_dict())
    # Every list is kept for the intervals: one row per customer evaluated, N = 10 columns.
    assert set(result.lists) == set(result.params)
    assert all(recs.shape == (120, 10) for recs in result.lists.values())
    assert result.truth.shape[0] == 120


def test_evaluate_scores_every_n_from_one_fit_per_configuration(monkeypatch) -> None:
    """One fit per distinct configuration, whatever the number of N (duplicates fitted once)."""
    fits: Counter[ModelParams] = Counter()
    make_model = runner.factory.make_model

    def counting(params: ModelParams) -> Any:
        fits[params] += 1
        return make_model(params)

    monkeypatch.setattr(runner.factory, "make_model", counting)
    frame = clustered_purchases(5)
    configs = [ModelParams(), ModelParams(n_neighbors=5), POPULARITY, ModelParams()]
    result = evaluate(frame, configs, ns=(1, 3, 5, 10, 20))
    assert fits == Counter({ModelParams(): 1, ModelParams(n_neighbors=5): 1, POPULARITY: 1})
    assert result.ns == (1, 3, 5, 10, 20)
    assert result.params == configs[:3]
    # The metrics at each N are those of an evaluation at that N alone.
    for n in (1, 5, 20):
        alone = evaluate(frame, configs[:3], ns=[n]).table(n).drop(columns="seconds")
        together = result.table(n).drop(columns="seconds")
        pd.testing.assert_frame_equal(together, alone)


def test_table_selects_configurations_in_the_order_asked_and_needs_n_when_several() -> None:
    result = evaluate(clustered_purchases(6), [POPULARITY, ModelParams()], ns=(5, 10))
    table = result.table(5, params=[ModelParams(), POPULARITY, SEGMENT_POPULARITY])
    assert table["params"].tolist() == [ModelParams(), POPULARITY]
    assert "ndcg@5" in table.columns and "ndcg@10" not in table.columns
    with pytest.raises(ValueError, match="Say which N"):
        result.table()
    with pytest.raises(ValueError, match="N = 7"):
        result.table(7)


def test_evaluate_without_segments_skips_segment_outputs() -> None:
    frame = clustered_purchases(6)
    result = evaluate(frame, [POPULARITY, SEGMENT_POPULARITY])
    assert result.params == [POPULARITY]
    assert SEGMENT_POPULARITY in result.skipped
    assert result.by_segment.empty


def test_evaluate_reports_models_too_large_instead_of_failing(monkeypatch) -> None:
    make_model = runner.factory.make_model
    small = {"ease": lambda params: EASE(l2=params.l2, max_items=3)}  # the sample has 40 products
    monkeypatch.setattr(runner.factory, "make_model", lambda p: small.get(p.model, make_model)(p))
    ease = ModelParams(model="ease")
    result = evaluate(clustered_purchases(6), [ease, POPULARITY])
    assert "max_items=3" in result.skipped[ease]
    assert result.params == [POPULARITY]


def test_evaluate_errors_are_actionable() -> None:
    frame = clustered_purchases(6)
    with pytest.raises(TypeError, match="must be ModelParams"):
        evaluate(frame, [{"model": "popularity"}])
    with pytest.raises(RecsysError, match="min_products"):
        evaluate(frame, min_products=50)


@pytest.mark.slow
def test_sweep_picks_the_best_validation_setting_and_tests_it() -> None:
    frame = clustered_purchases(7)
    grid = [ModelParams(n_neighbors=1), ModelParams(n_neighbors=20, weighting="log1p"), POPULARITY]
    fractions: list[float] = []
    result = sweep(frame, grid, progress=lambda f, message: fractions.append(f))
    validation = result.validation.table(10)
    # The grid lacks the user-kNN default, so the sweep adds it: it is always a candidate.
    assert validation["params"].tolist() == [*grid, ModelParams()]
    knn = validation[validation["model"] == "user_knn"].sort_values("ndcg@10", kind="stable")
    choice = result.choices["user_knn"]
    assert choice.default == ModelParams() and choice.tried == 3
    assert choice.best == knn["params"].iloc[-1]
    # The winner replaces the default only when its paired interval is above 0.
    clear = choice.difference is not None and choice.difference.low > 0
    assert choice.chosen == (choice.best if clear else ModelParams())
    assert result.best == {"user_knn": choice.chosen, "popularity": POPULARITY}
    assert result.test.params == [choice.chosen, POPULARITY]
    assert result.validation.split["train_rows"] < result.test.split["train_rows"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    decisions = json.loads(json.dumps(result.to_dict()))["decisions"]
    assert decisions["user_knn"]["why"] == choice.sentence() == result.sentences()[0]
    # The test split is reported once, with its lists (intervals); validation keeps none.
    assert set(result.test.lists) == {choice.chosen, POPULARITY} and not result.validation.lists
    assert set(result.test.intervals(10)["params"]) == {choice.chosen, POPULARITY}


def test_default_grid_is_the_documented_one() -> None:
    by_kind = Counter(p.model for p in DEFAULT_GRID)
    assert by_kind == {
        "user_knn": 5 * 3 * 2 * 2 + 2 * 2 * 2 * 2, "item_knn": 3, "rp3beta": 3 * 2 * 2, "ease": 2,
        "als": 3 * 2, "popularity": 1,
    }  # fmt: skip
    assert [p.n_neighbors for p in DEFAULT_GRID if p.model == "item_knn"] == [20, 50, 100]
    assert [p.l2 for p in DEFAULT_GRID if p.model == "ease"] == [200.0, 500.0]
    rp3 = [p for p in DEFAULT_GRID if p.model == "rp3beta"]
    assert {p.n_neighbors for p in rp3} == {50, 100, 200}
    assert {p.alpha for p in rp3} == {0.3, 0.5} and {p.beta for p in rp3} == {0.2, 0.4}
    assert {p.weighting for p in DEFAULT_GRID if p.model == "user_knn"} == {
        "binary", "log1p", "bm25"
    }  # fmt: skip


def test_default_grid_holds_every_default_so_tuning_never_picks_worse_than_it() -> None:
    assert ModelParams() in DEFAULT_GRID
    for params in runner.DEFAULT_MODELS:
        if params.model != "popularity_segment":
            assert params in DEFAULT_GRID, params.label()
    assert ModelParams(model="rp3beta", n_neighbors=100) in DEFAULT_GRID
    assert ModelParams(model="als") in DEFAULT_GRID


def test_sweep_never_picks_worse_than_the_default_on_validation() -> None:
    frame = clustered_purchases(11)
    grid = [ModelParams(n_neighbors=1), ModelParams(), ModelParams(n_neighbors=3)]
    result = sweep(frame, grid)
    val = result.validation.table(10).set_index("params")["ndcg@10"]
    assert val[result.best["user_knn"]] >= val[ModelParams()]
    choice = result.choices["user_knn"]
    assert choice.kept_default or (choice.difference is not None and choice.difference.low > 0)


def test_a_model_whose_package_is_missing_is_skipped_with_the_reason(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "implicit.cpu.als", None)
    result = evaluate(clustered_purchases(5), [ModelParams(model="als"), POPULARITY])
    assert result.params == [POPULARITY]
    assert "implicit" in result.skipped[ModelParams(model="als")]


@pytest.mark.slow
def test_default_sweep_on_the_sample_data_is_quick() -> None:
    from recsys.data.dataset import SAMPLE_DIR, load_sample

    if not (SAMPLE_DIR / "purchases.csv").exists():
        pytest.skip("no bundled sample data")
    data = load_sample()
    started = time.perf_counter()
    result = sweep(data.purchases, customers=data.customers)
    assert time.perf_counter() - started < 60
    table = result.test.table().set_index("model")
    assert table.loc["user_knn", "ndcg@10"] > table.loc["popularity", "ndcg@10"]


def test_evaluate_reports_a_setting_the_model_rejects_as_a_recsys_error(monkeypatch) -> None:
    monkeypatch.setattr(runner.factory, "make_model", lambda params: Popularity(by_segment="x"))
    with pytest.raises(InvalidParamsError, match="Invalid settings for popularity"):
        evaluate(clustered_purchases(6), [POPULARITY])


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_evaluate_rejects_a_bad_n(n: Any) -> None:
    with pytest.raises(ValueError, match="n="):
        evaluate(clustered_purchases(6), [POPULARITY], ns=[n])


def test_customers_without_segment_use_global_popularity_in_segment_model() -> None:
    frame = clustered_purchases(8)
    customers = segments_of(frame)
    customers.loc[customers[C].str.startswith("c0"), S.SEGMENT] = None
    result = evaluate(frame, [SEGMENT_POPULARITY], customers=customers)
    assert "(no segment)" in set(result.by_segment["segment"])
    by_segment = result.by_segment.query("metric == 'ndcg@10'").set_index("segment")["value"]
    assert by_segment["c1"] > by_segment["(no segment)"]


# =========================================================================== customer sample
def test_sample_customers_is_a_sorted_seeded_subset() -> None:
    rows = np.arange(100, 200)
    sample = sample_customers(rows, 10, seed=3)
    assert len(sample) == 10 and len(set(sample.tolist())) == 10
    assert set(sample.tolist()) <= set(rows.tolist()) and sample.tolist() == sorted(sample)
    assert sample.tolist() == sample_customers(rows, 10, seed=3).tolist()
    assert sample.tolist() != sample_customers(rows, 10, seed=4).tolist()
    assert sample_customers(rows, None).tolist() == rows.tolist()
    assert sample_customers(rows, 500).tolist() == rows.tolist()
    with pytest.raises(ValueError, match="max_customers"):
        sample_customers(rows, 0)


def test_evaluate_scores_a_seeded_sample_of_customers_the_same_for_every_model() -> None:
    frame = clustered_purchases(5)  # 120 customers with held-out products
    configs = [ModelParams(), POPULARITY]
    result = evaluate(frame, configs, max_customers=30, seed=1)
    assert result.split["customers_eligible"] == 120
    assert result.split["customers_evaluated"] == 30 and result.split["max_customers"] == 30
    assert result.table()["n_customers"].tolist() == [30.0, 30.0]
    again = evaluate(frame, configs, max_customers=30, seed=1).table().drop(columns="seconds")
    pd.testing.assert_frame_equal(result.table().drop(columns="seconds"), again)
    # A bound above the eligible customers is the full evaluation.
    full = evaluate(frame, configs).table().drop(columns="seconds")
    whole = evaluate(frame, configs, max_customers=1_000).table().drop(columns="seconds")
    pd.testing.assert_frame_equal(full, whole)
    assert evaluate(frame, configs).split["customers_evaluated"] == 120


def test_sample_purchases_keeps_every_line_of_a_seeded_sample_of_customers() -> None:
    frame = pd.DataFrame({C: list("abcdabcdaa"), P: list("xyzwyzwxzw")})
    kept, total = sample_purchases(frame, 2, seed=5)
    assert total == 4 and kept[C].nunique() == 2
    chosen = set(kept[C])
    assert len(kept) == frame[C].isin(chosen).sum()  # every line of the chosen customers
    # The sample depends on the ids, not on the order of the lines.
    shuffled = frame.sample(frac=1.0, random_state=0).reset_index(drop=True)
    assert set(sample_purchases(shuffled, 2, seed=5)[0][C]) == chosen
    whole, total = sample_purchases(frame, None)
    assert whole is frame and total == 4
    assert sample_purchases(frame, 4)[0] is frame
    with pytest.raises(ValueError, match="max_train_customers"):
        sample_purchases(frame, 0)


def test_evaluate_trains_on_a_sample_of_customers_and_says_so() -> None:
    frame = clustered_purchases(5)  # 120 customers
    configs = [ModelParams(), POPULARITY]
    result = evaluate(frame, configs, max_train_customers=50, seed=2)
    split = result.split
    assert split["customers_total"] == 120 and split["max_train_customers"] == 50
    assert split["customers"] == 50 and split["customers_eligible"] == 50
    # The same as evaluating the sampled customers' purchases.
    kept, _ = sample_purchases(frame, 50, seed=2)
    alone = evaluate(kept, configs, seed=2)
    pd.testing.assert_frame_equal(
        result.table().drop(columns="seconds"), alone.table().drop(columns="seconds")
    )
    # Without a bound (or a bound above the customers) nothing changes.
    full = evaluate(frame, configs).table().drop(columns="seconds")
    bounded = evaluate(frame, configs, max_train_customers=1_000).table().drop(columns="seconds")
    pd.testing.assert_frame_equal(full, bounded)
    assert evaluate(frame, configs).split["customers_total"] == 120
    # The sweep draws the same training sample for both of its splits.
    swept = sweep(frame, [ModelParams(), POPULARITY], max_train_customers=50, seed=2)
    assert swept.test.split["customers"] == 50 and swept.test.split["customers_total"] == 120


def test_dense_models_are_left_out_above_the_product_bound() -> None:
    frame = clustered_purchases(5)
    n_products = frame[P].nunique()
    ease = ModelParams(model="ease", l2=10.0)
    result = evaluate(frame, [ease, POPULARITY], max_dense_products=n_products - 1)
    assert list(result.skipped) == [ease]
    assert f"{n_products:,} x {n_products:,}" in result.skipped[ease]
    assert f"above {n_products - 1:,} products" in result.skipped[ease]
    assert result.table()["model"].tolist() == ["popularity"]
    kept = evaluate(frame, [ease, POPULARITY], max_dense_products=n_products)
    assert not kept.skipped and set(kept.table()["model"]) == {"ease", "popularity"}


def test_evaluate_hands_over_each_configuration_as_it_finishes() -> None:
    frame = clustered_purchases(5)
    configs = [ModelParams(), SEGMENT_POPULARITY, POPULARITY]
    seen: list[EvaluationResult] = []
    result = evaluate(frame, configs, ns=(5, 10), on_result=seen.append)
    assert [r.params for r in seen] == [[ModelParams()], [], [POPULARITY]]
    assert SEGMENT_POPULARITY in seen[1].skipped and not seen[0].skipped
    combined = EvaluationResult.combine(seen)
    for n in (5, 10):
        pd.testing.assert_frame_equal(combined.table(n), result.table(n))
    assert combined.skipped == result.skipped and combined.split == result.split
    with pytest.raises(ValueError, match="Nothing to combine"):
        EvaluationResult.combine([])
