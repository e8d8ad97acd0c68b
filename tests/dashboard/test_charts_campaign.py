"""Campaign charts (dashboard/charts/campaign_charts.py): allocation against budget, offers per
customer, the lift with its interval, the propensity's reliability; known inputs and empty ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.charts import campaign_charts as charts
from recsys.data import schema as S
from tests.chart_inputs import assert_labelled


def plan_offers() -> pd.DataFrame:
    return pd.DataFrame({
        S.OFFER_ID: ["O1", "O2", "O3"], S.RECIPIENTS: [10, 4, 0],
        S.EXPECTED_COST: [95.5, 20.0, 0.0], S.BUDGET: [100.0, np.inf, 50.0],
    })  # fmt: skip


def readout() -> pd.DataFrame:
    rows = []
    for offer, lift, low, high in (("O1", 0.05, 0.01, 0.09), (S.ALL_OFFERS, 0.03, -0.01, 0.07)):
        rows.append({S.OFFER_ID: offer, S.METRIC: S.CONVERTED, S.LIFT: lift, S.LIFT_LOW: low,
                     S.LIFT_HIGH: high})  # fmt: skip
        rows.append({S.OFFER_ID: offer, S.METRIC: S.SPEND, S.LIFT: 9.0, S.LIFT_LOW: 1.0,
                     S.LIFT_HIGH: 20.0})  # fmt: skip
    return pd.DataFrame(rows)


def reliability() -> pd.DataFrame:
    return pd.DataFrame({S.MEAN_PREDICTED: [0.02, 0.10, 0.30], S.OBSERVED_RATE: [0.03, 0.08, 0.35],
                         S.COUNT: [500, 200, 50]})  # fmt: skip


def test_allocation_vs_budget_bars_the_cost_and_marks_only_finite_budgets():
    fig = charts.allocation_vs_budget(plan_offers())
    assert_labelled(fig)
    bars, marks = fig.data
    assert bars.type == "bar" and list(bars.x) == ["O1", "O2", "O3"]
    assert list(bars.y) == [95.5, 20.0, 0.0] and list(bars.customdata) == [10, 4, 0]
    assert marks.name == "Budget" and marks.y[0] == 100.0 and marks.y[2] == 50.0
    assert marks.marker.color == charts.BUDGET_COLOR  # open symbols draw in the marker colour
    assert np.isnan(marks.y[1])  # no budget: no marker (an infinite one would break the axis)
    assert "(currency)" in fig.layout.yaxis.title.text and "(currency)" in bars.hovertemplate
    assert fig.layout.legend.orientation == "h"  # above the plot, not beside a half-page chart


def test_offers_per_customer_counts_on_both_axes_with_whole_ticks():
    table = pd.DataFrame({S.N_OFFERS: [1, 2], S.CUSTOMERS: [300, 1700]})
    fig = charts.offers_per_customer(table)
    assert_labelled(fig)
    assert list(fig.data[0].x) == [1, 2] and list(fig.data[0].y) == [300, 1700]
    assert fig.layout.xaxis.dtick == 1
    assert "(count)" in fig.layout.xaxis.title.text and "(count)" in fig.layout.yaxis.title.text


def test_lift_chart_shows_conversion_lift_in_points_with_asymmetric_intervals():
    fig = charts.lift_chart(readout())
    assert_labelled(fig)
    (bar,) = fig.data
    assert list(bar.x) == ["O1", S.ALL_OFFERS]  # the spend rows are not mixed in
    assert list(bar.y) == pytest.approx([5.0, 3.0])
    assert list(bar.error_y.array) == pytest.approx([4.0, 4.0])  # high - lift, in points
    assert list(bar.error_y.arrayminus) == pytest.approx([4.0, 4.0])
    assert fig.layout.shapes[0].y0 == 0  # the no-effect line
    assert "percentage points" in fig.layout.yaxis.title.text and "95 %" in fig.layout.title.text


def test_reliability_chart_plots_predicted_against_observed_over_the_diagonal():
    fig = charts.reliability_chart(reliability())
    assert_labelled(fig)
    diagonal, curve = fig.data
    assert list(diagonal.x) == list(diagonal.y) == [0, pytest.approx(0.35)]
    assert list(curve.x) == [0.02, 0.10, 0.30] and list(curve.customdata) == [500, 200, 50]
    assert fig.layout.xaxis.tickformat == ".0%" and "(share)" in fig.layout.yaxis.title.text


@pytest.mark.parametrize(
    ("build", "frame"),
    [
        (charts.allocation_vs_budget, plan_offers().iloc[:0]),
        (charts.offers_per_customer, pd.DataFrame({S.N_OFFERS: [], S.CUSTOMERS: []})),
        (charts.lift_chart, readout().iloc[:0]),
        (charts.reliability_chart, reliability().iloc[:0]),
    ],
)
def test_empty_inputs_give_a_labelled_figure_without_data(build, frame):
    fig = build(frame)
    assert fig.layout.title.text and fig.layout.yaxis.title.text
    assert all(len(t.x) == 0 for t in fig.data if t.name != "Perfect calibration")
    for trace in fig.data:  # nothing NaN that plotly would draw as a broken line
        if trace.name == "Perfect calibration":
            assert all(np.isfinite(v) for v in trace.x)
