"""Evaluation page charts (dashboard/charts/evaluation_charts.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import charts
from tests.chart_inputs import assert_labelled


def eval_table() -> pd.DataFrame:
    return pd.DataFrame({
        "model": ["popularity", "user_knn", "my_model"],
        "settings": ["{}", '{"n_neighbors": 20}', "{}"],
        "precision": [0.05, 0.08, 0.01], "recall": [0.16, 0.27, 0.02],
        "ndcg": [0.10, 0.19, 0.01], "map": [0.06, 0.11, 0.0], "hit_rate": [0.36, 0.53, 0.1],
    })  # fmt: skip


def test_metrics_by_model_groups_five_metrics_with_one_fixed_colour_per_model():
    fig = charts.metrics_by_model(eval_table(), n=10)
    assert_labelled(fig)
    assert fig.layout.barmode == "group"
    # Known models first in their fixed order, then others; display names in the legend.
    assert [t.name for t in fig.data] == ["User-kNN", "Popularity", "my_model"]
    knn = fig.data[0]
    assert list(knn.x) == ["Precision@10", "Recall@10", "NDCG@10", "MAP@10", "Hit rate@10"]
    assert list(knn.y) == pytest.approx([8.0, 27.0, 19.0, 11.0, 53.0])  # percent
    assert knn.marker.color == charts.MODEL_COLORS["user_knn"] == charts.model_color("user_knn")
    assert charts.model_color("my_model") == charts.model_color("my_model")  # stable
    assert "%" in fig.layout.yaxis.title.text and "N = 10" in fig.layout.xaxis.title.text


def test_k_curve_draws_ndcg_and_coverage_on_two_axes():
    curve = pd.DataFrame({"k": [50, 5, 20], "ndcg": [0.2, 0.1, 0.19], "coverage": [0.9, 1, 0.95]})
    fig = charts.k_curve(curve, n=10)
    assert_labelled(fig)
    ndcg, coverage = fig.data
    assert list(ndcg.x) == [5, 20, 50]  # sorted by k
    assert list(ndcg.y) == pytest.approx([10.0, 19.0, 20.0])
    assert coverage.yaxis == "y2" and "coverage" in fig.layout.yaxis2.title.text.lower()
    assert fig.layout.xaxis.type == "log"
    assert "NDCG@10" in fig.layout.yaxis.title.text


def test_precision_recall_tradeoff_one_line_per_model_labelled_by_n():
    frame = pd.DataFrame({
        "model": ["user_knn"] * 3 + ["popularity"] * 3, "n": [20, 1, 5] * 2,
        "precision": [0.05, 0.2, 0.1, 0.03, 0.1, 0.06],
        "recall": [0.4, 0.05, 0.2, 0.2, 0.02, 0.1],
    })  # fmt: skip
    fig = charts.precision_recall_tradeoff(frame)
    assert_labelled(fig)
    assert [t.name for t in fig.data] == ["User-kNN", "Popularity"]
    assert list(fig.data[0].text) == ["N=1", "N=5", "N=20"]
    assert list(fig.data[0].x) == pytest.approx([5.0, 20.0, 40.0])
    assert fig.data[1].line.color == charts.MODEL_COLORS["popularity"]
    assert "Recall" in fig.layout.xaxis.title.text and "Precision" in fig.layout.yaxis.title.text


def test_segment_ndcg_grouped_by_segment_with_missing_pairs_as_gaps():
    frame = pd.DataFrame({
        "model": ["user_knn", "user_knn", "popularity"],
        "segment": ["family", "affluent", "family"],
        "ndcg": [0.2, 0.3, 0.1], "n_customers": [10.0, 12.0, 10.0],
    })  # fmt: skip
    fig = charts.segment_ndcg(frame, n=5)
    assert_labelled(fig)
    assert fig.layout.barmode == "group"
    knn, pop = fig.data
    assert list(knn.x) == ["affluent", "family"]
    assert list(knn.y) == pytest.approx([30.0, 20.0])
    assert np.isnan(pop.y[0]) and pop.y[1] == pytest.approx(10.0)
    assert "customers evaluated" in knn.hovertemplate and list(knn.customdata) == ["12", "10"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.metrics_by_model(pd.DataFrame(), n=10),
        lambda: charts.k_curve(pd.DataFrame(), n=10),
        lambda: charts.precision_recall_tradeoff(pd.DataFrame()),
        lambda: charts.segment_ndcg(pd.DataFrame(), n=10),
    ],
)
def test_evaluation_charts_on_empty_input_show_a_message(build):
    fig = build()
    assert fig.layout.title.text and len(fig.layout.annotations) == 1
