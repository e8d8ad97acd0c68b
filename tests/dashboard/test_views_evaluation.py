"""The Evaluation page's pure helpers: models compared, reshaping of results, settings to apply."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from dashboard.views import evaluation as view
from dashboard.views.model import K_MAX
from recsys.evaluation.results import SweepResult
from recsys.evaluation.runner import DEFAULT_MODELS, evaluate, sweep
from recsys.params import ModelParams
from tests.known_data import plain_knn

POPULARITY = ModelParams(model="popularity")


@pytest.fixture(scope="module")
def toy() -> tuple[pd.DataFrame, pd.Series]:
    """30 customers in two taste groups of 8 products each, 6 dated purchases per customer."""
    rng = np.random.default_rng(0)
    rows = []
    for c in range(30):
        group = c % 2
        products = rng.choice(8, size=6, replace=False) + 8 * group
        for day, p in enumerate(products):
            rows.append((f"C{c:02d}", f"P{p:02d}", pd.Timestamp("2026-01-01") + pd.Timedelta(day)))
    purchases = pd.DataFrame(rows, columns=["customer_id", "product_id", "purchase_date"])
    segments = pd.Series(
        ["even" if c % 2 == 0 else "odd" for c in range(30)],
        index=pd.Index([f"C{c:02d}" for c in range(30)], name="customer_id"),
    )
    return purchases, segments


def test_comparison_models_put_the_active_settings_first_then_every_baseline():
    models = view.comparison_models(ModelParams(n_neighbors=7, weighting="bm25", reward_boost=0.3))
    assert models[0] == ModelParams(n_neighbors=7, weighting="bm25")  # the model alone
    assert [p.model for p in models[1:]] == [
        "item_knn", "rp3beta", "ease", "als", "popularity", "popularity_segment"
    ]  # fmt: skip
    # Another active model kind is compared in place of its default, user-kNN still included.
    other = view.comparison_models(ModelParams(model="item_knn", n_neighbors=30))
    assert other[0].n_neighbors == 30 and DEFAULT_MODELS[0] in other
    assert [p.model for p in other].count("item_knn") == 1


def test_k_curve_and_tradeoff_models_are_user_knn_with_the_active_settings():
    curve = view.k_curve_models(ModelParams(model="ease", metric="manhattan"))
    assert [p.n_neighbors for p in curve] == list(view.K_VALUES)
    assert {p.model for p in curve} == {"user_knn"}
    assert {p.metric for p in curve} == {"manhattan"}
    # The active k joins the curve, in order.
    own = view.k_curve_models(ModelParams(n_neighbors=30))
    assert [p.n_neighbors for p in own] == sorted({*view.K_VALUES, 30})
    assert [p.model for p in view.tradeoff_models(ModelParams())] == ["user_knn", "popularity"]


def test_page_configs_hold_each_configuration_once_and_every_n_shown():
    configs = view.page_configs(plain_knn())  # k=20, one of the curve's k
    # comparison, plus k=5, 10, 50, 100, 200, 500
    assert len(configs) == len(set(configs)) == 7 + len(view.K_VALUES) - 1
    assert set(view.k_curve_models(plain_knn())) <= set(configs)
    assert view.page_ns(10) == view.N_VALUES and view.page_ns(7) == (1, 3, 5, 7, 10, 20)


def test_reshaping_an_evaluation(toy):
    purchases, segments = toy
    params = plain_knn(n_neighbors=5)
    result = evaluate(purchases, view.page_configs(params), customers=segments, ns=view.page_ns(10))
    compared = view.comparison_models(params)
    table = view.metric_table(result, 10, compared)
    assert {"model", "settings", *view.METRIC_COLUMNS} <= set(table.columns)
    assert table["params"].tolist() == compared
    assert table.loc[0, "settings"] == "user_knn k=5 cosine binary/count"
    assert "ease" in set(table["model"]) and not any("@" in c for c in table.columns)
    knn, pop, ratio = view.ratio_to_popularity(table)
    assert ratio == pytest.approx(knn / pop)
    seg = view.segment_frame(result, 10, compared)
    assert set(seg["segment"]) == {"even", "odd"}
    assert seg["n_customers"].sum() == result.split["customers_evaluated"] * table.shape[0]
    curve = view.k_curve_frame(result, 10, view.k_curve_models(params))
    assert curve["k"].tolist() == sorted({*view.K_VALUES, 5})
    tradeoff = view.tradeoff_frame(result, view.tradeoff_models(params))
    assert sorted(tradeoff["n"].unique()) == list(view.N_VALUES) and len(tradeoff) == 10
    # The same numbers as an evaluation of the trade-off's models at one N alone.
    alone = evaluate(purchases, view.tradeoff_models(params), ns=[5]).table(5)
    at5 = tradeoff[tradeoff["n"] == 5]
    assert at5["precision"].tolist() == alone["precision@5"].tolist()
    assert view.max_products_per_customer(purchases) == 6


def test_ratio_needs_both_models():
    table = pd.DataFrame({"model": ["user_knn"], "ndcg": [0.2]})
    assert view.ratio_to_popularity(table) is None


def test_sweep_reshaping_and_the_settings_to_apply(toy):
    purchases, segments = toy
    grid = [ModelParams(n_neighbors=k, weighting=w) for k in (2, 5, 10) for w in ("binary", "bm25")]
    result = sweep(purchases, [*grid, POPULARITY], customers=segments)
    chosen = view.chosen_settings(result)
    assert chosen["model"].tolist() == ["User-kNN", "Popularity"]
    assert chosen["validation NDCG@10"].notna().all()
    assert view.n_settings_tried(result) == 8  # with the user-kNN default the sweep adds
    assert view.validation_table(result)["NDCG@10"].is_monotonic_decreasing
    curve = view.k_curve_from_sweep(result, 10)
    # The winner's weighting at every k (the added default, ModelParams(), is binary).
    binary = result.best["user_knn"].weighting == "binary"
    default_k = ModelParams().n_neighbors
    assert curve["k"].tolist() == ([2, 5, 10, default_k] if binary else [2, 5, 10])
    params, source, note = view.best_user_knn(ModelParams(reward_boost=0.3), result, curve)
    best = result.best["user_knn"]
    assert source == "tuning" and note is None
    assert (params.n_neighbors, params.weighting) == (best.n_neighbors, best.weighting)
    assert params.reward_boost == 0.3  # settings the sweep does not tune are kept
    # Without a sweep: the best k of the curve, other settings kept.
    params, source, _ = view.best_user_knn(ModelParams(metric="manhattan"), None, curve)
    assert params.n_neighbors == int(curve.loc[curve["ndcg"].idxmax(), "k"])
    assert params.metric == "manhattan" and source == "best k of the curve"


def test_csv_has_metrics_with_n_and_settings_as_labels(toy):
    purchases, _ = toy
    result = evaluate(purchases, [POPULARITY], ns=[3])
    frame = pd.read_csv(io.BytesIO(view.csv_bytes(view.metric_table(result, 3), 3)))
    assert "ndcg@3" in frame.columns and "n_customers" in frame.columns
    assert frame.loc[0, "settings"] == "popularity"


def test_same_split_ignores_the_model_settings():
    a = {"fingerprint": "f", "n": 10, "test_fraction": 0.2, "min_products": 5, "params": 1}
    assert view.same_split(a, {**a, "params": 2})
    assert not view.same_split(a, {**a, "n": 5})
    assert not view.same_split(a, None)


def _sweep_of(*rows: tuple[int, float, float]) -> SweepResult:
    """A sweep whose user-kNN validation NDCG@10 rows are ``(k, similarity power, ndcg)``."""
    configs = [
        ModelParams(n_neighbors=k, weighting="bm25", similarity_power=power) for k, power, _ in rows
    ]
    metrics = pd.DataFrame(
        [
            {"params": p, "model": "user_knn", "n": 10, "metric": "ndcg@10", "value": ndcg}
            for p, (_, _, ndcg) in zip(configs, rows, strict=True)
        ]
    )
    empty = pd.DataFrame(columns=["params", "model", "n", "segment", "metric", "value"])
    validation = view.EvaluationResult(metrics, empty, {}, (10,))
    best = configs[int(np.argmax([ndcg for _, _, ndcg in rows]))]
    test = evaluate(pd.DataFrame({"customer_id": list("aaaaa"), "product_id": list("vwxyz")}),
                    [POPULARITY])  # fmt: skip
    return SweepResult(validation, {"user_knn": best}, test, 0.0)


def test_the_tuned_best_is_applied_as_is_when_the_model_form_can_set_it():
    result = _sweep_of((200, 2.0, 0.30), (50, 1.0, 0.25))
    best = result.best["user_knn"]
    assert view.form_can_set(best)
    params, source, note = view.best_user_knn(ModelParams(reward_boost=0.2), result, pd.DataFrame())
    assert params == replace(best, reward_boost=0.2)
    assert (params.n_neighbors, params.similarity_power) == (200, 2.0)
    assert source == "tuning" and note is None


@pytest.mark.parametrize(
    ("params", "settable"),
    [
        (
            ModelParams(n_neighbors=K_MAX, similarity_power=0.7, metric="manhattan"),
            True,
        ),
        (ModelParams(n_neighbors=K_MAX + 1), False),
        (ModelParams(n_neighbors=20, min_similarity=0.97), False),
    ],
)
def test_form_can_set(params, settable):
    assert view.form_can_set(params) is settable


def test_a_tuned_best_the_model_form_cannot_set_falls_back_to_the_best_it_can():
    result = _sweep_of((600, 1.0, 0.30), (50, 2.0, 0.27), (200, 1.0, 0.27), (20, 1.0, 0.25))
    best = result.best["user_knn"]
    assert not view.form_can_set(best)
    params, source, note = view.best_user_knn(ModelParams(), result, pd.DataFrame())
    # k=600 is beyond the form's k: k=50 power 2 (first of the tie).
    assert (params.n_neighbors, params.similarity_power, params.weighting) == (50, 2.0, "bm25")
    assert source == "tuning" and "k=600" in note and f"k up to {K_MAX}" in note


def test_interval_text():
    assert view.interval_text(0.1214, 0.1432) == "12.1–14.3 %"
    assert view.interval_text(float("nan"), 0.2) == "–"


def test_intervals_and_verdicts_beside_the_metrics(toy):
    purchases, segments = toy
    knn, pop = plain_knn(n_neighbors=5), POPULARITY
    result = evaluate(purchases, [knn, pop], customers=segments, ns=[10])
    frame = view.interval_frame(result, 10, [knn, pop])
    assert list(frame.columns) == ["params", *(f"{m}_ci" for m in view.INTERVAL_COLUMNS)]
    tidy = result.intervals(10).set_index(["params", "metric"])
    low, high = tidy.loc[(knn, "ndcg@10"), ["low", "high"]]
    assert frame.loc[0, "ndcg_ci"] == view.interval_text(low, high)
    (sentence,) = view.verdicts(result, 10, [knn, pop])
    (diff,) = result.against_best(10, [knn, pop])
    names = {
        knn.label(): "User-kNN (user_knn k=5 cosine binary/count)",
        pop.label(): "Popularity (popularity)",
    }
    a, b = names[diff.a], names[diff.b]
    start = (
        f"**{a}** is ahead of **{b}** on NDCG@10 by"
        if diff.distinguishable
        else f"**{a}** and **{b}** are not distinguishable on NDCG@10"
    )
    assert sentence.startswith(start)
    assert f"{100 * diff.low:+.2f} to {100 * diff.high:+.2f}" in sentence
    # A configuration without kept lists shows a dash, not an error.
    result.lists = {}
    assert set(view.interval_frame(result, 10, [knn])["ndcg_ci"]) == {"–"}
    assert view.verdicts(result, 10, [knn, pop]) == []


def test_chosen_settings_carry_the_test_intervals(toy):
    purchases, segments = toy
    result = sweep(purchases, [ModelParams(n_neighbors=5), POPULARITY], customers=segments)
    chosen = view.chosen_settings(result)
    assert chosen["test NDCG@10 95 % interval"].str.endswith(" %").all()
    assert chosen["test recall@10 95 % interval"].str.endswith(" %").all()


def test_csv_names_the_intervals(toy):
    purchases, _ = toy
    result = evaluate(purchases, [POPULARITY], ns=[3])
    table = view.metric_table(result, 3).merge(
        view.interval_frame(result, 3, [POPULARITY]), on="params"
    )
    frame = pd.read_csv(io.BytesIO(view.csv_bytes(table, 3)))
    assert {"ndcg_95_interval", "coverage_95_interval"} <= set(frame.columns)
