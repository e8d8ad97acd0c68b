"""Model page charts (dashboard/charts/model_charts.py)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard import charts
from tests.chart_inputs import assert_labelled, tradeoff


def test_similarity_distribution_drops_missing_values():
    fig = charts.similarity_distribution(np.array([0.1, 0.5, np.nan, 0.9]))
    assert_labelled(fig)
    assert len(fig.data[0].x) == 3


def test_tradeoff_has_ndcg_and_coverage_series_on_two_axes_and_marks_the_boost():
    fig = charts.boost_tradeoff(tradeoff(), chosen=0.5, n=10)
    ndcg, coverage = fig.data
    assert ndcg.name == "NDCG@10" and coverage.name == "Offer coverage"
    assert list(ndcg.y) == pytest.approx([20.0, 18.0, 10.0])
    assert list(coverage.y) == pytest.approx([50.0, 70.0, 100.0])
    assert coverage.yaxis == "y2" and fig.layout.yaxis2.overlaying == "y"
    assert "Reward boost" in fig.layout.xaxis.title.text
    assert fig.layout.yaxis.title.text == "NDCG@10 (%)"
    assert [shape.x0 for shape in fig.layout.shapes] == [0.5]
    assert "active model: 0.5" in fig.layout.annotations[0].text
    assert "expected reward" in coverage.hovertemplate


def test_tradeoff_without_a_chosen_boost_or_data():
    assert not charts.boost_tradeoff(tradeoff()).layout.shapes
    empty = charts.boost_tradeoff(tradeoff().head(0))
    assert not empty.data and "No trade-off" in empty.layout.annotations[0].text


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.similarity_distribution([]),
    ],
)
def test_empty_inputs_give_a_titled_figure_with_a_message(build):
    fig = build()
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert fig.layout.annotations and fig.layout.annotations[0].text
