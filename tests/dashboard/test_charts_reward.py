"""Reward-aware charts (dashboard/charts/reward_charts.py): spend-realism colours, reach per
offer, the targeted audience and expected rewards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts, profile
from dashboard.charts import reward_charts
from recsys.data import schema as S
from recsys.rewards.offer_book import (
    QUALIFY_LIKELY,
    QUALIFY_STRETCH,
    QUALIFY_UNKNOWN,
    QUALIFY_UNLIKELY,
)
from tests.chart_inputs import assert_labelled, members, rewards


def offers() -> pd.DataFrame:
    return pd.DataFrame({
        S.RANK: [1, 2, 3], S.PRODUCT_ID: ["P1", "P2", "P3"],
        S.PRODUCT_NAME: ["Flight", "Bistro", None],
        S.OFFER_ID: ["O1", "O2", "O3"], S.OFFER_TITLE: ["3x points on travel", None, "=cmd"],
        S.REWARD_TYPE: ["points_multiplier", "cashback", "discount_pct"],
        S.REWARD_VALUE: [3.0, 25.0, 10.0], S.MIN_SPEND: [0.0, 100.0, np.nan],
        S.QUALIFIES: [QUALIFY_LIKELY, QUALIFY_STRETCH, QUALIFY_UNLIKELY],
        S.REWARD_IF_EARNED: [3.0, 25.0, 8.0], S.EXPECTED_REWARD: [3.0, 12.5, 0.8],
    })  # fmt: skip


def bars(fig: go.Figure) -> dict[str, list]:
    return {t.name: list(t.x) for t in fig.data}


def test_qualification_colours_are_fixed_and_distinct():
    colours = [reward_charts.qualify_color(q) for q in reward_charts.QUALIFY_ORDER]
    assert len(set(colours)) == 4
    assert reward_charts.qualify_color(QUALIFY_UNKNOWN) == charts.UNKNOWN_COLOR
    assert reward_charts.qualify_color(None) == charts.UNKNOWN_COLOR
    assert reward_charts.qualify_color("no such label") == charts.UNKNOWN_COLOR


def test_audience_bar_counts_customers_per_offer():
    audience = profile.reach_per_offer(pd.Series({"O1": 2, "O2": 1}), rewards(), n_customers=4)
    fig = charts.audience_bar(audience)
    assert_labelled(fig)
    assert "customers" in fig.layout.xaxis.title.text


def test_score_distribution_splits_targeted_and_left_out_and_marks_the_cutoff():
    fig = reward_charts.audience_score_distribution(members(), 3, cutoff=0.5)
    targeted, left_out = fig.data
    assert targeted.type == "bar" and fig.layout.barmode == "stack"
    assert targeted.name == "Targeted (3)" and left_out.name == "Left out (2)"
    # Binned before plotting: 40 bins of 2.5 points, the top score (100 %) in the last one.
    assert len(targeted.x) == len(targeted.y) == 40 and targeted.width == 2.5
    counts = dict(zip(targeted.x, targeted.y, strict=True))
    assert {x: c for x, c in counts.items() if c} == {98.75: 1, 76.25: 1, 51.25: 1}
    assert sum(left_out.y) == 2
    assert targeted.marker.color == reward_charts.TARGETED_COLOR
    assert [shape.x0 for shape in fig.layout.shapes] == [50.0]
    assert "% of the best customer's score" in fig.layout.xaxis.title.text


def test_score_distribution_cutoff_defaults_to_the_last_targeted_score():
    fig = reward_charts.audience_score_distribution(members(), 2)
    assert fig.layout.shapes[0].x0 == pytest.approx(75.0)
    assert "cut-off 75%" in fig.layout.annotations[0].text
    empty = reward_charts.audience_score_distribution(members().head(0), 0)
    assert not empty.data


def test_segment_mix_stacks_qualification_per_segment():
    fig = reward_charts.audience_segment_mix(members())
    assert fig.layout.barmode == "stack"
    names = [t.name for t in fig.data]
    assert names == [QUALIFY_LIKELY, QUALIFY_STRETCH, QUALIFY_UNLIKELY, QUALIFY_UNKNOWN]
    for trace in fig.data:
        assert trace.marker.color == reward_charts.qualify_color(trace.name)
        assert "cost if each earns it once" in trace.hovertemplate
    # Segments ordered by size (largest on top), a missing segment labelled.
    assert list(fig.layout.yaxis.categoryarray) == [reward_charts.NO_SEGMENT, "family", "student"]
    likely = dict(zip(fig.data[0].y, fig.data[0].x, strict=True))
    assert likely["family"] == 1 and likely["student"] == 1
    total = sum(np.nansum(np.asarray(t.x, dtype=float)) for t in fig.data)
    assert total == 5


def test_segment_mix_of_nobody_is_an_empty_figure():
    fig = reward_charts.audience_segment_mix(members().head(0))
    assert "Nobody is targeted" in fig.layout.annotations[0].text


def test_expected_rewards_bar_is_in_currency_and_coloured_by_qualification():
    fig = reward_charts.expected_rewards_bar(offers())
    assert bars(fig) == {QUALIFY_LIKELY: [3.0], QUALIFY_STRETCH: [12.5], QUALIFY_UNLIKELY: [0.8]}
    for trace in fig.data:
        assert trace.marker.color == reward_charts.qualify_color(trace.name)
        assert "min spend" in trace.hovertemplate and "if earned" in trace.hovertemplate
    assert "currency" in fig.layout.xaxis.title.text
    # Best first on top: the y order is reversed; a missing title falls back to the offer id.
    labels = list(fig.layout.yaxis.categoryarray)
    assert labels[-1].startswith("3x points on travel") and labels[1].startswith("O2")
    assert fig.layout.legend.title.text == "Reaches min spend?"


def test_expected_rewards_bar_empty():
    fig = reward_charts.expected_rewards_bar(offers().head(0))
    assert not fig.data


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.audience_bar(pd.DataFrame()),
    ],
)
def test_empty_inputs_give_a_titled_figure_with_a_message(build):
    fig = build()
    assert isinstance(fig, go.Figure)
    assert fig.layout.title.text
    assert fig.layout.annotations and fig.layout.annotations[0].text


def long_offers() -> pd.DataFrame:
    """Offers whose titles only differ after the first 40 characters (the product at the end)."""
    title = "Spend-and-earn bonus on your everyday purchases at "
    return pd.DataFrame({
        S.OFFER_ID: ["O101", "O102", "O103"],
        S.TITLE: [title + "Cloud storage", title + "Sunglasses", title + "everything"],
        S.PRODUCT_ID: ["P138", "P069", None], S.CATEGORY: [None, None, "dining"],
        S.REWARD_TYPE: ["cashback"] * 3, S.REWARD_VALUE: [5.0, 5.0, 5.0],
        S.START_DATE: pd.to_datetime(["2026-01-01"] * 3),
        S.END_DATE: pd.to_datetime(["2026-06-30"] * 3),
        S.SEGMENT: [None] * 3, "status": ["active"] * 3, "audience": [30, 20, 10],
    })  # fmt: skip


@pytest.mark.parametrize(
    "build",
    [lambda o: charts.audience_bar(o), lambda o: charts.offers_timeline(o)],
    ids=["reach per offer", "validity windows"],
)
def test_long_offer_labels_keep_the_offer_and_product_and_hover_the_full_text(build):
    fig = build(long_offers())
    labels = [y for trace in fig.data for y in trace.y]
    assert len(set(labels)) == 3 and all(len(label) <= 44 for label in labels)
    by_offer = {label.split(" · ")[0]: label for label in labels}
    assert by_offer["O101"].startswith("O101 · P138 · Spend")
    assert by_offer["O103"].startswith("O103 · category dining")
    assert by_offer["O102"].endswith("Sunglasses")  # cut in the middle, the end stays
    full = {row[-1] for trace in fig.data for row in trace.customdata}
    assert "O102 · P069 · Spend-and-earn bonus on your everyday purchases at Sunglasses" in full
    assert "%{customdata" in fig.data[0].hovertemplate.split("<br>")[0]
    assert fig.layout.yaxis.automargin


def test_a_small_targeted_audience_stays_visible_beside_a_large_one_left_out():
    share = np.r_[np.linspace(1.0, 0.8, 500), np.linspace(0.79, 0.01, 30_000)]
    many = pd.DataFrame({S.SCORE_SHARE: share})
    fig = reward_charts.audience_score_distribution(many, 500)
    assert fig.layout.yaxis.type == "log" and "log scale" in fig.layout.yaxis.title.text
    assert [t.name for t in fig.data] == ["Targeted (500)", "Left out (30,000)"]
    # The figure carries one count per bin, not one score per customer.
    assert [len(t.y) for t in fig.data] == [40, 40]
    assert [sum(t.y) for t in fig.data] == [500, 30_000]


def test_reach_per_customer_counts_customers_with_no_offer_too():
    table = pd.DataFrame({S.N_OFFERS: [1, 2, 4], S.CUSTOMERS: [50, 20, 5]})
    fig = reward_charts.reach_per_customer(table, n_customers=100, n=10)
    (bars,) = fig.data
    assert list(bars.x) == [0, 1, 2, 4] and list(bars.y) == [25, 50, 20, 5]
    assert list(bars.customdata) == pytest.approx([25.0, 50.0, 20.0, 5.0])  # % of customers
    assert bars.marker.color[0] == reward_charts.LEFT_OUT_COLOR
    assert fig.layout.yaxis.type == "log" and "top 10" in fig.layout.title.text
    assert "count" in fig.layout.xaxis.title.text
    nobody = reward_charts.reach_per_customer(table.head(0), n_customers=3, n=5)
    assert list(nobody.data[0].y) == [3]
    assert not reward_charts.reach_per_customer(table.head(0), n_customers=0, n=5).data
