"""Tests for recsys.evaluation.metrics: known answers, edge cases, agreement with scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import ndcg_score

from recsys.evaluation.metrics import (
    average_popularity,
    catalogue_coverage,
    per_customer_metrics,
    ranking_metrics,
)
from tests.evaluation_fixtures import LOG3


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
