"""Reward-aware figure builders (dashboard/reward_charts.py) and the pure helpers that feed them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import charts, profile, reward_charts, reward_views
from recsys import schema as S
from recsys.audience import Audience
from recsys.spend import QUALIFY_LIKELY, QUALIFY_STRETCH, QUALIFY_UNKNOWN, QUALIFY_UNLIKELY


# --- hand-made inputs with the core's columns ----------------------------------------------------
def tradeoff() -> pd.DataFrame:
    return pd.DataFrame({
        "reward_boost": [0.0, 0.5, 1.0], "n": [10, 10, 10],
        "ndcg": [0.20, 0.18, 0.10], "offer_coverage": [0.50, 0.70, 1.00],
        S.EXPECTED_REWARD: [10.0, 20.0, 25.0],
    })  # fmt: skip


def members() -> pd.DataFrame:
    """An audience of 5, best first (score_share = score / top score)."""
    scores = np.array([2.0, 1.5, 1.0, 0.5, 0.2])
    return pd.DataFrame({
        S.CUSTOMER_ID: ["007", "C2", "C3", "C4", "C5"], S.RANK: [1, 2, 3, 4, 5],
        S.SCORE: scores, S.SCORE_SHARE: scores / 2.0,
        S.PRODUCT_ID: ["P1"] * 5, S.SEGMENT: ["family", "family", "student", None, "student"],
        S.QUALIFIES: [QUALIFY_LIKELY, QUALIFY_STRETCH, QUALIFY_LIKELY, QUALIFY_UNLIKELY, None],
        S.REWARD_IF_EARNED: [10.0, 20.0, 30.0, 40.0, 50.0],
        S.EXPECTED_REWARD: [10.0, 10.0, 30.0, 4.0, 50.0],
    })  # fmt: skip


def audience() -> Audience:
    offer = pd.Series({S.OFFER_ID: "O1", S.TITLE: "Dining cash", S.PRODUCT_ID: "P1"})
    sizes = pd.DataFrame({"min_score_share": [0.0, 0.5], "customers": [5, 3]})
    return Audience(offer, members(), sizes, {"recent_buyers": 2}, "active")


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


# --- colours -------------------------------------------------------------------------------------
def test_qualification_colours_are_fixed_and_distinct():
    colours = [reward_charts.qualify_color(q) for q in reward_charts.QUALIFY_ORDER]
    assert len(set(colours)) == 4
    assert reward_charts.qualify_color(QUALIFY_UNKNOWN) == charts.UNKNOWN_COLOR
    assert reward_charts.qualify_color(None) == charts.UNKNOWN_COLOR
    assert reward_charts.qualify_color("no such label") == charts.UNKNOWN_COLOR


# --- trade-off -----------------------------------------------------------------------------------
def test_tradeoff_has_ndcg_and_coverage_series_on_two_axes_and_marks_the_boost():
    fig = reward_charts.boost_tradeoff(tradeoff(), chosen=0.5, n=10)
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
    assert not reward_charts.boost_tradeoff(tradeoff()).layout.shapes
    empty = reward_charts.boost_tradeoff(tradeoff().head(0))
    assert not empty.data and "No trade-off" in empty.layout.annotations[0].text


def test_tradeoff_sentence_states_the_cost_per_step_and_at_the_chosen_boost():
    text = reward_views.tradeoff_sentence(tradeoff(), 0.5, 10)
    # 50 -> 100 coverage and 20 -> 10 NDCG over two 0.5 steps: +25 and -5 points per step.
    assert text.startswith("Each 0.5 step of reward boost adds 25.0 points of offer coverage")
    assert "costs 5.00 points of NDCG@10" in text and "0.20 NDCG points per point" in text
    assert "boost 0.5) gives up 2.00 points of NDCG@10 for +20.0 points" in text
    assert "active model" not in reward_views.tradeoff_sentence(tradeoff(), 0.0, 10)


def test_tradeoff_steps_per_step_gain_and_cost():
    steps = reward_views.tradeoff_steps(tradeoff())
    assert steps["step"].tolist() == ["0 → 0.5", "0.5 → 1"]
    assert steps["coverage_gain"].tolist() == pytest.approx([20.0, 30.0])
    assert steps["ndcg_cost"].tolist() == pytest.approx([2.0, 8.0])
    assert steps["cost_per_point"].tolist() == pytest.approx([0.1, 8 / 30])


# --- targeted audience ---------------------------------------------------------------------------
@pytest.mark.parametrize(("top", "min_share", "expected"), [
    (2, None, ["007", "C2"]),
    (None, 0.5, ["007", "C2", "C3"]),  # 1.0 / 2.0 = 0.5 is kept
    (None, 0.0, ["007", "C2", "C3", "C4", "C5"]),
    (0, None, []),
    (99, None, ["007", "C2", "C3", "C4", "C5"]),
])  # fmt: skip
def test_cut_audience_by_rank_or_score(top, min_share, expected):
    cut = profile.cut_audience(audience(), top=top, min_share=min_share)
    assert cut.members[S.CUSTOMER_ID].tolist() == expected
    assert cut.sizes.equals(audience().sizes) and cut.excluded == {"recent_buyers": 2}


def test_audience_cost_if_earned_once_and_expected():
    assert profile.audience_cost(members().head(2)) == (30.0, 20.0)
    assert profile.audience_cost(members().head(0)) == (0.0, 0.0)


def test_score_distribution_splits_targeted_and_left_out_and_marks_the_cutoff():
    fig = reward_charts.audience_score_distribution(members(), 3, cutoff=0.5)
    targeted, left_out = fig.data
    assert targeted.type == "histogram" and fig.layout.barmode == "stack"
    assert targeted.name == "Targeted (3)" and left_out.name == "Left out (2)"
    assert list(targeted.x) == pytest.approx([100.0, 75.0, 50.0])
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


# --- customer explorer ---------------------------------------------------------------------------
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
