"""Data page charts (dashboard/charts/data_charts.py)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts, profile
from tests.chart_inputs import assert_labelled, purchases, rewards


def test_activity_over_time_has_two_axes_with_units():
    monthly = profile.monthly_activity(purchases())
    fig = charts.activity_over_time(monthly)
    assert_labelled(fig)
    assert fig.data[1].yaxis == "y2"
    assert "currency" in fig.layout.yaxis2.title.text


def test_purchases_per_customer_uses_a_log_axis():
    fig = charts.purchases_per_customer(profile.purchases_per_customer(purchases()))
    assert_labelled(fig)
    assert fig.layout.yaxis.type == "log"


def test_purchases_per_customer_counts_customers_per_number_of_lines():
    frame = pd.DataFrame({"customer_id": list("aaabbcd"), "product_id": list("xyzxyxx")})
    counts = profile.purchases_per_customer(frame)
    assert counts.to_dict("list") == {"n_purchases": [1, 2, 3], "n_customers": [2, 1, 1]}
    fig = charts.purchases_per_customer(counts)
    assert list(fig.data[0].x) == [1, 2, 3] and list(fig.data[0].y) == [2, 1, 1]


def test_offers_timeline_draws_open_ended_windows_to_the_edge():
    fig = charts.offers_timeline(rewards(), as_of="2026-04-01")
    assert_labelled(fig)
    assert {t.name for t in fig.data} == {"points_multiplier", "cashback", "discount_pct"}
    cashback = next(t for t in fig.data if t.name == "cashback")
    assert cashback.customdata[0][1] == "open-ended"
    assert cashback.x[0] > 0  # a visible bar despite the missing end date
    assert fig.layout.shapes[0].x0 == pd.Timestamp("2026-04-01")


def test_offers_by_type_stacks_status():
    fig = charts.offers_by_type(rewards())
    assert_labelled(fig)
    assert {t.name for t in fig.data} == {"active", "expired"}
    assert fig.layout.barmode == "stack"


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.offers_timeline(None),
        lambda: charts.offers_by_type(rewards().head(0)),
        lambda: charts.activity_over_time(profile.monthly_activity(purchases().head(0))),
        lambda: charts.purchases_per_customer(profile.purchases_per_customer(purchases().head(0))),
        lambda: charts.top_products_bar(pd.DataFrame()),
        lambda: charts.category_mix(pd.DataFrame()),
    ],
)
def test_empty_inputs_give_a_titled_figure_with_a_message(build):
    fig = build()
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert fig.layout.annotations and fig.layout.annotations[0].text
