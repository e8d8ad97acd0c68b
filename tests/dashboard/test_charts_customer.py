"""Customer explorer charts (dashboard/charts/customer_charts.py)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts
from recsys.data import schema as S
from tests.chart_inputs import COLORS, assert_labelled, offers, recs, similar


def test_recommendations_bar_one_trace_per_category_with_support_and_reason():
    fig = charts.recommendations_bar(recs(), COLORS)
    assert_labelled(fig)
    assert sorted(t.name for t in fig.data) == ["dining", "groceries", "travel"]
    assert sum(len(t.x) for t in fig.data) == 4
    travel = next(t for t in fig.data if t.name == "travel")
    assert list(travel.x) == [0.5, 2.5]  # drawn bottom-up: best on top
    assert "support" in travel.hovertemplate and "reason" in travel.hovertemplate
    groceries = next(t for t in fig.data if t.name == "groceries")
    assert list(groceries.text) == ["popular"]  # fallback reasons are written on the bar
    assert list(groceries.y) == ["3. P3"]  # missing name -> product id
    assert fig.layout.yaxis.categoryarray[-1] == "1. Flight"


def test_similar_customers_bar_keeps_ids_as_text_with_shared_products_in_hover():
    fig = charts.similar_customers_bar(similar())
    assert_labelled(fig)
    assert fig.layout.yaxis.type == "category"
    assert list(fig.data[0].y) == ["42", "007"]
    assert "shared products" in fig.data[0].hovertemplate
    assert fig.data[0].customdata[1][1] == "family"


def test_rewards_bar_coloured_by_type_with_units():
    fig = charts.rewards_bar(offers())
    assert_labelled(fig)
    names = {t.name for t in fig.data}
    assert names == {"points_multiplier (x points)", "cashback (currency)"}
    for trace in fig.data:
        rtype = trace.name.split(" ")[0]
        assert trace.marker.color == charts.REWARD_TYPE_COLORS[rtype]
        assert "min spend" in trace.hovertemplate and "expires" in trace.hovertemplate
    cashback = next(t for t in fig.data if t.name.startswith("cashback"))
    assert cashback.customdata[0][2] == "open-ended"
    assert cashback.y[0].startswith("O2")  # missing title -> offer id


def test_explanation_bar_shows_shares_in_percent():
    explanation = pd.DataFrame({
        S.NEIGHBOR_ID: ["n1", "n2"], S.SIMILARITY: [0.8, 0.2], S.NEIGHBOR_VALUE: [1.0, 1.0],
        S.CONTRIBUTION: [0.8, 0.2], S.SHARE: [0.8, 0.2],
    })  # fmt: skip
    fig = charts.explanation_bar(explanation)
    assert_labelled(fig)
    assert list(fig.data[0].x) == pytest.approx([20.0, 80.0])
    assert "%" in fig.layout.xaxis.title.text


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.recommendations_bar(recs().head(0), COLORS),
        lambda: charts.similar_customers_bar(similar().head(0)),
        lambda: charts.rewards_bar(offers().head(0)),
        lambda: charts.explanation_bar(pd.DataFrame(columns=[S.NEIGHBOR_ID, S.SHARE])),
    ],
)
def test_empty_inputs_give_a_titled_figure_with_a_message(build):
    fig = build()
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert fig.layout.annotations and fig.layout.annotations[0].text
