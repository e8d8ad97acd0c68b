"""Bootstrap intervals and paired differences (recsys/evaluation/bootstrap.py), and the result
methods built on them (recsys/evaluation/results.py)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.evaluation.bootstrap import Difference, intervals, paired_difference
from recsys.evaluation.metrics import ranking_metrics
from recsys.evaluation.runner import evaluate
from recsys.params import ModelParams
from tests.evaluation_fixtures import clustered_purchases


def random_lists(seed: int, m: int = 400, n_items: int = 60, n: int = 5):
    rng = np.random.default_rng(seed)
    truth = sp.csr_matrix(np.eye(n_items)[rng.integers(0, n_items, m)])
    recs = np.argsort(-rng.random((m, n_items)), axis=1)[:, :n]
    return recs, truth


def test_values_are_the_metrics_on_every_customer() -> None:
    recs, truth = random_lists(0)
    popularity = np.linspace(0.0, 1.0, truth.shape[1])
    found = intervals(recs, truth, 5, popularity=popularity, n_boot=50)
    plain = ranking_metrics(recs, truth, popularity=popularity)
    for name, interval in found.items():
        assert interval.value == pytest.approx(plain[name], rel=1e-12)
        assert interval.low <= interval.value <= interval.high, name


def test_known_interval_of_a_hit_rate_of_one_half() -> None:
    # 200 customers, hits for exactly half: the 95 % interval of a proportion of 0.5 over 200
    # draws is about 0.5 +- 1.96 * sqrt(0.25 / 200) = 0.5 +- 0.069.
    truth = sp.csr_matrix(np.eye(2)[np.zeros(200, dtype=int)])
    recs = np.where(np.arange(200) % 2 == 0, 0, 1)[:, None]
    found = intervals(recs, truth, 1, n_boot=2000, seed=1)["hit_rate@1"]
    assert found.value == 0.5
    assert found.low == pytest.approx(0.5 - 0.069, abs=0.015)
    assert found.high == pytest.approx(0.5 + 0.069, abs=0.015)


def test_same_seed_same_interval_other_seed_other_draws() -> None:
    recs, truth = random_lists(1)
    a = intervals(recs, truth, 5, n_boot=100, seed=3)
    b = intervals(recs, truth, 5, n_boot=100, seed=3)
    c = intervals(recs, truth, 5, n_boot=100, seed=4)
    assert a == b
    assert a["ndcg@5"] != c["ndcg@5"]


def test_a_metric_constant_over_customers_has_a_zero_width_interval() -> None:
    truth = sp.csr_matrix(np.eye(3)[[0, 1, 2, 0]])
    recs = np.array([[0], [1], [2], [0]])  # every customer hit
    found = intervals(recs, truth, 1, n_boot=50)
    assert (found["recall@1"].low, found["recall@1"].high) == (1.0, 1.0)


def test_coverage_interval_is_centred_on_the_value() -> None:
    recs, truth = random_lists(2, m=100, n_items=300)
    found = intervals(recs, truth, 5, n_boot=200)["coverage"]
    assert found.low < found.value < found.high


def test_paired_difference_of_identical_lists_is_exactly_zero() -> None:
    recs, truth = random_lists(3)
    diff = paired_difference(recs, recs, truth, 5, labels=("x", "y"))
    assert (diff.mean, diff.low, diff.high) == (0.0, 0.0, 0.0)
    assert not diff.distinguishable
    assert "x and y are not distinguishable on ndcg@5" in diff.sentence()


def test_paired_difference_sees_a_clearly_better_model() -> None:
    recs, truth = random_lists(4)
    oracle = recs.copy()
    oracle[:, 0] = truth.indices  # the held-out product first for everyone
    diff = paired_difference(oracle, recs, truth, 5, metric="recall", labels=("oracle", "random"))
    assert diff.distinguishable and diff.low > 0.5
    assert diff.metric == "recall@5"
    assert diff.sentence().startswith("oracle is ahead of random on recall@5 by ")


def test_paired_interval_is_narrower_than_the_two_separate_ones() -> None:
    recs, truth = random_lists(5)
    better = recs.copy()
    rows = np.arange(0, len(recs), 3)
    better[rows, 0] = truth.indices[rows]  # every third customer gets a hit first
    diff = paired_difference(better, recs, truth, 5)
    a, b = intervals(better, truth, 5)["ndcg@5"], intervals(recs, truth, 5)["ndcg@5"]
    assert diff.high - diff.low < (a.high - a.low) + (b.high - b.low)


def test_sentence_names_the_model_ahead_whatever_the_order() -> None:
    assert (
        Difference("A", "B", "ndcg@10", -0.02, -0.03, -0.01)
        .sentence()
        .startswith("B is ahead of A on ndcg@10 by 0.0200")
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"n_boot": 5}, "n_boot"), ({"level": 1.0}, "level"), ({"metric": "auc"}, "metric")],
)
def test_bad_settings_are_refused(kwargs, match) -> None:
    recs, truth = random_lists(6, m=20)
    with pytest.raises(ValueError, match=match):
        paired_difference(recs, recs, truth, 5, **kwargs)


def test_lists_and_truth_must_have_the_same_customers() -> None:
    recs, truth = random_lists(7, m=20)
    with pytest.raises(ValueError, match="rows"):
        intervals(recs[:10], truth, 5)
    with pytest.raises(ValueError, match="between 1 and"):
        intervals(recs, truth, 6)


# --- through an evaluation ----------------------------------------------------------------------
def test_evaluation_result_intervals_and_comparisons() -> None:
    knn, pop = ModelParams(), ModelParams(model="popularity")
    result = evaluate(clustered_purchases(5), [knn, pop], ns=[5, 10])
    table = result.intervals(10)
    assert list(table.columns) == ["params", "model", "metric", "value", "low", "high"]
    wide = result.table(10).set_index("params")
    for _, row in table[table["metric"] == "ndcg@10"].iterrows():
        assert row["value"] == pytest.approx(wide.loc[row["params"], "ndcg@10"])
        assert row["low"] <= row["value"] <= row["high"]
    assert {"ndcg@10", "recall@10", "coverage", "avg_popularity"} <= set(table["metric"])
    assert set(result.intervals(5)["metric"]) >= {"ndcg@5", "recall@5"}
    (diff,) = result.against_best(10)
    assert diff.a == knn.label() and diff.b == pop.label() and diff.distinguishable
    assert result.difference(knn, knn, 10).mean == 0.0


def test_intervals_need_the_lists() -> None:
    knn = ModelParams()
    result = evaluate(clustered_purchases(5), [knn])
    result.lists = {}
    assert result.intervals(10).empty
    with pytest.raises(ValueError, match="No top-N lists were kept"):
        result.difference(knn, knn, 10)
